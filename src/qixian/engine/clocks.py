"""Clocks: a pure function of a case's events, the rule pack and the calendar: nothing stored is read, so a clock
can always be derived again from the events.

`replay` walks the events in time order. For each rule, a start event (of the version in force that day, whose
`applies` conditions hold) opens a clock, per person or per case; stop events meet it, cancel events end it,
extension, pause and restart events shape its due. The due itself is computed by `deadlines.compute_deadline`,
so every clock carries the explanation of its date. Nothing here reads a clock off the wall: `now` is passed in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from qixian.engine.recurring import as_working_standard, interval_of, periods
from qixian.legaltime.deadlines import Anomaly, Deadline, Extension, Pause, compute_deadline, count_back, count_before
from qixian.legaltime.localtime import as_local, moment, parse_local
from qixian.legaltime.periods import Duration, Unit
from qixian.rulebook.model import DeferStep, PauseStep, Rule, RulePack

# Which field of an extension event's data carries the approved amount, by unit of the rule's `by`.
AMOUNT_FIELD = {Unit.MINUTES: "minutes", Unit.HOURS: "hours", Unit.DAYS: "days", Unit.WORKDAYS: "days", Unit.MONTHS: "months"}


class ClockState(StrEnum):
    """What a clock is, as of a moment: open (running, provisional, paused, overdue) or ended (its outcome)."""

    RUNNING = "running"
    PROVISIONAL = "provisional"  # running on a due that a missing fact may still move
    PAUSED = "paused"
    OVERDUE = "overdue"
    MET = "met"
    MET_LATE = "met_late"
    CANCELLED = "cancelled"
    RESTARTED = "restarted"  # superseded by a clock counting again, kept for audit


MET_STATES = (ClockState.MET, ClockState.MET_LATE)  # the duty was done (in time or late)
OPEN_STATES = (ClockState.RUNNING, ClockState.PROVISIONAL, ClockState.PAUSED, ClockState.OVERDUE)


class Event(NamedTuple):  # a named tuple: made for every event replayed, at a third of a frozen dataclass's cost
    type: str
    at: datetime
    person: str | None = None
    data: Mapping[str, Any] = {}  # (one shared empty mapping: events are never changed)
    id: str | None = None


class Clock(NamedTuple):  # a named tuple: made for every clock replayed, at a third of a frozen dataclass's cost
    rule: Rule  # the version bound at the start
    case: str
    person: str | None
    number: int  # 1 for the first clock of this rule and person in the case, 2 after it ended and started again
    started: datetime
    deadline: Deadline
    outcome: ClockState | None = None  # MET, MET_LATE, CANCELLED or RESTARTED (superseded, kept for audit); None while open
    ended_at: datetime | None = None
    ended_by: str | None = None  # the event type that ended it
    anomalies: tuple[Anomaly, ...] = ()
    lead_of: str | None = None
    start_event: Event | None = None

    @property
    def due(self) -> datetime | None:
        return self.deadline.due

    def state(self, now: datetime) -> ClockState:
        """The clock's state as of `now`."""
        return state_at(self.outcome, self.deadline.paused, self.deadline.due, self.deadline.provisional, now)


def state_at(outcome: str | None, paused: bool, due: datetime | None, provisional: bool, now: datetime) -> ClockState:
    """A clock's state as of `now`, from what is stored of it (so replayed clocks and stored rows agree)."""
    if outcome:
        return ClockState(outcome)
    if paused or due is None:
        return ClockState.PAUSED
    if now >= due:
        return ClockState.OVERDUE
    return ClockState.PROVISIONAL if provisional else ClockState.RUNNING


def replay(
    pack: RulePack,
    events: Iterable[Event],
    *,
    case: str = "",
    facts: Mapping[str, Any] | None = None,
    persons: Mapping[str, Mapping[str, Any]] | None = None,
    rule_ids: Iterable[str] | None = None,
    disabled: bool = False,
    until: datetime | None = None,
) -> list[Clock]:
    """Every clock the events of one case give under `pack` (for `rule_ids`, default all rules; rules that
    are not enabled only when `disabled`, as for their examples). Recurring rules open their periods up to
    `until` (default: the last event)."""
    ordered = sorted(events, key=lambda e: (e.at, e.id or "", e.type))
    context = _Context(pack, case, facts or {}, persons or {}, ZoneInfo(pack.settings.zone), disabled)
    wanted = list(rule_ids) if rule_ids is not None else list(pack.ids)
    clocks: list[Clock] = []
    replayed: dict[str, list[Clock]] = {}
    for rule_id in wanted:
        if pack.is_lead(rule_id):
            continue
        possible = pack.may_start(rule_id, context.facts, disabled=disabled)
        if possible and pack.is_recurring(rule_id):
            horizon = max((t for t in (until, ordered[-1].at if ordered else None) if t is not None), default=None)
            replayed[rule_id] = _replay_series(context, rule_id, ordered, horizon) if horizon else []
        else:
            replayed[rule_id] = _replay_rule(context, rule_id, ordered) if possible else []
        clocks += replayed[rule_id]
    for rule_id in wanted:
        if pack.is_lead(rule_id):
            lead = next(r.lead for r in pack.versions(rule_id))
            assert lead is not None, "is_lead: the rule's versions are lead rules"
            target = lead.of
            if target not in replayed:
                replayed[target] = _replay_rule(context, target, ordered)
            clocks += _lead_clocks(context, rule_id, replayed[target], ordered)
    return clocks


