"""What the dashboard pages show, read from the store for one viewer: the traffic-light list of open clocks, the
overdue and anomaly lists, one case with its timeline, clocks, explanations and reminders, and the viewer's own
reminders. Every query is narrowed to the viewer's cases (`Viewer.scoped`) and confirmed row by row (`sees`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlmodel import Session, col

from qixian.alerting.digest import in_digest
from qixian.alerting.failures import Failure, waiting_because
from qixian.alerting.outbox import acknowledged_overdue
from qixian.casework.campaign import CaseCampaign, case_campaign
from qixian.engine.directory import Directory
from qixian.legaltime.localtime import SHANGHAI, display
from qixian.rulebook.model import RulePack
from qixian.store.repository import Store
from qixian.store.tables import AcknowledgementRow, CaseRow, ClockRow, OutboxRow
from qixian.supervision.clockview import LIGHTS, STATES, left, light, state_of
from qixian.supervision.reports import ANOMALOUS, ANOMALY_LABELS
from qixian.web.access import Viewer, cases_of

PAGE = 50  # rows on one page of a list
COUNTED = 1_000  # a list is counted up to this many rows (20 pages) past the page shown: "共 M 页以上" beyond; counting
# 10,000 cost the 1,000,000-clock store 30 ms a page (the anomalies and overdue lists), a third of the page


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
    whose: str = ""  # whose clock: the person, or the name of the unit or body assigned (per unit / assignee)
    acknowledged: bool = False  # an overdue reminder at the current due was acknowledged: escalation stopped
    digested: bool = False  # overdue and past its repeats: listed in the daily overdue digest (qixian.alerting.digest)

    @property
    def light_label(self) -> str:
        return LIGHTS[self.light]


@dataclass(frozen=True)
class Filters:
    """What a list of open clocks is narrowed to (each None: not narrowed). Checked by the caller (app._filters):
    unit and officer among those the viewer may choose, group among the pack's, light among LIGHTS."""

    unit: str | None = None
    officer: str | None = None
    group: str | None = None
    light: str | None = None
    due_from: date | None = None  # dues on or after this day (Beijing time)
    due_to: date | None = None  # dues on or before this day


@dataclass
class Page:
    """One page of a list: its rows, the page number (from 1), how many rows the whole list has (with `more`: at
    least that many, the count stopped COUNTED rows past the page), the page size."""

    lines: list
    number: int
    total: int
    size: int = PAGE
    more: bool = False

    def count(self, found: int, counted: int) -> None:
        """The total from `found` rows counted up to `counted` + 1: more than `counted` is "at least `counted`"."""
        self.total, self.more = min(found, counted), found > counted

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


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
    campaign: CaseCampaign | None = None  # its listing for supervision, the clues it came from (qixian.campaign)


