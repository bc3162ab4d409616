"""Due times as Chinese procedural law counts them, each with an explanation a legal officer can check by hand.

The rules (rules/README.md, 期间计算规则; 刑诉法第一百零五条, 行政案件程序规定第三十五条, 最高法解释第二百零二条):
- minutes and hours run from the start instant, to the minute, and are never rolled for holidays;
- days and months exclude the start day and end at 24:00; a last day that is a rest day rolls to the next
  working day, except for a person in custody (在押、被限制人身自由);
- working days count only working days (make-up Saturdays and Sundays count) and never roll;
- extensions chain on the unrolled due (`by` adds, `to` replaces the total from the start); the roll is
  applied once, to the final date; an extension approved at or after the due is an anomaly, not applied;
- pauses shift the due: exactly for minute/hour limits, by whole calendar days (working days for working-day
  limits) between the pause date and the resume date otherwise; an open pause leaves no due;
- a restart re-anchors the clock and drops the dated extensions and pauses before it;
- a deferred pause (期限自……之日起计算, e.g. from the day identity is established) leaves no due while it lasts and
  ends in a restart: the period is counted afresh from its end, and nothing before it counts;
- where the calendar lacks a year the result is provisional: the earliest possible date, no roll, and only
  weekends as rest days in that year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Literal

from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.localtime import SHANGHAI, as_local, describe_day, display, end_of_day, moment
from qixian.legaltime.periods import Duration, Unit, add_months, last_day_of_month

ROLL_BASIS = "期间的最后一日为节假日的，以节假日后的第一日为期满日期（刑诉法第一百零五条第四款；行政案件程序规定第三十五条）"
CUSTODY_BASIS = (
    "但犯罪嫌疑人、被告人在押或违法行为人被限制人身自由的期间，应当至期满之日为止，不得因节假日而延长"
    "（刑诉法第一百零五条第四款但书；行政案件程序规定第三十五条但书）"
)
START_BASIS = "期间开始的时和日不算在期间以内（刑诉法第一百零五条第二款；行政案件程序规定第三十五条）"


class DeadlineError(ValueError):
    """Inputs that cannot describe one clock (e.g. an extension in hours for a limit in days)."""


@dataclass(frozen=True, slots=True)
class Extension:
    amount: Duration
    mode: Literal["by", "to"] = "by"  # by: adds to the limit; to: replaces the total, counted from the start
    at: datetime | None = None  # when it was approved; None: taken as approved in time
    note: str = ""


@dataclass(frozen=True, slots=True)
class Pause:
    start: datetime
    end: datetime | None = None  # None: not resumed yet
    note: str = ""
    deferred: bool = False  # the period waits to be counted afresh from `end` (a deferred start, see Restart)


@dataclass(frozen=True, slots=True)
class Restart:
    at: datetime
    note: str = ""
    deferred: bool = False  # the period is counted from this day (期限自……之日起计算), not counted again


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: Literal["late_extension", "pause_after_due", "late_restart", "restart_before_start", "extension_beyond_times", "extension_over_limit"]
    message: str


@dataclass(frozen=True, slots=True)
class Deadline:
    start: datetime  # the anchor in force (the last restart, if any)
    limit: Duration
    custody: bool
    due: datetime | None  # the exact instant; None while paused
    provisional: bool
    paused: bool
    explanation: tuple[str, ...]
    anomalies: tuple[Anomaly, ...] = ()
    missing_years: tuple[int, ...] = ()
    zone: tzinfo = field(default=SHANGHAI, repr=False, compare=False)

    @property
    def due_display(self) -> str | None:
        return None if self.due is None else display(self.due, self.zone)

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "limit": str(self.limit),
            "unit": self.limit.unit.value,
            "custody": self.custody,
            "due": None if self.due is None else self.due.isoformat(),
            "due_display": self.due_display,
            "provisional": self.provisional,
            "paused": self.paused,
            "missing_years": list(self.missing_years),
            "explanation": list(self.explanation),
            "anomalies": [{"kind": a.kind, "message": a.message} for a in self.anomalies],
        }


def compute_deadline(
    start: datetime,
    limit: Duration,
    calendar: LegalCalendar,
    *,
    custody: bool = False,
    extensions: Iterable[Extension] = (),
    pauses: Iterable[Pause] = (),
    restarts: Iterable[Restart] = (),
    zone: tzinfo = SHANGHAI,
    roll: bool = True,
) -> Deadline:
    """The due time of one clock. `custody` (or `roll=False`, for periods that by their own rule never roll,
    such as a freeze) keeps a last day that is a rest day. Raises DeadlineError for inconsistent inputs; never
    CalendarGap (a missing year makes the answer provisional instead)."""
    return _computed(start, limit, calendar, custody, tuple(extensions), tuple(pauses), tuple(restarts), zone, roll)


@lru_cache(maxsize=4096)  # a pure function asked again and again: rules sharing a start event, lead rules' targets
def _computed(start, limit, calendar, custody, extensions, pauses, restarts, zone, roll) -> Deadline:
    return _Reckoning(limit, calendar, custody, zone, roll).run(start, extensions, pauses, restarts)


def count_back(target: Deadline, before: Duration) -> Deadline:
    """A lead deadline: `before` ahead of `target`'s due (提前量, e.g. 届满七日前), counted back without a roll.
    Day-based: the same number of calendar days before the last day; hour-based: exactly `before` earlier."""
    if target.due is None:
        return replace(target, explanation=(*target.explanation, "提前量：被引用的期限暂停中，暂无期满时间。"))
    if before.unit.exact or target.limit.unit.exact:
        due = target.due - (_exact(before) if before.unit.exact else timedelta(days=before.amount))
    else:
        last_day = as_local(target.due, target.zone).date() - timedelta(days=1)
        if before.unit is Unit.MONTHS:
            last_day = add_months(last_day, -before.amount)
        else:  # working days are counted back as calendar days: earlier, never later
            last_day -= timedelta(days=before.amount)
        due = end_of_day(last_day, target.zone)
    step = (
        f"提前量：须在上述期满时间 {display(target.due, target.zone)} 之前 {before} 完成，向前推算为 {display(due, target.zone)}（向前推算，不因节假日顺延）。"
    )
    return replace(target, due=due, explanation=(*target.explanation, step))


BEFORE_BASIS = "向前推算同样适用期间的计算规则：该时刻所在之日不计入（如同期间开始之日不计入），其前 {n} 须完整经过，义务应在这 {n} 开始之前完成"


def count_before(
    start: datetime, moment_at: datetime, before: Duration, calendar: LegalCalendar, *, custody: bool = False, zone: tzinfo = SHANGHAI, roll: bool = True
) -> Deadline:
    """A duty due `before` ahead of a scheduled moment (在举行听证的七日前送达), counted backward with the rules that count
    forward, so that counting `before` forward from the due reaches the moment and no further:
    - minutes and hours: exactly `before` earlier;
    - days and months: the moment's day H is not counted (as a start day is not); the period H-1 back to H-N (for
      months, back to the day after H minus N months) must pass whole after the duty is done, so the last day for it is
      the day before the period, at 24:00 (七日前: H-8 24:00);
    - working days: the period is the N working days before H; the duty is due by 24:00 of the day before the first;
    - a last day that is a rest day moves to the working day before it (the holiday roll, in reverse), unless `custody`
      or `roll=False`; a year the calendar lacks is taken as weekends only and the answer marked provisional."""
    start, moment_at = as_local(start, zone), as_local(moment_at, zone)
    shown = moment(moment_at)
    steps = [f"起算：{moment(start)}（确定时刻：{shown}）。须在 {shown} 之前 {before} 完成，自该时刻向前推算。"]
    missing: set[int] = set()
    if before.unit.exact:
        due = moment_at - _exact(before)
        steps.append(f"按{before.unit.label}计算，自 {shown} 向前精确推算 {before}：{display(due, zone)}（不因节假日顺延）。")
    else:
        day = moment_at.date()
        if before.unit is Unit.DAYS:
            first = day - timedelta(days=before.amount)
        elif before.unit is Unit.MONTHS:
            first = add_months(day, -before.amount) + timedelta(days=1)
        else:
            first, count = day, before.amount
            while count > 0:
                first -= timedelta(days=1)
                if not calendar.is_rest_day(first, assumed=missing):
                    count -= 1
        last = first - timedelta(days=1)
        period = f"{first} 至 {day - timedelta(days=1)}" if first < day else "（空）"
        steps.append(BEFORE_BASIS.format(n=before) + f"：{day} 不计入，其前 {before} 为 {period}，义务的最后一日为 {describe_day(last)}。")
        if before.unit is Unit.WORKDAYS:
            pass  # the day before the first working day of the period: nothing to move
        elif roll and not custody:
            moved = last
            while calendar.is_rest_day(moved, assumed=missing):
                moved -= timedelta(days=1)
            if moved != last:
                reasons = "、".join(
                    dict.fromkeys(calendar.status(moved + timedelta(days=i), assumed=missing).reason for i in range(1, (last - moved).days + 1))
                )
                steps.append(f"{describe_day(last)}为休息日（{reasons}），向前推算时节假日规则反向适用：提前至其前最后一个工作日 {describe_day(moved)}。")
                last = moved
        elif calendar.covers(last.year) and calendar.is_rest_day(last):
            why = CUSTODY_BASIS if custody else "本期限依规定期满即止，不因节假日调整"
            steps.append(f"{describe_day(last)}为休息日（{calendar.status(last).reason}），{why}：不提前。")
        due = end_of_day(last, zone)
        steps.append(f"期满：{display(due, zone)}。")
    if due < start:
        steps.append(f"注意：推算出的期满时间早于起算时间 {moment(start)}：确定的时刻距今已不足 {before}，义务已无法按期完成。")
    if missing:
        steps.append(provisional_step(calendar, missing, "该年只把周六、周日作为休息日"))
    return Deadline(
        start=start,
        limit=before,
        custody=custody,
        due=due,
        provisional=bool(missing),
        paused=False,
        explanation=tuple(steps),
        missing_years=tuple(sorted(missing)),
        zone=zone,
    )


def provisional_step(calendar: LegalCalendar, missing: set[int], how: str) -> str:
    """The explanation's warning that a due is provisional: which years' holidays are missing, the files that would
    add them, and `how` the missing years were counted meanwhile."""
    years = "、".join(str(y) for y in sorted(missing))
    files = "、".join(f"{calendar.directory}/{y}.yaml" for y in sorted(missing))
    return f"⚠ 临时结果：{years} 年的法定节假日安排未收录（请添加 {files}），{how}；日历补齐后须重新计算。"


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}小时{minutes}分钟"
    return f"{hours}小时" if hours else f"{minutes}分钟"


class _Reckoning:
    """One computation: walks the clock's history in time order and writes down each step."""

    def __init__(self, limit: Duration, calendar: LegalCalendar, custody: bool, zone: tzinfo, roll: bool = True):
        self.limit = limit
        self.family = limit.unit.family
        self.calendar = calendar
        self.custody = custody
        self.rolls = roll and not custody
        self.zone = zone
        self.steps: list[str] = []
        self.anomalies: list[Anomaly] = []
        self.missing: set[int] = set()

    # -- the walk ---------------------------------------------------------------------------------

    def run(self, start, extensions, pauses, restarts) -> Deadline:
        for ext in extensions:
            if ext.amount.unit.family != self.family:
                raise DeadlineError(f"延长期限 {ext.amount} 与原期限 {self.limit} 的计算单位不一致（小时与日、工作日与日不能互相延长）")
        start = as_local(start, self.zone)
        undated = [e for e in extensions if e.at is None]
        timeline = []
        if restarts or pauses or len(undated) < len(extensions):
            deferred = [
                replace(p, start=max(as_local(p.start, self.zone), start), end=None if p.end is None else as_local(p.end, self.zone))
                for p in pauses
                if p.deferred
            ]
            restarts = [*restarts, *(Restart(p.end, p.note, deferred=True) for p in deferred if p.end is not None)]
            restarts = sorted((replace(r, at=as_local(r.at, self.zone)) for r in restarts), key=lambda r: r.at)
            cuts = [r.at for r in restarts]
            timeline = [(r.at, 0, i, r) for i, r in enumerate(restarts)]
            timeline += [(as_local(e.at, self.zone), 1, i, e) for i, e in enumerate(extensions) if e.at is not None]
            timeline += [(p.start, 2, i, p) for i, p in enumerate(_merge([p for p in pauses if not p.deferred], start, cuts, self.zone))]
            waits = [
                replace(p, start=cut)
                for p in deferred
                for cut in [p.start, *cuts]  # still waiting after a restart
                if p.start <= cut and (p.end is None or cut < p.end)
            ]
            timeline += [(p.start, 3, i, p) for i, p in enumerate(waits)]
            timeline.sort(key=lambda item: item[:3])

        self._begin(start, undated)
        for _, _, _, item in timeline:
            if isinstance(item, Restart):
                self._restart(item, undated)
            elif isinstance(item, Extension):
                self._extend(item)
            else:
                self._pause(item)
        return self._finish()

    def _begin(self, anchor: datetime, undated: list[Extension]) -> None:
        self.anchor = anchor
        self.shift = timedelta(0)  # pauses so far: the exact family shifts by their length
        self.shift_days = 0  # the calendar and workdays families by whole days, or working days
        self.paused_at: datetime | None = None
        self.unrolled = self._from_anchor(self.limit)
        self._explain_start()
        for ext in undated:
            self._extend(ext)

    def _restart(self, restart: Restart, undated: list[Extension]) -> None:
        if restart.at <= self.anchor:
            self._anomaly("restart_before_start", f"重新计算时间 {moment(restart.at)} 不晚于起算时间 {moment(self.anchor)}，不予采用")
            return
        due = self._effective_due()
        if self.paused_at is None and restart.at >= due:
            self._anomaly("late_restart", f"重新计算（{moment(restart.at)}）晚于原期满时间 {display(due, self.zone)}，原期限已届满，请核查")
        note = f"（{restart.note}）" if restart.note else ""
        if restart.deferred:
            self.steps.append(
                f"{moment(restart.at)} 待起算的事项了结{note}：期限自该日起计算，此前自 {moment(self.anchor)} 起经过的期间及其间的延长、暂停都不计入。"
            )
        else:
            self.steps.append(f"{moment(restart.at)} 重新计算期限{note}：原起算时间 {moment(self.anchor)} 及其后的延长、暂停不再适用，自此重新起算。")
        self._begin(restart.at, undated)

    def _extend(self, ext: Extension) -> None:
        approved = f"（批准于 {moment(as_local(ext.at, self.zone))}）" if ext.at else ""
        if ext.at is not None and self.paused_at is None:
            due = self._effective_due()
            if as_local(ext.at, self.zone) >= due:
                self._anomaly("late_extension", f"延长{ext.amount}{approved}晚于当时的期满时间 {display(due, self.zone)}，不予计入；请核实审批时间")
                return
        before = self._shown(self._effective_unrolled())
        if ext.mode == "to":
            self.unrolled = self._from_anchor(ext.amount)
            how = f"延长至 {ext.amount}{approved}：自起算重新计算总期限"
        else:
            self.unrolled = self._add(self.unrolled, ext.amount)
            how = f"延长 {ext.amount}{approved}：在未顺延的期满日上累加"
        note = f"（{ext.note}）" if ext.note else ""
        self.steps.append(f"{how}{note}，{before} → {self._shown(self._effective_unrolled())}。")

    def _pause(self, pause: Pause) -> None:
        due = self._effective_due()
        if pause.start >= due:
            self._anomaly("pause_after_due", f"暂停（{moment(pause.start)} 起）在期满时间 {display(due, self.zone)} 之后，不计入")
            return
        note = f"（{pause.note}）" if pause.note else ""
        if pause.deferred:  # counted afresh from its end (the restart there), if it has one
            self.paused_at = pause.start
            self.steps.append(f"自 {moment(pause.start)} 起期限待起算{note}：自该事项了结之日起计算，在此之前没有期满时间。")
            return
        if pause.end is None:
            self.paused_at = pause.start
            left = due - pause.start if self.family == "exact" else None
            remain = f"，暂停时尚余 {_span(left)}" if left is not None else ""
            self.steps.append(f"自 {moment(pause.start)} 起暂停计时{note}，尚未恢复{remain}：暂停期间没有期满时间，恢复后顺延计算。")
            return
        first, last = pause.start.date(), pause.end.date()
        if self.family == "exact":
            self.shift += pause.end - pause.start
            self.steps.append(f"暂停 {moment(pause.start)} 至 {moment(pause.end)}{note}，共 {_span(pause.end - pause.start)}，期满时间相应顺延。")
        elif self.family == "calendar":
            days = (last - first).days
            self.shift_days += days
            self.steps.append(
                f"暂停 {moment(pause.start)} 至 {moment(pause.end)}{note}：暂停之日 {first} 至恢复之日 {last} 相隔 {days} 日，期满日顺延 {days} 日。"
            )
        else:
            days = self.calendar.working_days_between(first, last, assumed=self.missing)
            self.shift_days += days
            self.steps.append(
                f"暂停 {moment(pause.start)} 至 {moment(pause.end)}{note}：{first} 之后至 {last} 有 {days} 个工作日，期满日顺延 {days} 个工作日。"
            )

    def _finish(self) -> Deadline:
        due: datetime | None = None
        if self.paused_at is not None:
            self.steps.append("结论：计时暂停中，暂无期满时间。")
        elif self.family == "exact":
            due = self._instant(self._effective_unrolled())
            self.steps.append(f"期满：{display(due, self.zone)}（按小时、分钟计算的期限不因节假日顺延）。")
        else:
            day = self._effective_unrolled()
            if self.shift_days:
                self.steps.append(f"计入暂停顺延后，期限的最后一日为 {describe_day(day)}。")
            if self.family == "calendar":
                day = self._settle_last_day(day)
            due = end_of_day(day, self.zone)
            self.steps.append(f"期满：{display(due, self.zone)}。")
        if self.missing:
            how = "该年只把周六、周日作为休息日计算工作日" if self.family == "workdays" else "不因节假日顺延，取最早可能的期满日"
            self.steps.append(provisional_step(self.calendar, self.missing, how))
        return Deadline(
            start=self.anchor,
            limit=self.limit,
            custody=self.custody,
            due=due,
            provisional=bool(self.missing),
            paused=self.paused_at is not None,
            explanation=tuple(self.steps),
            anomalies=tuple(self.anomalies),
            missing_years=tuple(sorted(self.missing)),
            zone=self.zone,
        )

    # -- counting ---------------------------------------------------------------------------------

    def _from_anchor(self, amount: Duration) -> date:
        """The unrolled due `amount` after the anchor: an instant (a datetime) in the exact family, else a date."""
        if self.family == "exact":
            return self.anchor + _exact(amount)
        return self._add(self.anchor.date(), amount)

    def _add(self, base: date, amount: Duration) -> date:
        if amount.unit.exact:
            return base + _exact(amount)
        if amount.unit is Unit.DAYS:
            return base + timedelta(days=amount.amount)
        if amount.unit is Unit.MONTHS:
            return add_months(base, amount.amount)
        return self.calendar.add_working_days(base, amount.amount, assumed=self.missing)

    def _effective_unrolled(self) -> date:
        if self.family == "exact":
            return self.unrolled + self.shift
        if self.family == "calendar":
            return self.unrolled + timedelta(days=self.shift_days)
        return self.calendar.add_working_days(self.unrolled, self.shift_days, assumed=self.missing)

    @staticmethod
    def _instant(value: date) -> datetime:
        """An unrolled due of the exact family, which counts from the start instant (see _from_anchor)."""
        assert isinstance(value, datetime), "minute and hour limits count instants"
        return value

    def _effective_due(self) -> datetime:
        """The due as things stand, roll included (for checking whether an act came too late)."""
        unrolled = self._effective_unrolled()
        if self.family == "exact":
            return self._instant(unrolled)
        if self.family == "calendar" and self.rolls:
            unrolled = _roll(self.calendar, unrolled)[0]
        return end_of_day(unrolled, self.zone)

    def _settle_last_day(self, day: date) -> date:
        """Apply (or, in custody, refuse) the holiday roll to the final date, and explain it."""
        rolled, step, missing = _last_day(self.calendar, day, self.rolls, self.custody)
        if step:
            self.steps.append(step)
        if missing is not None:
            self.missing.add(missing)
        return rolled

    # -- words ------------------------------------------------------------------------------------

    def _shown(self, value: date) -> str:
        return display(value, self.zone) if isinstance(value, datetime) else describe_day(value)

    def _explain_start(self) -> None:
        anchor, limit = self.anchor, self.limit
        start = moment(anchor)
        if self.family == "exact" and not limit.amount:
            self.steps.append(f"起算：{start}。应当场（立即）完成，不留期间：期满即 {display(self._instant(self.unrolled), self.zone)}。")
            return
        if self.family == "exact":
            self.steps.append(
                f"起算：{start}。按{limit.unit.label}计算，自该时刻起连续计算 {limit}，精确到分钟"
                f"（从严：不推至下一整点）：{start} + {limit} = {display(self._instant(self.unrolled), self.zone)}。"
            )
            return
        first = anchor.date()
        begin, count = _day_count_steps(self.calendar, first, limit, self.unrolled)
        self.steps += (f"起算：{start}。{begin}", count)

    def _anomaly(self, kind, message: str) -> None:
        self.anomalies.append(Anomaly(kind, message))
        self.steps.append(f"异常：{message}。")