@dataclass
class _Context:
    pack: RulePack
    case: str
    facts: Mapping[str, Any]
    persons: Mapping[str, Mapping[str, Any]]
    zone: ZoneInfo
    disabled: bool = False


class _Open:
    """A clock being built from the events so far."""

    def __init__(
        self,
        context: _Context,
        rule: Rule,
        person: str | None,
        number: int,
        start: Event,
        restarted_from: Clock | None = None,
        waiting: Mapping[str, datetime] | None = None,
    ):
        self.context, self.rule, self.person, self.number, self.start = context, rule, person, number, start
        self.restarted_from = restarted_from  # the clock this one re-counts (另有重要罪行、移送管辖……)
        self.extensions: list[tuple[int, Event]] = []
        self.open_pauses: dict[int, datetime] = {}
        self.pauses: list[Pause] = []
        # deferrals still open when the clock starts (身份不明 recorded before 逮捕): it starts waiting
        self.open_defers: dict[int, datetime] = {
            index: max(waiting[step.start], start.at) for index, step in enumerate(rule.defer) if waiting and step.start in waiting
        }
        self.outcome: ClockState | None = None
        self.ended: Event | None = None
        self.final: Deadline | None = None

    def concerns(self, event: Event) -> bool:
        return concerns(self.rule, self.person, event)

    def feed(self, event: Event) -> bool:
        """Take one event; True when it ended the clock."""
        rule = self.rule
        if event.type in rule.stop or event.type in rule.cancel or event.type in rule.restart:
            self.final = self.deadline()  # nothing after the end can change it
            if event.type in rule.stop:
                late = self.final.due is not None and event.at > self.final.due
                self.outcome = ClockState.MET_LATE if late else ClockState.MET
            else:
                self.outcome = ClockState.CANCELLED if event.type in rule.cancel else ClockState.RESTARTED
            self.ended = event
            return True
        for index, step in enumerate(rule.extend):
            if event.type == step.on:
                self.extensions.append((index, event))
        for _, begun in pair_steps(rule.pause, self.open_pauses, event):
            self.pauses.append(Pause(begun, event.at, self.context.pack.event_label(event.type)))
        for _, begun in pair_steps(rule.defer, self.open_defers, event):
            self.pauses.append(Pause(begun, event.at, self.context.pack.event_label(event.type), deferred=True))
        return False

    def deadline(self) -> Deadline:
        if self.rule.before is not None:  # the loader made the moment a required datetime of the start event
            before = self.rule.before
            return count_before(
                self.start.at,
                parse_local(str(self.start.data[before.field]), self.context.zone),
                before.by,
                self.context.pack.calendar,
                custody=self.rule.custody,
                zone=self.context.zone,
                roll=self.rule.holiday_roll,
            )
        extensions, anomalies = self._approved_extensions()
        pauses = self.pauses + [Pause(start, None, "") for start in self.open_pauses.values()]
        pauses += [
            Pause(self.open_defers[index], None, self.context.pack.event_label(self.rule.defer[index].start), deferred=True) for index in self.open_defers
        ]
        limit = self.rule.limit
        assert limit is not None, "no before, every or lead: the schema requires a limit (schema.RuleSpec._limit_or_lead)"
        result = compute_deadline(
            self.start.at,
            limit,
            self.context.pack.calendar,
            custody=self.rule.custody,
            extensions=extensions,
            pauses=pauses,
            zone=self.context.zone,
            roll=self.rule.holiday_roll,
        )
        if self.rule.working_standard:
            result = replace(result, explanation=as_working_standard(self.rule, result.explanation))
        if self.restarted_from is not None:
            old = self.restarted_from
            zone = self.context.zone
            step = (
                f"{moment(as_local(self.start.at, zone))} 重新计算期限（{self.context.pack.event_label(self.start.type)}）："
                f"原计时自 {moment(as_local(old.started, zone))} 起算、期满 {old.deadline.due_display or '—'}，保留备查；"
                "此前的延长、暂停不再适用。"
            )
            result = replace(result, explanation=(step, *result.explanation))
        if anomalies:
            notes = tuple(f"异常：{a.message}。" for a in anomalies)
            result = replace(result, explanation=result.explanation[:-1] + notes + result.explanation[-1:], anomalies=result.anomalies + tuple(anomalies))
        return result

    def _approved_extensions(self) -> tuple[list[Extension], list[Anomaly]]:
        """Extensions as approved: capped at the rule's `by`, at most `times` per step."""
        if not self.extensions:
            return [], []
        used: Counter = Counter()
        approved, anomalies = [], []
        for index, event in self.extensions:
            step = self.rule.extend[index]
            label = self.context.pack.event_label(event.type)
            used[index] += 1
            if used[index] > step.times:
                anomalies.append(Anomaly("extension_beyond_times", f"{label}：第 {used[index]} 次延长超过规则允许的 {step.times} 次，不予计入"))
                continue
            amount = step.amount
            given = event.data.get(AMOUNT_FIELD[amount.unit]) if step.mode == "by" else None
            if isinstance(given, int) and not isinstance(given, bool):
                if given > amount.amount:
                    anomalies.append(Anomaly("extension_over_limit", f"{label}：批准延长 {given}{amount.unit.label} 超过规定的 {amount}，按 {amount} 计算"))
                else:
                    amount = Duration(given, amount.unit)
            approved.append(Extension(amount, step.mode, event.at, label))
        return approved, anomalies

    def finish(self) -> Clock:
        deadline = self.final or self.deadline()
        return Clock(
            rule=self.rule,
            case=self.context.case,
            person=self.person,
            number=self.number,
            started=self.start.at,
            deadline=deadline,
            outcome=self.outcome,
            ended_at=self.ended.at if self.ended else None,
            ended_by=self.ended.type if self.ended else None,
            anomalies=deadline.anomalies,
            start_event=self.start,
        )