class Board:
    """The pages' data for one request: the store, the rule pack and the directory as it is now."""

    def __init__(self, store: Store, pack: RulePack, directory: Directory | None = None) -> None:
        self.store, self.pack = store, pack
        self.directory = directory if directory is not None else store.directory()
        groups: dict[str, str] = {}
        for rule in pack.rules:
            groups.setdefault(rule.id, rule.group or "")
        self.group_of = groups

    # -- lists ------------------------------------------------------------------------------------

    def clocks(self, viewer: Viewer, now: datetime, filters: Filters = Filters(), page: int = 1) -> Page:
        """One page of the open clocks the viewer may see, earliest due first, then those without a due (paused) by
        id: an order that never ties, so every clock is on exactly one page. Filtered, ordered and counted in the
        database (the count up to COUNTED rows past the page)."""
        dated, undated = self._open(viewer, now, filters)
        with self.store.session() as session:
            chosen = Page([], page, 0)
            counted = chosen.offset + PAGE + COUNTED
            dated_count = _count(session, dated, counted + 1)
            chosen.count(dated_count + _count(session, undated, counted + 1 - dated_count), counted)
            rows = list(session.execute(dated.order_by(col(ClockRow.due_at), col(ClockRow.id)).offset(chosen.offset).limit(PAGE)))
            if len(rows) < PAGE:  # past the dated clocks: the undated ones, by id
                rows += session.execute(undated.order_by(col(ClockRow.id)).offset(max(0, chosen.offset - dated_count)).limit(PAGE - len(rows))).all()
        lines = [
            self._line(clock, case, now)
            for clock, case in rows
            if viewer.sees(case) and (not filters.officer or (case and (case.handler == filters.officer or filters.officer in case.co_handlers)))
        ]
        self._mark_acknowledged(lines)
        chosen.lines = lines
        return chosen

    def _open(self, viewer: Viewer, now: datetime, filters: Filters) -> tuple[Select[tuple[ClockRow, CaseRow]], Select[tuple[ClockRow, CaseRow]]]:
        """(open clocks with a due, open clocks without) as queries over clocks left-joined to their cases (a join
        the databases drop when nothing reads the case), filtered and scoped to the viewer. The colours as `light`
        gives them, from the stored due, pause and warning time."""
        query = viewer.scoped(
            select(ClockRow, CaseRow).join(CaseRow, col(CaseRow.id) == col(ClockRow.case_id), isouter=True).where(col(ClockRow.open).is_(True)),
            col(ClockRow.case_id),
            col(ClockRow.unit),
        )
        if filters.unit:
            query = query.where(col(ClockRow.unit) == filters.unit)
        if filters.officer:
            query = query.where(col(ClockRow.case_id).in_(cases_of(filters.officer)))
        if filters.group is not None:
            query = query.where(col(ClockRow.rule_id).in_(sorted(r for r, g in self.group_of.items() if g == filters.group)))
        due_at, warning_at = col(ClockRow.due_at), col(ClockRow.warning_at)
        undated, dated = query.where(due_at.is_(None)), query.where(due_at.is_not(None))
        if filters.due_from:
            dated = dated.where(due_at >= _day_start(filters.due_from))
        if filters.due_to:
            dated = dated.where(due_at < _day_start(filters.due_to + timedelta(days=1)))
        moment = now.astimezone(UTC)
        running = (col(ClockRow.paused).is_(False),)
        if filters.light == "red":
            dated = dated.where(due_at <= moment, *running)
        elif filters.light == "grey":
            dated = dated.where(col(ClockRow.paused).is_(True))
        elif filters.light == "orange":
            dated = dated.where(warning_at <= moment, due_at > moment, *running)
        elif filters.light == "green":
            dated = dated.where(due_at > moment, or_(warning_at.is_(None), warning_at > moment), *running)
        if filters.due_from or filters.due_to or filters.light in ("red", "orange", "green"):
            undated = undated.where(False)  # a clock without a due is paused (灰) and in no due window
        return dated, undated

    def anomalies(self, viewer: Viewer, now: datetime, page: int = 1) -> Page:
        """One page of (clock, anomaly label, message) for the viewer's clocks whose replay recorded an anomaly,
        latest due first (a page holds PAGE clocks, each with all its anomalies)."""
        query = viewer.scoped(
            select(ClockRow, CaseRow).join(CaseRow, col(CaseRow.id) == col(ClockRow.case_id), isouter=True).where(ANOMALOUS),
            col(ClockRow.case_id),
            col(ClockRow.unit),
        ).order_by(col(ClockRow.due_at).desc(), col(ClockRow.id).desc())  # ix_clocks_anomalous (due_at, id), walked backwards
        with self.store.session() as session:
            chosen = Page([], page, 0)
            counted = chosen.offset + PAGE + COUNTED
            chosen.count(_count(session, query, counted + 1), counted)  # in the list's order: the index, up to the cap
            rows = list(session.execute(query.offset(chosen.offset).limit(PAGE)))
        chosen.lines = [
            (self._line(clock, case, now), ANOMALY_LABELS.get(a.get("kind", ""), a.get("kind", "")), a.get("message", ""))
            for clock, case in rows
            if viewer.sees(case)
            for a in clock.anomalies
        ]
        return chosen

    def reminders(self, viewer: Viewer, page: int = 1) -> Page:
        """One page of the reminders sent to the viewer, latest first."""
        mine = col(OutboxRow.recipient) == viewer.officer
        with self.store.session() as session:
            chosen = Page([], page, session.execute(select(func.count()).select_from(OutboxRow).where(mine)).scalar_one())
            rows = list(
                session.execute(
                    select(OutboxRow).where(mine).order_by(col(OutboxRow.step_at).desc(), col(OutboxRow.id).desc()).offset(chosen.offset).limit(PAGE)
                ).scalars()
            )
        chosen.lines = self._reminder_lines(rows)
        return chosen

    # -- one case ---------------------------------------------------------------------------------

    def case(self, viewer: Viewer, case_id: str, now: datetime) -> CasePage | None:
        """The case page, or None if there is no such case or the viewer may not see it."""
        case = self.store.case(case_id)
        events = self.store.events_of(case_id)
        if (case is None and not events) or not viewer.sees(case):
            return None
        directory = self.directory
        timeline = [(display(e.at), self.pack.event_name(e.type), e.person or "", self.pack.data_text(e.data)) for e in events]
        with self.store.session() as session:
            outbox = list(
                session.execute(select(OutboxRow).where(col(OutboxRow.case_id) == case_id).order_by(col(OutboxRow.step_at), col(OutboxRow.id))).scalars()
            )
        reminders = self._reminder_lines([r for r in outbox if r.clocks is None])  # a digest is not this case's
        waiting = waiting_because(self.store, [r.row for r in reminders])
        for reminder in reminders:
            assert reminder.row.id is not None, "a reminder read from the store has its id"
            reminder.failure = waiting.get(reminder.row.id)
        details = []
        for clock in self.store.clocks(case=case_id):
            line = self._line(clock, case, now)
            mine = [r for r in reminders if r.row.clock_id == clock.id]
            stopped = next(
                (r for r in mine if r.ack_at is not None and r.row.level == "overdue" and clock.due_at is not None and r.row.due_at == clock.due_at), None
            )
            line.acknowledged = stopped is not None
            details.append(
                ClockDetail(
                    line,
                    list(clock.explanation),
                    mine,
                    stopped,
                    [(ANOMALY_LABELS.get(a.get("kind", ""), a.get("kind", "")), a.get("message", "")) for a in clock.anomalies],
                )
            )
        return CasePage(
            case,
            case_id,
            _unit_name(directory, case.unit if case else None),
            directory.name_of(case.handler) if case and case.handler else "—",
            [directory.name_of(o) for o in (case.co_handlers if case else [])],
            timeline,
            details,
            self.pack.kind_label(case.kind if case else None),
            case_campaign(self.store, directory, case_id),
        )

    def reminder(self, row: OutboxRow) -> ReminderLine:
        return self._reminder_lines([row])[0]

    # -- helpers ----------------------------------------------------------------------------------

    def _line(self, clock: ClockRow, case: CaseRow | None, now: datetime) -> ClockLine:
        directory = self.directory
        return ClockLine(
            clock,
            case,
            self.pack.name_of(clock.rule_id),
            self.group_of.get(clock.rule_id, ""),
            light(clock, now),
            STATES[state_of(clock, now)],
            left(clock, now),
            _unit_name(directory, case.unit if case else None),
            directory.name_of(case.handler) if case and case.handler else "—",
            whose=_whose(self.pack, directory, clock),
            digested=in_digest(self.pack, clock, now),
        )

    def _mark_acknowledged(self, lines: list[ClockLine]) -> None:
        red: set[int] = set()
        for line in lines:
            if line.light == "red":
                assert line.clock.id is not None, "a clock read from the store has its id"
                red.add(line.clock.id)
        with self.store.session() as session:
            quiet = acknowledged_overdue(session, red)
        for line in lines:
            line.acknowledged = line.clock.due_at is not None and (line.clock.id, int(line.clock.due_at.timestamp())) in quiet

    def _reminder_lines(self, rows: list[OutboxRow]) -> list[ReminderLine]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        with self.store.session() as session:
            acks = {a.outbox_id: a for a in session.execute(select(AcknowledgementRow).where(col(AcknowledgementRow.outbox_id).in_(ids))).scalars()}
            open_clocks = set(
                session.execute(select(col(ClockRow.id)).where(col(ClockRow.id).in_({r.clock_id for r in rows}), col(ClockRow.open).is_(True))).scalars()
            )
            titles = {
                case_id: title
                for case_id, title in session.execute(select(col(CaseRow.id), col(CaseRow.title)).where(col(CaseRow.id).in_({r.case_id for r in rows})))
            }
        directory = self.directory
        lines = []
        for row in rows:
            ack = acks.get(row.id)
            lines.append(
                ReminderLine(
                    row,
                    directory.name_of(row.recipient),
                    self.pack.name_of(row.rule_id),
                    titles.get(row.case_id) or "",
                    ack.at if ack else None,
                    directory.name_of(ack.officer) if ack else "",
                    ack.channel if ack else "",
                    row.clock_id in open_clocks,
                )
            )
        return lines


def _count(session: Session, query: Select[tuple[ClockRow, CaseRow]], limit: int) -> int:
    """How many rows `query` (over clocks) selects, counted up to `limit`: a province's list is not counted through.
    Counted in the query's own order if it has one: the database then walks the index that order reads (as the page
    itself does) and stops at `limit`, instead of finding every row first."""
    if limit <= 0:
        return 0
    found = query.with_only_columns(col(ClockRow.id)).limit(limit).subquery()
    return session.execute(select(func.count()).select_from(found)).scalar_one()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI).astimezone(UTC)


def _unit_name(directory: Directory, unit: str | None) -> str:
    return directory.unit_name(unit)


def _whose(pack: RulePack, directory: Directory, clock: ClockRow) -> str:
    """Whose clock it is, as shown: a person as recorded; a unit or assigned body by its name in the directory."""
    if not clock.person:
        return ""
    rule = pack.bound(clock.rule_id, clock.rule_version)
    return directory.unit_name(clock.person) if rule is not None and rule.per in ("unit", "assignee") else clock.person