def _roll(calendar: LegalCalendar, day: date) -> tuple[date, int | None]:
    """(the last day after the holiday roll, a year whose data was missing or None).
    With a year missing the day is kept: the earliest possible answer."""
    if not calendar.covers(day.year):
        return day, day.year
    if not calendar.is_rest_day(day):
        return day, None
    rolled = day + timedelta(days=1)
    while True:
        if not calendar.covers(rolled.year):
            return day, rolled.year
        if not calendar.is_rest_day(rolled):
            return rolled, None
        rolled += timedelta(days=1)


@lru_cache(maxsize=4096)  # the same last days come up again and again
def _last_day(calendar: LegalCalendar, day: date, rolls: bool, custody: bool) -> tuple[date, str | None, int | None]:
    """(the final last day, the step explaining the roll or its refusal, a year whose data was missing or None)."""
    if not rolls:
        if calendar.covers(day.year) and calendar.is_rest_day(day):
            why = CUSTODY_BASIS if custody else "本期限依规定期满即止，不因节假日顺延"
            return day, f"{describe_day(day)}为休息日（{calendar.status(day).reason}），{why}：不顺延。", None
        return day, None, None
    rolled, missing = _roll(calendar, day)
    if missing is not None:
        return rolled, f"{missing} 年日历未收录，无法判断是否需要因节假日顺延：暂不顺延，取最早可能的日期。", missing
    if rolled == day:
        status = calendar.status(day)
        if status.reason.startswith("调休上班"):
            return day, f"{describe_day(day)}为{status.reason}，是工作日，不顺延。", None
        return day, None, None
    reasons = "、".join(dict.fromkeys(calendar.status(day + timedelta(days=i)).reason for i in range((rolled - day).days)))
    landing = calendar.status(rolled)
    kind = f"，{landing.reason}" if landing.reason.startswith("调休上班") else ""
    return rolled, f"{describe_day(day)}为休息日（{reasons}），{ROLL_BASIS}：顺延至 {describe_day(rolled)}{kind}。", None