def _replay_rule(context: _Context, rule_id: str, events: list[Event]) -> list[Clock]:
    running: dict[str | None, _Open] = {}
    finished: list[_Open] = []
    started: dict[str | None, int] = {}  # clocks started so far, by person (a plain dict: this runs per rule and case)
    starters, used = context.pack.events_of(rule_id)
    # The same minute: this rule's start events first, then the others by id, so arrival order never matters
    # (`events` come in (time, id, type) order, which a stable sort keeps within each minute).
    mine = [e for e in events if e.type in used]
    mine.sort(key=lambda e: (e.at, e.type not in starters))
    defers = {(d.start, d.until) for rule in context.pack.versions(rule_id) for d in rule.defer}
    waiting: dict[str | None, dict[str, datetime]] = {}  # by person: deferrals begun and not yet ended (身份不明……)
    for event in mine:
        for begins, ends in defers if defers else ():
            if event.type == begins:
                waiting.setdefault(event.person, {}).setdefault(begins, event.at)
            elif event.type == ends:
                for who in (event.person,) if event.person else tuple(waiting):
                    waiting.get(who, {}).pop(begins, None)
        for key, clock in list(running.items()) if running else ():
            if clock.concerns(event) and clock.feed(event):
                finished.append(running.pop(key))
                if clock.outcome == ClockState.RESTARTED:  # the old clock is kept; the law counts again from here
                    started[key] = started.get(key, 0) + 1
                    running[key] = _Open(context, clock.rule, key, started[key], event, clock.finish(), _waiting(waiting, key))
        opens = _opens(context, rule_id, event, starters, running)
        if opens is None:
            continue
        rule, key = opens
        started[key] = started.get(key, 0) + 1
        running[key] = _Open(context, rule, key, started[key], event, waiting=_waiting(waiting, key))
    return [clock.finish() for clock in finished + list(running.values())]


def _opens(context: _Context, rule_id: str, event: Event, starters: Container[str], running: Container[str | None]) -> tuple[Rule, str | None] | None:
    """(the rule version, whose clock) that a start event opens; None when it opens nothing: not a start of the
    version in force, a start without its person (unit, assignee), a clock of that key already running, or a
    case the rule does not apply to."""
    if event.type not in starters:
        return None
    rule = context.pack.rule_at(rule_id, event.at.astimezone(context.zone), disabled=context.disabled)
    if rule is None or event.type not in rule.start:
        return None
    key = clock_key(rule, event, context.facts)
    if (rule.per != "case" and not key) or key in running:
        return None
    if rule.applies and not rule.applies_to(_facts(context, event)):
        return None
    return rule, key


