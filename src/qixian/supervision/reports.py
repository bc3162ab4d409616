"""Assessment reports (事后考核): how the clocks of a period came out, for the bureau, a unit or an officer.

Which clocks a period holds. A clock belongs to the period in which its due falls (the due as finally computed,
extensions and pauses included): that is the moment the duty fell due, so each clock is assessed once, in one
period, whether it was finished early, on time or late. Clocks that no longer apply (不再适用: cancelled, or
restarted and kept for audit) and clocks paused without a due are not assessed. Measures that are about moments
rather than clocks use the moment: a reminder counts in the period its step time falls in, a pause by the part of
it inside the period, an extension by its approval time.

The measures of a group of clocks (`Tally`):
- 应办结 assessed: clocks due in the period that were finished, or whose due has passed by `now`;
- 按期完成 met: finished at or before the due; 超期完成 met_late: finished after it;
- 当前超期 overdue: not finished and the due has passed at `now`;
- 未到期 pending: due in the period but after `now`, not finished (not yet assessable);
- 超期率 overdue rate: (met_late + overdue) / assessed;
- 提醒 reminders: reminder steps owed (one per clock and step, however many recipients) with the step time in the
  period; 超期提醒 of those, the overdue ones;
- 提醒至完成 time from first reminder to completion: for met and met_late clocks, from the first reminder a channel
  accepted to the completion (clocks finished before any reminder reached anyone are left out); the median;
- 确认 acknowledged / 确认用时 acknowledgement latency: of the reminders counted, how many some recipient
  acknowledged, and the median time from delivery to each acknowledgement (from owing it, if no channel accepted it).
Groups: reminder type (the rule's `reminder_type`, as the reference system reports them: 警情分流提醒, 刑事立案提醒,
受案回执提醒, 立案告知提醒, ...), rule, unit and officer (the case's unit and handler), week (Monday to Sunday,
Beijing time, by the due), and basis: 法定期限 (a rule with a statute among its bases) apart from 工作规范 (a limit the
bureau or a campaign's document sets), so a supervisor sees which late work broke the law and which a standard.
Beside the tallies: paused time by reason (暂停 spans inside the period, for every clock whose rule can pause),
extensions approved in the period, and anomalies of the clocks due in the period: those the clock engine records
(an extension approved after the due, beyond the times or the amount allowed, a pause after the due, a late
restart) and one found here, 临期反复暂停: two or more pauses of one clock, each begun in the last day before the
due then in force (or its last quarter, for a limit shorter than four days).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, case, cast, func, or_, select
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import col

from qixian.alerting.outbox import rule_of
from qixian.engine.clocks import MET_STATES, ClockState, pair_steps, replay, same_person
from qixian.engine.directory import Directory
from qixian.legaltime.localtime import SHANGHAI
from qixian.rulebook.model import Rule, RulePack
from qixian.store.repository import Store
from qixian.store.rows import chunked
from qixian.store.tables import AcknowledgementRow, CaseRow, ClockRow, EventRow, OutboxRow

UNASSESSED = (ClockState.CANCELLED, ClockState.RESTARTED)
NEAR_DUE = timedelta(days=1)
ANOMALY_LABELS = {
    "late_extension": "期满后才批准延长",
    "extension_beyond_times": "延长次数超过规定",
    "extension_over_limit": "延长超过规定时长",
    "pause_after_due": "期满后才暂停",
    "late_restart": "期满后才重新计算",
    "restart_before_start": "重新计算早于起算",
    "pause_before_due": "临期反复暂停",
}
NO_UNIT, NO_OFFICER = "（未填单位）", "（未填主办民警）"
# what a rule's limit is set by, as reports keep them apart: a breach of law, or of the bureau's working standards
BASIS_GROUPS = {"statute": "法定期限", "working_standard": "工作规范（非法定）"}
_Selected = TypeVar("_Selected", bound=tuple[Any, ...])  # what a query selects, kept as `scoped` narrows it
ANOMALOUS = cast(ClockRow.anomalies, String) != "[]"  # clocks with an anomaly, as the partial index ix_clocks_anomalous says it


@dataclass(frozen=True)
class Scope:
    """Whose clocks: the whole bureau (both None), one unit, or one officer (the handler of the case)."""

    unit: str | None = None
    officer: str | None = None


@dataclass
class Tally:
    assessed: int = 0
    met: int = 0
    met_late: int = 0
    overdue: int = 0
    pending: int = 0
    reminders: int = 0
    overdue_reminders: int = 0
    acknowledged: int = 0
    to_completion: list[float] = field(default_factory=list)  # hours
    ack_latency: list[float] = field(default_factory=list)  # minutes

    @property
    def overdue_rate(self) -> float | None:
        return (self.met_late + self.overdue) / self.assessed if self.assessed else None

    @property
    def to_completion_median(self) -> float | None:
        return statistics.median(self.to_completion) if self.to_completion else None

    @property
    def ack_latency_median(self) -> float | None:
        return statistics.median(self.ack_latency) if self.ack_latency else None

    def as_dict(self) -> dict:
        return {
            "assessed": self.assessed,
            "met": self.met,
            "met_late": self.met_late,
            "overdue": self.overdue,
            "pending": self.pending,
            "overdue_rate": _round(self.overdue_rate, 4),
            "reminders": self.reminders,
            "overdue_reminders": self.overdue_reminders,
            "acknowledged": self.acknowledged,
            "to_completion_hours_median": _round(self.to_completion_median, 1),
            "ack_latency_minutes_median": _round(self.ack_latency_median, 1),
        }


@dataclass
class Row:
    key: str
    label: str
    tally: Tally


@dataclass
class Finding:
    kind: str
    case: str
    rule: str
    person: str
    message: str

    @property
    def label(self) -> str:
        return ANOMALY_LABELS.get(self.kind, self.kind)


@dataclass
class Report:
    start: datetime
    end: datetime
    now: datetime
    scope: Scope
    scope_label: str
    total: Tally
    by_type: list[Row]
    by_rule: list[Row]
    by_unit: list[Row]
    by_officer: list[Row]
    by_week: list[Row]
    by_basis: list[Row]  # 法定期限 first, then 工作规范 (only those that occur)
    paused: list[tuple[str, float, int]]  # (reason, hours inside the period, clocks)
    extensions: list[tuple[str, int]]  # (the extension event's label, approvals in the period)
    anomalies: list[Finding]

    def anomaly_counts(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = defaultdict(int)
        for finding in self.anomalies:
            counts[finding.label] += 1
        return sorted(counts.items(), key=lambda item: -item[1])

    def as_dict(self) -> dict:
        def rows(items: list[Row]) -> list[dict]:
            return [{"key": r.key, "label": r.label, **r.tally.as_dict()} for r in items]

        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "now": self.now.isoformat(),
            "scope": {"unit": self.scope.unit, "officer": self.scope.officer, "label": self.scope_label},
            "total": self.total.as_dict(),
            "by_type": rows(self.by_type),
            "by_rule": rows(self.by_rule),
            "by_unit": rows(self.by_unit),
            "by_officer": rows(self.by_officer),
            "by_week": rows(self.by_week),
            "by_basis": rows(self.by_basis),
            "paused": [{"reason": r, "hours": round(h, 1), "clocks": n} for r, h, n in self.paused],
            "extensions": [{"event": e, "count": n} for e, n in self.extensions],
            "anomalies": [
                {"kind": f.kind, "label": f.label, "case": f.case, "rule": f.rule, "person": f.person or None, "message": f.message} for f in self.anomalies
            ],
        }


def report(store: Store, pack: RulePack, start: datetime, end: datetime, now: datetime, scope: Scope = Scope()) -> Report:
    """The assessment of [start, end) as of `now` for `scope` (see the module docstring for every measure)."""
    directory = store.directory()
    groups = _Groups(pack, directory)
    _tally_clocks(store, groups, start, end, now, scope)
    _reminders(store, groups, start, end, now, scope)
    _completion_times(store, groups, start, end, scope)
    paused, extensions, pause_findings = _pauses_and_extensions(store, pack, start, end, now, scope)
    findings = [
        Finding(a["kind"], c.case_id, pack.name_of(c.rule_id), c.person, a["message"]) for c in _anomalous_clocks(store, start, end, scope) for a in c.anomalies
    ] + pause_findings
    findings.sort(key=lambda f: (f.kind, f.case, f.rule, f.person))
    return Report(
        start,
        end,
        now,
        scope,
        scope_label(scope, directory),
        groups.total,
        groups.rows("type"),
        groups.rows("rule"),
        groups.ranked("unit"),
        groups.ranked("officer"),
        groups.rows("week", by_key=True),
        groups.rows("basis", by_key=True),
        paused,
        extensions,
        findings,
    )


# -- grouping -------------------------------------------------------------------------------------


class _Groups:
    """Tallies by every grouping at once: each clock, reminder or time measured is added to its group in each."""

    def __init__(self, pack: RulePack, directory: Directory) -> None:
        self.pack, self.directory = pack, directory
        self.total = Tally()
        self.tallies: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
        self.labels: dict[tuple[str, str], str] = {}

    def kind(self, rule_id: str) -> str:
        """The reminder type a rule's clocks are counted under."""
        rule = _latest_version(self.pack, rule_id)
        return (rule.reminder_type or rule.group or "其他提醒") if rule else "其他提醒"

    def basis(self, rule_id: str) -> str:
        """statute | working_standard: whether a rule's limit is law or the bureau's working standard."""
        rule = _latest_version(self.pack, rule_id)
        return "working_standard" if rule is not None and rule.working_standard else "statute"

    def key(self, grouping: str, value) -> tuple[str, str]:
        """A group's (key, label) in `grouping`, from its value: a rule id (for rule, type and basis), a unit, an
        officer (None: none recorded) or a week's Monday."""
        if grouping == "rule":
            return value, self.pack.name_of(value)
        if grouping == "type":
            kind = self.kind(value)
            return kind, kind
        if grouping == "basis":
            basis = self.basis(value)
            return basis, BASIS_GROUPS[basis]
        if grouping == "unit":
            return value or "", self.directory.units[value].name if value in self.directory.units else (value or NO_UNIT)
        if grouping == "officer":
            return value or "", self.directory.officers[value].name if value in self.directory.officers else (value or NO_OFFICER)
        return value.isoformat(), f"{value:%m-%d}～{value + timedelta(days=6):%m-%d}"  # week

    def keys(self, rule_id: str, unit: str | None, handler: str | None, moment: datetime) -> dict[str, tuple[str, str]]:
        day = moment.astimezone(SHANGHAI).date()
        values = {"type": rule_id, "rule": rule_id, "basis": rule_id, "unit": unit, "officer": handler, "week": day - timedelta(days=day.weekday())}
        return {grouping: self.key(grouping, value) for grouping, value in values.items()}

    def each(self, rule_id: str, unit: str | None, handler: str | None, moment: datetime) -> Iterable[Tally]:
        yield self.total
        for grouping, (key, label) in self.keys(rule_id, unit, handler, moment).items():
            self.labels[(grouping, key)] = label
            yield self.tallies[grouping][key]

    def add_counted(self, counted: Iterable[tuple[str, str | None, str | None, date, dict[str, int]]]) -> None:
        """Counts from the database, each row (rule, unit, officer, day, {measure: count}) as fine as the query
        grouped them: summed first by each grouping's value (rule, unit, officer, week), so a group's key and
        label are worked out once however many rows it spans; a rule's sums also go to the total, its reminder
        type and its basis (law or standard), as `each` adds one clock or reminder."""
        sums: dict[tuple[str, object], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for rule_id, unit, handler, day, counts in counted:
            monday = day - timedelta(days=day.weekday())
            for grouped in (("rule", rule_id), ("unit", unit), ("officer", handler), ("week", monday)):
                into = sums[grouped]
                for measure, count in counts.items():
                    into[measure] += count
        for (grouping, value), counts in sorted(sums.items(), key=lambda item: (item[0][0], str(item[0][1]))):
            tallies = [self.total] if grouping == "rule" else []
            for name in [grouping, "type", "basis"] if grouping == "rule" else [grouping]:
                key, label = self.key(name, value)
                self.labels[(name, key)] = label
                tallies.append(self.tallies[name][key])
            for tally in tallies:
                for measure, count in counts.items():
                    setattr(tally, measure, getattr(tally, measure) + count)

    def rows(self, grouping: str, by_key: bool = False) -> list[Row]:
        found = [Row(key, self.labels[(grouping, key)], tally) for key, tally in self.tallies[grouping].items()]
        return sorted(found, key=(lambda r: r.key) if by_key else (lambda r: (-r.tally.assessed, -r.tally.reminders, r.label)))

    def ranked(self, grouping: str) -> list[Row]:
        """Worst first: the highest overdue rate, then the most late or overdue clocks."""
        return sorted(self.rows(grouping), key=lambda r: (-(r.tally.overdue_rate or 0), -(r.tally.met_late + r.tally.overdue), -r.tally.assessed, r.label))


# -- reading the store ----------------------------------------------------------------------------


def scoped(query: Select[_Selected], scope: Scope) -> Select[_Selected]:
    """`query` (over CaseRow) narrowed to the cases of `scope`: a unit's, or those an officer handles."""
    if scope.unit is not None:
        query = query.where(col(CaseRow.unit) == scope.unit)
    if scope.officer is not None:
        query = query.where(col(CaseRow.handler) == scope.officer)
    return query


def _tally_clocks(store: Store, groups: _Groups, start: datetime, end: datetime, now: datetime, scope: Scope) -> None:
    """The clocks due in the period, counted in the database by outcome: one GROUP BY (rule, unit, officer, day of
    the due in Beijing, outcome) over the period's range of the due index (ix_clocks_due), so a report reads the
    clocks of its period and no other, whatever the store's history; the groupings are summed from its rows."""
    due_at, outcome_of = col(ClockRow.due_at), col(ClockRow.outcome)
    outcome = case(
        (outcome_of == ClockState.MET, "met"),
        (outcome_of == ClockState.MET_LATE, "met_late"),
        (due_at <= _utc(now), "overdue"),
        else_="pending",
    )
    with store.session() as session:
        day = _beijing_day(session.get_bind().dialect.name, due_at)
        columns = (col(ClockRow.rule_id), col(CaseRow.unit), col(CaseRow.handler), day, outcome)
        query = scoped(
            select(*columns, func.count())
            .join(CaseRow, col(CaseRow.id) == col(ClockRow.case_id), isouter=True)
            .where(due_at >= _utc(start), due_at < _utc(end), or_(outcome_of.is_(None), outcome_of.not_in(UNASSESSED))),
            scope,
        )
        counted = session.execute(query.group_by(*columns)).all()
    groups.add_counted(
        (rule_id, unit, handler, _as_date(value), {result: count, "assessed": count if result != "pending" else 0})
        for rule_id, unit, handler, value, result, count in counted
    )


def _beijing_day(dialect: str, column: SQLCoreOperations[datetime | None]) -> ColumnElement[date | str]:
    """The day (Beijing time) of a moment (a clock's due, a reminder's step time), as the database works it out
    (Beijing keeps +08:00 all year)."""
    if dialect == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")  # SQLite holds UTC as text, and gives the day as text (_as_date)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _anomalous_clocks(store: Store, start: datetime, end: datetime, scope: Scope) -> list[ClockRow]:
    due_at, outcome = col(ClockRow.due_at), col(ClockRow.outcome)
    query = (
        select(ClockRow)
        .join(CaseRow, col(CaseRow.id) == col(ClockRow.case_id), isouter=True)
        .where(ANOMALOUS, due_at >= _utc(start), due_at < _utc(end), or_(outcome.is_(None), outcome.not_in(UNASSESSED)))
        .order_by(due_at, col(ClockRow.id))
    )
    with store.session() as session:
        return list(session.execute(scoped(query, scope)).scalars())


def _reminders(store: Store, groups: _Groups, start: datetime, end: datetime, now: datetime, scope: Scope) -> None:
    """Reminder steps owed in the period by `now`, and their acknowledgements made by `now` (a report as of a past
    moment counts nothing that happened after it). A step (clock, due, step) is counted once, by its first row,
    however many recipients it had: counted in the database over the period's range of ix_outbox_step, grouped by
    rule, unit, officer, day and level; only the acknowledged reminders are read one by one (for their latency)."""
    step_at = col(OutboxRow.step_at)
    in_period = (step_at >= _utc(start), step_at < _utc(end), step_at <= _utc(now))
    first_rows = select(func.min(col(OutboxRow.id))).where(*in_period).group_by(col(OutboxRow.clock_id), col(OutboxRow.due_at), col(OutboxRow.step))
    acknowledged_by_now = (col(AcknowledgementRow.outbox_id) == col(OutboxRow.id)) & (col(AcknowledgementRow.at) <= _utc(now))
    with store.session() as session:
        day = _beijing_day(session.get_bind().dialect.name, step_at)
        columns = (col(OutboxRow.rule_id), col(CaseRow.unit), col(CaseRow.handler), day, col(OutboxRow.level))
        counted = session.execute(
            scoped(
                select(*columns, func.count()).join(CaseRow, col(CaseRow.id) == col(OutboxRow.case_id), isouter=True).where(col(OutboxRow.id).in_(first_rows)),
                scope,
            ).group_by(*columns)
        ).all()
        acknowledged = session.execute(
            scoped(
                select(
                    col(OutboxRow.clock_id),
                    col(OutboxRow.due_at),
                    col(OutboxRow.step),
                    col(OutboxRow.rule_id),
                    col(CaseRow.unit),
                    col(CaseRow.handler),
                    step_at,
                    col(OutboxRow.sent_at),
                    col(OutboxRow.created_at),
                    col(AcknowledgementRow.at),
                )
                .join(AcknowledgementRow, acknowledged_by_now)
                .join(CaseRow, col(CaseRow.id) == col(OutboxRow.case_id), isouter=True)
                .where(*in_period),
                scope,
            ).order_by(col(OutboxRow.id))
        ).all()
    groups.add_counted(
        (rule_id, unit, handler, _as_date(value), {"reminders": count, "overdue_reminders": count if level == "overdue" else 0})
        for rule_id, unit, handler, value, level, count in counted
    )
    seen: set[tuple] = set()
    for clock_id, due_at, step, rule_id, unit, handler, step_at, sent_at, created_at, acknowledged_at in acknowledged:
        first = (clock_id, due_at, step) not in seen
        seen.add((clock_id, due_at, step))
        for tally in groups.each(rule_id, unit, handler, step_at):
            tally.acknowledged += first
            # every recipient's acknowledgement has its own latency
            tally.ack_latency.append(max(0.0, (acknowledged_at - (sent_at or created_at)).total_seconds() / 60))


def _completion_times(store: Store, groups: _Groups, start: datetime, end: datetime, scope: Scope) -> None:
    """From the first reminder a channel accepted to completion, for the clocks due in the period that were finished
    after one: the first sending is found in the database, one row per such clock."""
    due_at, ended_at, sent_at = col(ClockRow.due_at), col(ClockRow.ended_at), col(OutboxRow.sent_at)
    query = (
        select(col(ClockRow.rule_id), due_at, ended_at, col(CaseRow.unit), col(CaseRow.handler), func.min(sent_at))
        .join(OutboxRow, col(OutboxRow.clock_id) == col(ClockRow.id))
        .join(CaseRow, col(CaseRow.id) == col(ClockRow.case_id), isouter=True)
        .where(
            due_at >= _utc(start),
            due_at < _utc(end),
            col(ClockRow.outcome).in_(MET_STATES),
            ended_at.is_not(None),
            sent_at.is_not(None),
        )
        .group_by(col(ClockRow.id), col(ClockRow.rule_id), due_at, ended_at, col(CaseRow.unit), col(CaseRow.handler))
    )
    with store.session() as session:
        rows = session.execute(scoped(query, scope)).all()
    for rule_id, due_at, ended_at, unit, handler, sent in rows:
        if ended_at >= sent:
            for tally in groups.each(rule_id, unit, handler, due_at):
                tally.to_completion.append((ended_at - sent).total_seconds() / 3600)


def _pauses_and_extensions(
    store: Store, pack: RulePack, start: datetime, end: datetime, now: datetime, scope: Scope
) -> tuple[list[tuple[str, float, int]], list[tuple[str, int]], list[Finding]]:
    """Paused hours inside [start, min(end, now)) by reason, extension approvals in the period, and clocks paused
    again and again just before their due; over every clock whose rule pauses or extends and whose life overlaps
    the period."""
    shaping = {r.id for r in pack.rules if r.pause or r.extend}
    types = {t for r in pack.rules for t in (*(p.start for p in r.pause), *(p.until for p in r.pause), *(s.on for s in r.extend))}
    if not shaping:
        return [], [], []
    shaped = select(col(EventRow.case_id)).where(col(EventRow.type).in_(types), col(EventRow.at) < _utc(end))  # (ix_events_type_at)
    ended_at = col(ClockRow.ended_at)
    query = (
        select(ClockRow)
        .join(CaseRow, col(CaseRow.id) == col(ClockRow.case_id), isouter=True)
        .where(
            col(ClockRow.rule_id).in_(shaping),
            col(ClockRow.started_at) < _utc(end),
            or_(ended_at.is_(None), ended_at >= _utc(start)),
            col(ClockRow.case_id).in_(shaped),
        )
    )
    with store.session() as session:
        clocks = list(session.execute(scoped(query, scope)).scalars())
        events: dict[str, list[EventRow]] = defaultdict(list)
        cases = list({c.case_id for c in clocks})
        for part in chunked(cases):
            for event in session.execute(
                select(EventRow)
                .where(col(EventRow.case_id).in_(part), col(EventRow.type).in_(types), col(EventRow.at) < _utc(end))
                .order_by(col(EventRow.at), col(EventRow.seq))
            ).scalars():
                events[event.case_id].append(event)
    hours: dict[str, float] = defaultdict(float)
    paused_clocks: dict[str, set[int]] = defaultdict(set)
    extended: dict[str, int] = defaultdict(int)
    suspects: list[tuple[ClockRow, Rule, list[datetime]]] = []
    until = min(end, now)
    for clock in clocks:
        rule = rule_of(pack, clock)
        if rule is None:
            continue
        life_end = clock.ended_at or now
        mine = [e for e in events.get(clock.case_id, ()) if clock.started_at <= e.at <= life_end and same_person(e.person, clock.person)]
        extension_types = {s.on for s in rule.extend}
        for event in mine:
            if event.type in extension_types and start <= event.at < end:
                extended[_event_name(pack, event.type)] += 1
        spans = pause_spans(rule, mine, life_end)
        for reason, begun, ended in spans:
            inside = (min(ended, until) - max(begun, start)).total_seconds()
            if inside > 0:
                hours[_event_name(pack, reason)] += inside / 3600
                paused_clocks[_event_name(pack, reason)].add(clock.id)
        if len(spans) >= 2:
            suspects.append((clock, rule, [begun for _, begun, _ in spans]))
    paused = sorted(((r, h, len(paused_clocks[r])) for r, h in hours.items()), key=lambda item: -item[1])
    return paused, sorted(extended.items(), key=lambda item: -item[1]), _paused_before_due(store, pack, suspects, start, end)


def pause_spans(rule: Rule, events: list[EventRow], life_end: datetime) -> list[tuple[str, datetime, datetime]]:
    """(reason, begun, resumed) of each pause of a clock of `rule`, from its events in time order, as the clock
    engine pairs them (a pause step is open until its resume event; one still open runs to `life_end`)."""
    open_at: dict[int, datetime] = {}
    spans = []
    for event in events:
        spans += [(rule.pause[index].start, begun, event.at) for index, begun in pair_steps(rule.pause, open_at, event)]
    spans += [(rule.pause[index].start, begun, life_end) for index, begun in open_at.items()]
    return sorted(spans, key=lambda span: span[1])


def _paused_before_due(store: Store, pack: RulePack, suspects: list[tuple[ClockRow, Rule, list[datetime]]], start: datetime, end: datetime) -> list[Finding]:
    """临期反复暂停: the due in force when each pause began is replayed from the events before it."""
    if not suspects:
        return []
    case_ids = list({clock.case_id for clock, _, _ in suspects})
    histories = store.case_events(case_ids)
    facts, persons = store.case_facts(case_ids)
    found = []
    for clock, rule, beginnings in suspects:
        near = []
        for begun in beginnings:
            before = [e for e in histories[clock.case_id] if e.at < begun]
            due = next(
                (
                    c.due
                    for c in replay(
                        pack, before, case=clock.case_id, facts=facts.get(clock.case_id, {}), persons=persons.get(clock.case_id, {}), rule_ids=[clock.rule_id]
                    )
                    if c.started == clock.started_at and (c.person or "") == clock.person
                ),
                None,
            )
            if due is None:
                continue
            window = NEAR_DUE if due - clock.started_at >= 4 * NEAR_DUE else (due - clock.started_at) / 4
            if timedelta(0) < due - begun <= window:
                near.append((begun, due))
        if len(near) >= 2 and start <= near[-1][0] < end:
            shown = "、".join(f"{b.astimezone(SHANGHAI):%m-%d %H:%M}（距期满 {_hours(d - b)}）" for b, d in near)
            found.append(Finding("pause_before_due", clock.case_id, rule.name, clock.person, f"{len(near)} 次在临近期满时暂停：{shown}"))
    return found


# -- small helpers --------------------------------------------------------------------------------


def _latest_version(pack: RulePack, rule_id: str) -> Rule | None:
    versions = pack.versions(rule_id)
    return versions[-1] if versions else None


def _event_name(pack: RulePack, event_type: str) -> str:
    event = pack.events.get(event_type)
    return event.label if event else event_type


def scope_label(scope: Scope, directory: Directory) -> str:
    if scope.officer:
        officer = directory.officers.get(scope.officer)
        return f"民警 {officer.name if officer else scope.officer}"
    if scope.unit:
        unit = directory.units.get(scope.unit)
        return unit.name if unit else scope.unit
    return "全局"


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} 小时"


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def day_start(day: date) -> datetime:
    """00:00 Beijing time of `day`: report periods run from a day's start to another's."""
    return datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)
