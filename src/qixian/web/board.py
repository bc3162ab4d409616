"""What the dashboard pages show, read from the store for one viewer: the traffic-light list of open clocks, the
overdue and anomaly lists, one case with its timeline, clocks, explanations and reminders, and the viewer's own
reminders. Every query is narrowed to the viewer's cases (`Viewer.scoped`) and confirmed row by row (`sees`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import String, cast, or_, select

from qixian.clockview import LIGHTS, STATES, left, light, state_of
from qixian.digest import in_digest
from qixian.failures import Failure, waiting_because
from qixian.localtime import display
from qixian.outbox import acknowledged_overdue
from qixian.reports import ANOMALY_LABELS
from qixian.rulebook.model import RulePack
from qixian.store.repository import Store
from qixian.store.tables import AcknowledgementRow, CaseRow, ClockRow, OutboxRow
from qixian.web.access import Viewer

SHOWN = 500  # rows a list shows at most; filters narrow it
READ = 4 * SHOWN  # open clocks read (earliest due first) to fill a list filtered by light


@dataclass
class ClockLine:
    clock: ClockRow
    case: CaseRow | None
    rule_name: str
    group: str
    light: str
    state: str
    left: str
    unit: str
    handler: str
    acknowledged: bool = False  # an overdue reminder at the current due was acknowledged: escalation stopped
    digested: bool = False  # overdue and past its repeats: listed in the daily overdue digest (qixian.digest)

    @property
    def light_label(self) -> str:
        return LIGHTS[self.light]


@dataclass
class Listing:
    lines: list[ClockLine]
    more: bool  # there were more than shown


@dataclass
class ReminderLine:
    row: OutboxRow
    recipient: str
    rule_name: str
    title: str
    ack_at: datetime | None
    ack_by: str
    ack_channel: str
    clock_open: bool
    failure: Failure | None = None  # a pending reminder's last failed attempt: why it is still waiting

    @property
    def can_ack(self) -> bool:  # a daily digest lists many clocks: each is dealt with on its own, not acknowledged
        return self.ack_at is None and self.clock_open and self.row.clocks is None


@dataclass
class ClockDetail:
    line: ClockLine
    explanation: list[str]
    reminders: list[ReminderLine]
    escalation_stopped: ReminderLine | None  # the acknowledged overdue reminder that stopped escalation at this due
    anomalies: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CasePage:
    case: CaseRow | None
    case_id: str
    unit: str
    handler: str
    co_handlers: list[str]
    events: list[tuple[str, str, str, str]]  # (when, what, person, details)
    clocks: list[ClockDetail]
    kind: str = "—"  # the case kind's name


class Board:
    """The pages' data for one request: the store, the rule pack and the directory as it is now."""

    def __init__(self, store: Store, pack: RulePack):
        self.store, self.pack = store, pack
        self.directory = store.directory()
        groups: dict[str, str] = {}
        for rule in pack.rules:
            groups.setdefault(rule.id, rule.group or "")
        self.group_of = groups

    # -- lists ------------------------------------------------------------------------------------

    def clocks(self, viewer: Viewer, now: datetime, *, unit: str | None = None, officer: str | None = None,
               group: str | None = None, lights: tuple[str, ...] = ()) -> Listing:
        """Open clocks the viewer may see, earliest due first (paused clocks without a due last)."""
        query = (select(ClockRow, CaseRow).join(CaseRow, CaseRow.id == ClockRow.case_id, isouter=True)
                 .where(ClockRow.open.is_(True)))
        if unit:
            query = query.where(CaseRow.unit == unit)
        if officer:
            query = query.where(or_(CaseRow.handler == officer, cast(CaseRow.co_handlers, String).like(f'%"{officer}"%')))
        if group:
            query = query.where(ClockRow.rule_id.in_([r for r, g in self.group_of.items() if g == group]))
        if lights == ("red",):
            query = query.where(ClockRow.due_at <= now.astimezone(timezone.utc), ClockRow.paused.is_(False))
        query = viewer.scoped(query).order_by(ClockRow.due_at.is_(None), ClockRow.due_at, ClockRow.id).limit(READ)
        with self.store.session() as session:
            rows = [(c, k) for c, k in session.execute(query) if viewer.sees(k)
                    and (not officer or (k and (k.handler == officer or officer in k.co_handlers)))]
        lines = [self._line(clock, case, now) for clock, case in rows]
        if lights:
            lines = [line for line in lines if line.light in lights]
        self._mark_acknowledged(lines)
        return Listing(lines[:SHOWN], len(lines) > SHOWN or len(rows) == READ)

    def anomalies(self, viewer: Viewer, now: datetime) -> list[tuple[ClockLine, str, str]]:
        """(clock, anomaly label, message) for the viewer's clocks whose replay recorded an anomaly, latest due first."""
        query = (select(ClockRow, CaseRow).join(CaseRow, CaseRow.id == ClockRow.case_id, isouter=True)
                 .where(cast(ClockRow.anomalies, String) != "[]"))
        query = viewer.scoped(query).order_by(ClockRow.due_at.desc(), ClockRow.id).limit(SHOWN)
        with self.store.session() as session:
            rows = [(c, k) for c, k in session.execute(query) if viewer.sees(k)]
        return [(self._line(clock, case, now), ANOMALY_LABELS.get(a.get("kind", ""), a.get("kind", "")), a.get("message", ""))
                for clock, case in rows for a in clock.anomalies]

    def reminders(self, viewer: Viewer) -> list[ReminderLine]:
        """The reminders sent to the viewer, latest first."""
        query = (select(OutboxRow).where(OutboxRow.recipient == viewer.officer)
                 .order_by(OutboxRow.step_at.desc(), OutboxRow.id.desc()).limit(SHOWN))
        with self.store.session() as session:
            rows = list(session.execute(query).scalars())
        return self._reminder_lines(rows)

    # -- one case ---------------------------------------------------------------------------------

    def case(self, viewer: Viewer, case_id: str, now: datetime) -> CasePage | None:
        """The case page, or None if there is no such case or the viewer may not see it."""
        case = self.store.case(case_id)
        events = self.store.events_of(case_id)
        if (case is None and not events) or not viewer.sees(case):
            return None
        directory = self.directory
        timeline = [(display(e.at), self.pack.event_name(e.type), e.person or "",
                     self.pack.data_text(e.data)) for e in events]
        with self.store.session() as session:
            outbox = list(session.execute(select(OutboxRow).where(OutboxRow.case_id == case_id)
                                          .order_by(OutboxRow.step_at, OutboxRow.id)).scalars())
        reminders = self._reminder_lines([r for r in outbox if r.clocks is None])  # a digest is not this case's
        waiting = waiting_because(self.store, [r.row for r in reminders])
        for line in reminders:
            line.failure = waiting.get(line.row.id)
        details = []
        for clock in self.store.clocks(case=case_id):
            line = self._line(clock, case, now)
            mine = [r for r in reminders if r.row.clock_id == clock.id]
            stopped = next((r for r in mine if r.ack_at is not None and r.row.level == "overdue"
                            and clock.due_at is not None and r.row.due_at == clock.due_at), None)
            line.acknowledged = stopped is not None
            details.append(ClockDetail(line, list(clock.explanation), mine, stopped,
                                       [(ANOMALY_LABELS.get(a.get("kind", ""), a.get("kind", "")), a.get("message", ""))
                                        for a in clock.anomalies]))
        return CasePage(case, case_id, _unit_name(directory, case.unit if case else None),
                        directory.name_of(case.handler) if case and case.handler else "—",
                        [directory.name_of(o) for o in (case.co_handlers if case else [])], timeline, details,
                        self.pack.kind_label(case.kind if case else None))

    def reminder(self, row: OutboxRow) -> ReminderLine:
        return self._reminder_lines([row])[0]

    # -- helpers ----------------------------------------------------------------------------------

    def _line(self, clock: ClockRow, case: CaseRow | None, now: datetime) -> ClockLine:
        directory = self.directory
        return ClockLine(clock, case, self.pack.name_of(clock.rule_id), self.group_of.get(clock.rule_id, ""),
                         light(self.pack, clock, now), STATES[state_of(clock, now)], left(clock, now),
                         _unit_name(directory, case.unit if case else None),
                         directory.name_of(case.handler) if case and case.handler else "—",
                         digested=in_digest(self.pack, clock, now))

    def _mark_acknowledged(self, lines: list[ClockLine]) -> None:
        with self.store.session() as session:
            quiet = acknowledged_overdue(session, {line.clock.id for line in lines if line.light == "red"})
        for line in lines:
            line.acknowledged = line.clock.due_at is not None and (line.clock.id, int(line.clock.due_at.timestamp())) in quiet

    def _reminder_lines(self, rows: list[OutboxRow]) -> list[ReminderLine]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        with self.store.session() as session:
            acks = {a.outbox_id: a for a in session.execute(
                select(AcknowledgementRow).where(AcknowledgementRow.outbox_id.in_(ids))).scalars()}
            open_clocks = set(session.execute(select(ClockRow.id).where(
                ClockRow.id.in_({r.clock_id for r in rows}), ClockRow.open.is_(True))).scalars())
            titles = {case_id: title for case_id, title in session.execute(select(CaseRow.id, CaseRow.title).where(
                CaseRow.id.in_({r.case_id for r in rows})))}
        directory = self.directory
        lines = []
        for row in rows:
            ack = acks.get(row.id)
            lines.append(ReminderLine(row, directory.name_of(row.recipient), self.pack.name_of(row.rule_id),
                                      titles.get(row.case_id) or "", ack.at if ack else None,
                                      directory.name_of(ack.officer) if ack else "", ack.channel if ack else "",
                                      row.clock_id in open_clocks))
        return lines


def _unit_name(directory, unit: str | None) -> str:
    return directory.unit_name(unit)