@lru_cache(maxsize=4096)  # by date: every clock of a limit started that day counts the same
def _day_count_steps(calendar: LegalCalendar, first: date, limit: Duration, last: date) -> tuple[str, str]:
    """How a day, month or working-day limit counts from the start day `first` to its unrolled last day `last`: the
    start step after its time, and the counting step."""
    begin = f"{START_BASIS}：{first} 不计入，自 {first + timedelta(days=1)} 起算。"
    if limit.unit is Unit.DAYS:
        return begin, f"期限 {limit}：{first} + {limit.amount}日 = {describe_day(last)}。"
    if limit.unit is Unit.MONTHS:
        if last_day_of_month(first):
            rule = "起算日为月末，至到期月的最后一日"
        elif last.day != first.day:
            rule = "到期月没有对应日，至该月最后一日"
        else:
            rule = "至到期月的对应日"
        return begin, f"期限 {limit}：自 {first} 直接按月推算（{rule}，最高法刑诉解释第二百零二条），最后一日为 {describe_day(last)}。"
    holidays: dict[str, list[date]] = {}
    makeups: list[date] = []
    for status in calendar.special_days(first, last):
        if status.rest:
            holidays.setdefault(status.reason, []).append(status.day)
        else:
            makeups.append(status.day)
    parts = [f"{name} {days[0]:%m-%d}" + (f"至{days[-1]:%m-%d}" if len(days) > 1 else "") + " 放假不计" for name, days in holidays.items()]
    parts += [f"{describe_day(day)} 调休上班计入" for day in makeups]
    special = f"（其间 {'；'.join(parts)}）" if parts else ""
    return begin, f"期限 {limit}：只计工作日，{first} 之后第 {limit.amount} 个工作日为 {describe_day(last)}{special}。"