class Happened(Protocol):
    """An event as pairing reads it: a replayed Event or a stored event row."""

    @property
    def type(self) -> str: ...

    @property
    def at(self) -> datetime: ...


def pair_steps(steps: Sequence[PauseStep | DeferStep], open_at: dict[int, datetime], event: Happened) -> list[tuple[int, datetime]]:
    """Feed one event to a clock's pause (or deferral) steps, each open from its start event until its until event:
    the steps the event begins are noted in `open_at` (a step already open is not begun again), and the (index,
    begun) of the steps it ends are returned. The one pairing of pauses, for replay and for the reports."""
    ended = []
    for index, step in enumerate(steps):
        if event.type == step.start and index not in open_at:
            open_at[index] = event.at
        elif event.type == step.until and index in open_at:
            ended.append((index, open_at.pop(index)))
    return ended


KEY_FIELDS = {"assignee": "assignee", "unit": "unit"}  # per: the event data field that names whose clock it is


def clock_key(rule: Rule, event: Event, facts: Mapping[str, Any]) -> str | None:
    """Whose clock a start event opens: its person (per: person), the body it assigns (per: assignee, 双交办), the
    unit it names or the case's unit (per: unit); None for a clock per case."""
    if rule.per == "person":
        return event.person
    if rule.per == "assignee":
        return event.data.get("assignee")
    if rule.per == "unit":
        return event.data.get("unit") or facts.get("unit")
    return None


def concerns(rule: Rule, key: str | None, event: Event) -> bool:
    """Whether an event bears on the clock of `key`: an event naming another person (assignee, unit) does not."""
    if key is None:
        return True
    if rule.per in KEY_FIELDS:
        named = event.data.get(KEY_FIELDS[rule.per])
        return named is None or named == key
    return same_person(event.person, key)


def same_person(one: str | None, other: str | None) -> bool:
    """Whether an event of `one` bears on a clock of `other`: the same person, or either is the whole case's (no person)."""
    return not one or not other or one == other


def _replay_series(context: _Context, rule_id: str, events: list[Event], until: datetime) -> list[Clock]:
    """A recurring rule's clocks (qixian.recurring): per key, each series from a start event to a cancel event
    opens one clock per period up to `until`; stop events meet the periods they fall in."""
    starters, used = context.pack.events_of(rule_id)
    series: list[tuple[Rule, str | None, Event, Event | None]] = []  # (version, key, start, the cancel event)
    running: dict[str | None, int] = {}
    for event in (e for e in events if e.type in used):
        for key, index in list(running.items()):
            rule, _, start, _ = series[index]
            if event.type in rule.cancel and concerns(rule, key, event):
                series[index] = (rule, key, start, event)
                del running[key]
        opens = _opens(context, rule_id, event, starters, running)
        if opens is None:
            continue
        rule, key = opens
        running[key] = len(series)
        series.append((rule, key, event, None))
    clocks: list[Clock] = []
    numbers: dict[str | None, int] = {}
    for rule, key, start, cancel in series:
        cancelled = cancel.at if cancel else None
        # periods are the pack's days, weeks and months, whatever offset the start event's time was written in
        horizon = min(until, cancelled) if cancelled else until
        opened = [
            p
            for p in periods(rule, start.at.astimezone(context.zone), horizon, context.pack.calendar, interval_of(rule, start.data))
            if not cancelled or p.begins < cancelled
        ]
        met: dict[int, Event] = {}
        for event in events:
            if event.type not in rule.stop or event.at < start.at or not concerns(rule, key, event):
                continue
            duty = event.data.get("duty")
            if duty is not None and duty not in (rule.id, rule.name):
                continue
            named = event.data.get("period")
            target = next((p for p in opened if p.number not in met and (p.label == named if named else p.begins <= event.at < p.window_end)), None)
            if target is not None:
                met[target.number] = event
        for period in opened:
            numbers[key] = numbers.get(key, 0) + 1
            done = met.get(period.number)
            due = period.deadline.due
            assert due is not None, "a period is never paused: recurring rules have no pause or defer steps (schema)"
            outcome: ClockState | None = None
            ended = None
            if done is not None:
                outcome, ended = (ClockState.MET_LATE if done.at > due else ClockState.MET), done
            elif cancelled is not None and due > cancelled:
                outcome, ended = ClockState.CANCELLED, cancel
            clocks.append(
                Clock(
                    rule=rule,
                    case=context.case,
                    person=key,
                    number=numbers[key],
                    started=period.begins,
                    deadline=period.deadline,
                    outcome=outcome,
                    ended_at=ended.at if ended else None,
                    ended_by=ended.type if ended else None,
                    start_event=start,
                )
            )
    return clocks


