"""Recurring clocks (rule-language §9, `every:`): from a start event, one clock per period until a cancel event.

Part of the pure clock engine: `clocks.replay` hands a recurring rule's events here, with the horizon `until` (the
latest moment periods are opened for; the store passes its `now`). Plain Python, nothing read off the wall.

Periods are calendar periods (`period: day | week | month`, weeks Monday to Sunday, due at a moment inside each), or
intervals counted from the start event (`interval: 15 days`, or the interval the start event gives). The rules, as
rules/README.md states them for legal-affairs staff:
- the first period is the one the start event falls in, unless its due has passed by then (then the next one);
- a calendar due on a rest day moves to the same time of the next working day (a working standard does not fix a
  due on a holiday), unless the rule says `holiday_roll: false`; with the roll, a daily duty has no period on rest
  days; an interval's due is counted as a limit of k × the interval from the start, rolled like any day limit;
- a stop event meets the earliest period not yet met whose window (its start to the later of its end and its due)
  holds it, or the period its data.period names; after the due it is met late;
- a cancel event ends the series: periods still running are cancelled, none opens after it; a period whose due has
  passed unmet stays overdue (a missed duty is not wiped out by lifting the listing) until a record for it arrives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from qixian.legaltime.deadlines import Deadline, compute_deadline, provisional_step
from qixian.legaltime.localtime import SHANGHAI, as_local, describe_day, display, moment
from qixian.legaltime.periods import Duration, Unit, add_months, parse_duration

if TYPE_CHECKING:
    from qixian.legaltime.calendar import LegalCalendar
    from qixian.rulebook.model import Every, Rule

PERIOD_NAMES = {"day": "日", "week": "周", "month": "月"}
PERIOD_LIMITS = {"day": Duration(1, Unit.DAYS), "week": Duration(7, Unit.DAYS), "month": Duration(1, Unit.MONTHS)}
STANDARD_ROLL = "工作规范规定的期满时刻遇休息日的，顺延至其后第一个工作日的同一时刻"


@dataclass(frozen=True)
class Period:
    number: int  # 1 for the first period of the series
    label: str  # 2026-W40, 2026-10, 2026-10-08, 第3期
    begins: datetime
    ends: datetime  # the next period's beginning
    deadline: Deadline

    @property
    def window_end(self) -> datetime:
        """Until when a record still belongs to this period (a due moved past the period's end extends it)."""
        assert self.deadline.due is not None, _NEVER_PAUSED
        return max(self.ends, self.deadline.due)


_NEVER_PAUSED = "a period is counted without pauses (recurring rules have no pause or defer steps: schema), so it has a due"


def _every(rule: Rule) -> Every:
    assert rule.every is not None, "only a recurring rule (`every:`) has periods: RulePack.is_recurring chose it"
    return rule.every


def _zone(start: datetime) -> tzinfo:
    assert start.tzinfo is not None, "event times are aware: parse_local and the store give their zone"
    return start.tzinfo


def period_label(every: Every, begins: datetime, number: int) -> str:
    """The name of a period as officers read it: the day, ISO week or month; 第N期 for an interval."""
    day = begins.date()
    if every.period == "day":
        return day.isoformat()
    if every.period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if every.period == "month":
        return f"{day.year}-{day.month:02d}"
    return f"第{number}期"


def periods(rule: Rule, start: datetime, until: datetime, calendar: LegalCalendar, interval: Duration | None = None) -> Iterator[Period]:
    """The periods of a series started at `start`, those beginning by `until`, in order."""
    zone, every = _zone(start), _every(rule)
    period = every.period
    if period is None:
        interval = interval or every.interval
        assert interval is not None, "an interval series runs at the rule's interval or the start event's (checked at ingest: interval_of)"
        yield from _intervals(rule, start, until, calendar, interval)
        return
    first = _period_start(period, as_local(start, zone).date())
    number = 0
    while True:
        begin_day = first
        first = _next_start(period, first)
        begins = datetime.combine(begin_day, datetime.min.time(), zone)
        if begins > until:
            return
        if period == "day" and rule.holiday_roll and calendar.is_rest_day(begin_day, assumed=set()):
            continue  # a daily duty of working days: no period on a rest day
        deadline = _calendar_due(rule, every, period, begin_day, start, calendar)
        assert deadline.due is not None, _NEVER_PAUSED
        if deadline.due <= start:
            continue  # the duty began after this period's due: its first period is the next one
        number += 1
        ends = datetime.combine(first, datetime.min.time(), zone)
        yield Period(number, period_label(every, begins, number), max(begins, start), ends, deadline)


def _period_start(period: str, day: date) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _next_start(period: str, day: date) -> date:
    if period == "week":
        return day + timedelta(days=7)
    if period == "month":
        return add_months(day, 1)
    return day + timedelta(days=1)


def _calendar_due(rule: Rule, every: Every, period: str, begin_day: date, start: datetime, calendar: LegalCalendar) -> Deadline:
    """The due of the calendar `period` (every.period) beginning on `begin_day`."""
    zone = _zone(start)
    if period == "day":
        due_day = begin_day
    else:
        assert every.due_day is not None, "a week's or month's due names its day (schema.parse_period_due)"
        if period == "week":
            due_day = begin_day + timedelta(days=every.due_day)
        else:
            last = _next_start(period, begin_day) - timedelta(days=1)  # the month's last day (`last`, stored as -1)
            due_day = last if every.due_day == -1 else begin_day.replace(day=every.due_day)
    name = PERIOD_NAMES[period]
    missing: set[int] = set()
    steps = [
        f"周期性工作：{rule.name}，{every}，自 {moment(as_local(start, zone))} 起每{name}一个计时。",
        f"本{name}：{period_label(every, datetime.combine(begin_day, datetime.min.time(), zone), 0)}"
        f"（{begin_day} 至 {_next_start(period, begin_day) - timedelta(days=1)}），"
        f"期满时刻 {_shown(due_day, every.due_minute, zone)}。",
    ]
    if rule.holiday_roll and calendar.is_rest_day(due_day, assumed=missing):
        moved = due_day + timedelta(days=1)
        while calendar.is_rest_day(moved, assumed=missing):
            moved += timedelta(days=1)
        reasons = "、".join(dict.fromkeys(calendar.status(due_day + timedelta(days=i), assumed=missing).reason for i in range((moved - due_day).days)))
        steps.append(f"{describe_day(due_day)}为休息日（{reasons}），{STANDARD_ROLL}：{describe_day(moved)}。")
        due_day = moved
    due = datetime.combine(due_day, datetime.min.time(), zone) + timedelta(minutes=every.due_minute)
    steps.append(f"期满：{display(due, zone)}。")
    if missing:
        steps.append(provisional_step(calendar, missing, "该年只把周六、周日作为休息日"))
    return Deadline(
        start=start,
        limit=PERIOD_LIMITS[period],
        custody=rule.custody,
        due=due,
        provisional=bool(missing),
        paused=False,
        explanation=tuple(steps),
        missing_years=tuple(sorted(missing)),
        zone=zone,
    )


def _shown(day: date, minute: int, zone: tzinfo) -> str:
    return display(datetime.combine(day, datetime.min.time(), zone) + timedelta(minutes=minute), zone)


def _intervals(rule: Rule, start: datetime, until: datetime, calendar: LegalCalendar, interval: Duration) -> Iterator[Period]:
    """Periods of `interval` counted from `start`: period k is due as a limit of k × interval would be."""
    begins, number, zone = start, 0, _zone(start)
    while begins <= until:
        number += 1
        whole = compute_deadline(start, Duration(interval.amount * number, interval.unit), calendar, custody=rule.custody, zone=zone, roll=rule.holiday_roll)
        head = (
            f"周期性工作：{rule.name}，每{interval}一次，自 {moment(as_local(start, zone))} 起算；"
            f"第{number}期为起算后的第 {interval.amount * number}{interval.unit.label}。"
        )
        explanation = (head, *as_working_standard(rule, whole.explanation))
        deadline = Deadline(
            start=begins,
            limit=whole.limit,
            custody=whole.custody,
            due=whole.due,
            provisional=whole.provisional,
            paused=False,
            explanation=explanation,
            missing_years=whole.missing_years,
            zone=whole.zone,
        )
        assert whole.due is not None, _NEVER_PAUSED
        yield Period(number, f"第{number}期", begins, whole.due, deadline)
        begins = whole.due


def interval_of(rule: Rule, start_data: Mapping[str, Any]) -> Duration | None:
    """The interval a series runs at: the rule's, or the one its start event gives (checked at ingest)."""
    every = _every(rule)
    if every.interval_field is None:
        return every.interval
    return parse_duration(start_data[every.interval_field])


def as_working_standard(rule: Rule, explanation: tuple[str, ...]) -> tuple[str, ...]:
    """The explanation of a working standard's due: the day-counting steps say the standard borrows the statutory way
    of counting, instead of citing the statute as if it applied."""
    if not rule.working_standard:
        return explanation
    basis = next(b for b in rule.basis)
    cited = f"（{basis.heading}{basis.cite}参照法定期间的计算方法）"
    return tuple(_strip_statute(step, cited) for step in explanation)


def _strip_statute(step: str, cited: str) -> str:
    for marker in ("（刑诉法", "（行政案件程序规定"):
        at = step.find(marker)
        if at != -1:
            close = step.find("）", at)
            step = step[:at] + cited + step[close + 1 :]
    return step


def next_period_start(rule: Rule, started: datetime, due: datetime, calendar: LegalCalendar, zone: tzinfo | None = None) -> datetime:
    """When the period after a stored one of `rule` begins (its start and due as stored; naive times are UTC)."""
    period = _every(rule).period
    started, due = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (started, due))
    if period is None:
        return due
    local = as_local(started, zone or SHANGHAI)
    following = _next_start(period, _period_start(period, local.date()))
    while period == "day" and rule.holiday_roll and calendar.is_rest_day(following, assumed=set()):
        following += timedelta(days=1)  # a daily duty of working days: the next period is the next working day
    return datetime.combine(following, datetime.min.time(), local.tzinfo)