def _exact(amount: Duration) -> timedelta:
    return timedelta(minutes=amount.amount) if amount.unit is Unit.MINUTES else timedelta(hours=amount.amount)


def _merge(pauses: Iterable[Pause], start: datetime, restarts: list[datetime], zone: tzinfo) -> list[Pause]:
    """Pauses in local time, clipped to the start, split at restarts, and overlapping ones merged."""
    spans: list[tuple[datetime, datetime | None, str]] = []
    for pause in pauses:
        begin, end = as_local(pause.start, zone), (None if pause.end is None else as_local(pause.end, zone))
        if end is not None and end < begin:
            raise DeadlineError(f"暂停的恢复时间 {moment(end)} 早于暂停时间 {moment(begin)}")
        begin = max(begin, start)
        if end is not None and end <= begin:
            continue
        for cut in restarts:
            if begin < cut and (end is None or cut < end):
                spans.append((begin, cut, pause.note))
                begin = cut
        spans.append((begin, end, pause.note))
    spans.sort(key=lambda s: s[0])
    merged: list[tuple[datetime, datetime | None, str]] = []
    for begin, end, note in spans:
        if merged and (merged[-1][1] is None or begin < merged[-1][1]) and not _crosses(merged[-1][0], begin, restarts):
            last_begin, last_end, last_note = merged[-1]
            new_end = None if end is None or last_end is None else max(end, last_end)
            merged[-1] = (last_begin, new_end, "；".join(n for n in dict.fromkeys((last_note, note)) if n))
        else:
            merged.append((begin, end, note))
    return [Pause(b, e, n) for b, e, n in merged]


def _crosses(first: datetime, second: datetime, restarts: list[datetime]) -> bool:
    return any(first < cut <= second for cut in restarts)