def _waiting(waiting: dict[str | None, dict[str, datetime]], key: str | None) -> dict[str, datetime]:
    """The deferrals open for a clock of `key` (a person, or None for the case): the case's own and the person's."""
    found = dict(waiting.get(None, {}))
    if key is not None:
        found.update(waiting.get(key, {}))
    return found


def _lead_clocks(context: _Context, rule_id: str, targets: list[Clock], events: list[Event]) -> list[Clock]:
    """A lead rule's clocks: due `before` ahead of the target's due, one round per target clock and another
    after each extension of the target (a further extension must again be requested in time)."""
    clocks = []
    for target in targets:
        rule = context.pack.rule_at(rule_id, target.started.astimezone(context.zone), disabled=context.disabled)
        if rule is None or (rule.applies and not rule.applies_to(_facts(context, target.start_event))):
            continue
        mine = [e for e in events if e.at >= target.started and same_person(e.person, target.person)]
        extensions = {step.on for step in target.rule.extend}
        round_start, number = target.started, 1
        while True:
            clock = _lead_round(context, rule, target, mine, round_start, number)
            clocks.append(clock)
            if clock.outcome not in MET_STATES:
                break
            met_at = clock.ended_at
            assert met_at is not None, "a met round ended at its stop event"
            granted = next((e for e in mine if e.at > met_at and e.type in extensions), None)
            if granted is None or (target.ended_at is not None and granted.at >= target.ended_at):
                break
            round_start, number = granted.at, number + 1
    return clocks


def _lead_round(context: _Context, rule: Rule, target: Clock, events: list[Event], round_start: datetime, number: int) -> Clock:
    """One round of a lead clock. Its due follows the target's due as it stands, until the round ends or the due
    passes: an extension granted after a late request does not make the request timely."""
    moving = (
        {s.on for s in target.rule.extend}
        | {p.start for p in target.rule.pause}
        | {p.until for p in target.rule.pause}
        | set(target.rule.restart)
        | {d.start for d in target.rule.defer}
        | {d.until for d in target.rule.defer}
    )
    breaks = [round_start, *sorted(e.at for e in events if e.type in moving and e.at > round_start)]
    ending = next((e for e in events if e.at >= round_start and (e.type in rule.stop or e.type in rule.cancel)), None)
    lead = rule.lead
    assert lead is not None, "a version of a lead rule is a lead rule"
    for index, instant in enumerate(breaks):
        until = breaks[index + 1] if index + 1 < len(breaks) else None
        deadline = count_back(_target_as_of(context, target, events, instant), lead.before)
        ends_here = ending is not None and (until is None or ending.at < until)
        passes_here = deadline.due is not None and (until is None or deadline.due < until)
        if ends_here or passes_here:
            break
    outcome, ended = None, ending
    if ending is not None:
        late = deadline.due is not None and ending.at > deadline.due
        outcome = ClockState.CANCELLED if ending.type in rule.cancel else (ClockState.MET_LATE if late else ClockState.MET)
    elif target.outcome is not None:  # the target ended first: nothing is left to do ahead of it
        assert target.ended_at is not None, "an ended clock has its end: outcome and ended_at are set together"
        outcome, ended = ClockState.CANCELLED, Event(target.ended_by or "", target.ended_at)
    return Clock(
        rule=rule,
        case=context.case,
        person=target.person,
        number=number,
        started=round_start,
        deadline=deadline,
        outcome=outcome,
        ended_at=ended.at if ended else None,
        ended_by=ended.type if ended else None,
        anomalies=deadline.anomalies,
        lead_of=target.rule.id,
        start_event=target.start_event,
    )


def _target_as_of(context: _Context, target: Clock, events: list[Event], moment: datetime) -> Deadline:
    """The target clock's deadline from the events up to `moment`."""
    earlier = [e for e in events if e.at <= moment]
    for clock in _replay_rule(context, target.rule.id, earlier):
        if clock.started == target.started and clock.person == target.person:
            return clock.deadline
    return target.deadline


def _facts(context: _Context, event: Event | None) -> dict:
    person = event.person if event else None
    return {
        "case": context.facts,
        "person": context.persons.get(person or "", {}),
        "event": {"type": event.type, "person": person, "data": dict(event.data)} if event else {},
    }
