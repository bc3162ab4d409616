"""When a clock reminds, and at what level: a pure function of the clock, its rule and the settings.

Hour and minute limits remind by the hour, at the rule's offsets before the due (按小时提醒). Day, month and
working-day limits remind by the day: on the day that many days before the last day, at `day_reminder_time`
(按日提醒). Quiet hours hold day-based reminders back to the morning; hour limits and custody limits are never
held back. Then the due moment itself (超期), then repeats every `overdue.every`, escalated to the rule's roles.
With `overdue_digest` in the settings the repeats stop after `overdue_digest.after` of them: from then on the clock
is listed in the daily overdue digest (qixian.alerting.digest) instead, once a day, however long it stays overdue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from qixian.engine.clocks import Clock
from qixian.legaltime.periods import Duration, Unit, add_months
from qixian.rulebook.model import Reminder, Rule, Settings


class Step(NamedTuple):  # a named tuple: made for every clock replayed, at a fifth of a frozen dataclass's cost
    at: datetime
    level: str  # notice | warning | overdue
    label: str  # 期满前1日 / 期限过半时 / 期满 / 超期第2次
    escalate: tuple[str, ...] = ()
    number: int = 0  # the step's place in the plan: the same step always has the same number


def plan(clock: Clock, settings: Settings, *, repeats: int = 0) -> list[Step]:
    """The steps of an open clock's reminders in time order (with `repeats` overdue repeats after the due)."""
    if clock.outcome is not None or clock.due is None:
        return []
    return steps(clock.rule, clock.deadline.limit.unit, clock.started, clock.due, settings, repeats=repeats)


def steps(rule: Rule, unit: Unit, started: datetime, due: datetime, settings: Settings, *, repeats: int = 0) -> list[Step]:
    """The reminder steps of a clock of `rule` counted in `unit` (a lead clock counts in its target's unit)."""
    zone, morning, quiet = _reading(settings, unit)
    due, start = due.astimezone(zone), started.astimezone(zone)
    by_hour = unit.exact
    held = quiet if not (by_hour or rule.custody) else None
    times = []
    for reminder in rule.remind:
        at = _when(reminder, start, due, by_hour, morning)
        at = held(at) if held and at is not None else at
        if at is not None and start < at < due:  # a reminder held past the due is covered by the due step
            times.append((at, _label(reminder)))
    times.sort()
    result = [Step(at, "warning" if i == len(times) - 1 else "notice", label, (), i) for i, (at, label) in enumerate(times)]
    result.append(Step(due, "overdue", "期满", rule.overdue.escalate, len(result)))
    every = rule.overdue.every
    if every is not None:
        digest = settings.overdue_digest
        for n in range(1, (min(repeats, digest["after"]) if digest else repeats) + 1):
            at = _after(due, every, n)
            result.append(Step(held(at) if held else at, "overdue", f"超期第{n + 1}次提醒", rule.overdue.escalate, len(result)))
    return result


def reached(rule: Rule, unit: Unit, started: datetime, due: datetime, settings: Settings, now: datetime) -> tuple[list[Step], Step | None]:
    """(the steps whose time has come by `now`, the next step after `now`), overdue repeats included."""
    repeats = 0
    every = rule.overdue.every
    if every is not None and now >= due:  # a scan exactly at the due must still schedule the first repeat
        span = _after(due, every, 1) - due
        repeats = int((now - due) / span) + 1
    planned = steps(rule, unit, started, due, settings, repeats=repeats)
    done = [s for s in planned if s.at <= now]
    later = next((s for s in planned if s.at > now), None)
    return done, later


def folded_at(rule: Rule, unit: Unit, started: datetime, due: datetime, settings: Settings) -> datetime | None:
    """When an overdue clock moves into the daily overdue digest: the time of its last repeat (None: it never does,
    because the settings have no overdue_digest or the rule does not repeat)."""
    digest = settings.overdue_digest
    if digest is None or rule.overdue.every is None:
        return None
    return steps(rule, unit, started, due, settings, repeats=digest["after"])[-1].at


def warning_of(planned: list[Step]) -> datetime | None:
    """When a clock's warning window opens (橙 on the dashboard): the time of its plan's warning step, the last
    reminder before the due; None for a plan without one."""
    return next((step.at for step in planned if step.level == "warning"), None)


def next_step(clock: Clock, settings: Settings, after: datetime | None = None) -> Step | None:
    """The first step strictly after `after` (default: the first step of the plan)."""
    for step in plan(clock, settings, repeats=0):
        if after is None or step.at > after:
            return step
    return None


def _when(reminder: Reminder, start: datetime, due: datetime, by_hour: bool, morning: time) -> datetime | None:
    if reminder.share is not None:
        return start + (due - start) * reminder.share
    offset = reminder.offset
    assert offset is not None, "a reminder has an offset or a share (rulebook.load._reminder)"
    if offset.unit.exact or by_hour:
        hours = offset.amount if offset.unit is Unit.HOURS else offset.amount / 60 if offset.unit is Unit.MINUTES else offset.amount * 24
        return due - timedelta(hours=hours)
    last_day = (due - timedelta(minutes=1)).date()  # the day whose 24:00 is the due
    day = add_months(last_day, -offset.amount) if offset.unit is Unit.MONTHS else last_day - timedelta(days=offset.amount)
    return datetime.combine(day, morning, tzinfo=due.tzinfo)


def _after(due: datetime, every: Duration, n: int) -> datetime:
    if every.unit.exact:
        return due + (timedelta(hours=every.amount) if every.unit is Unit.HOURS else timedelta(minutes=every.amount)) * n
    return due + timedelta(days=every.amount * n)


@lru_cache(maxsize=64)
def _reading(settings: Settings, unit: Unit) -> tuple[ZoneInfo, time, Callable | None]:
    """(zone, the day-reminder time, the quiet-hours hold) read from the settings once, not per clock."""
    return ZoneInfo(settings.zone), time.fromisoformat(settings.day_reminder_time), _quiet(settings, unit)


@lru_cache(maxsize=1024)
def _label(reminder: Reminder) -> str:
    return str(reminder)


def _quiet(settings: Settings, unit: Unit):
    """A function moving a moment inside quiet hours to their end, if quiet hours apply to this limit's unit."""
    quiet = settings.quiet_hours
    if not quiet or unit.value not in quiet.get("applies_to", ()):
        return None
    begin, end = time.fromisoformat(quiet["from"]), time.fromisoformat(quiet["to"])

    def hold(moment: datetime) -> datetime:
        now = moment.time()
        inside = (begin <= now or now < end) if begin > end else (begin <= now < end)
        if not inside:
            return moment
        day = moment.date() + timedelta(days=1) if now >= begin and begin > end else moment.date()
        return datetime.combine(day, end, tzinfo=moment.tzinfo)

    return hold
