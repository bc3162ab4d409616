"""Campaign ledgers (台账) for supervision and assessment: every clue with its source, dates, steps and status; every
listed case with its level, leaders and progress reports; the recurring duties of each unit by period; and the
counts per unit. Read from the store for a scope (the bureau, a unit, an officer, or a dashboard viewer's cases),
as `qixian.reports` reads the case clocks. Rendered as CSV (every cell through safetext.csv_row) and HTML
(autoescaped) by `ledger_csv` and `ledger_html`.

Which rows a period holds: clues received before its end that were still open at its start or later; listings in
force at some moment of it; duty periods whose due falls in it (as report clocks are assessed by their due).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jinja2
from sqlalchemy import select
from sqlmodel import col

from qixian.alerting.outbox import rule_of
from qixian.casework.campaign import LEVEL_NAMES, listing
from qixian.engine.clocks import MET_STATES, ClockState
from qixian.engine.recurring import period_label
from qixian.legaltime.localtime import SHANGHAI, display, moment
from qixian.rulebook.model import RulePack
from qixian.safetext import csv_row, visible
from qixian.store.repository import Store
from qixian.store.rows import chunked
from qixian.store.tables import CaseRow, ClockRow, EventRow
from qixian.supervision.clockview import STATES, state_of
from qixian.supervision.reports import Scope, scoped
from qixian.supervision.reportviews import TEMPLATES

CLUE_STATUS = [  # the latest of these events says where a clue stands (the last matching wins)
    ("clue_received", "待交办"),
    ("clue_assigned", "核查中"),
    ("clue_verified", "已核查"),
    ("clue_feedback_given", "已反馈"),
    ("clue_transferred", "已移交"),
    ("clue_closed", "已办结"),
    ("clue_merged_into_case", "已转为案件"),
]
FINISHED = ("已移交", "已办结", "已转为案件")
KINDS = {"clues": "线索台账", "listings": "挂牌督办台账", "duties": "常态化工作台账", "counts": "专项工作按单位统计"}
Narrow = Callable  # (query, case id column) -> the query narrowed to the cases a scope may see


@dataclass
class Step:
    """One clock of a clue or a listed case as the ledger shows it."""

    name: str
    whose: str  # the assignee's or unit's name, or the period (第2期)
    due: str
    state: ClockState
    ended: str

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def overdue(self) -> bool:
        return self.state in (ClockState.OVERDUE, ClockState.MET_LATE)

    @property
    def period_text(self) -> str:
        """A period as read: 2026-W40（期满 2026-10-08 18:00）; a day's period is its due alone (2026-10-08 18:00)."""
        return self.due if self.due.split(" ")[0] == self.whose else f"{self.whose}（期满 {self.due}）"


@dataclass
class ClueLine:
    id: str
    title: str
    source: str
    unit: str
    handler: str
    received: str
    assignees: str
    steps: list[Step]
    status: str
    overdue: bool


@dataclass
class ListingLine:
    id: str
    title: str
    unit: str
    level: str
    leader: str
    contact: str
    listed: str
    every: str
    solve_by: str
    lifted: str
    reports: list[Step]
    made: int
    missed: int
    overdue: bool


@dataclass
class DutyLine:
    unit: str
    unit_name: str
    duty: str
    periods: list[Step] = field(default_factory=list)

    def count(self, *states: str) -> int:
        return sum(1 for p in self.periods if p.state in states)

    @property
    def overdue(self) -> bool:
        return any(p.state == ClockState.OVERDUE for p in self.periods)


@dataclass
class UnitCount:
    unit: str
    unit_name: str
    clues: int = 0
    clues_overdue: int = 0
    clues_finished: int = 0
    listed: int = 0
    reports_made: int = 0
    reports_missed: int = 0
    duty_periods: int = 0
    duties_done: int = 0
    duties_missed: int = 0


@dataclass
class Ledgers:
    scope_label: str
    start: datetime
    end: datetime
    now: datetime
    clues: list[ClueLine]
    listings: list[ListingLine]
    duties: list[DutyLine]

    def counts(self) -> list[UnitCount]:
        """Per unit: clues (received, overdue, finished), listed cases (reports made, missed), duty periods (done, missed)."""
        found: dict[str, UnitCount] = {}

        def of(unit: str, name: str) -> UnitCount:
            return found.setdefault(unit, UnitCount(unit, name))

        for clue in self.clues:
            count = of(clue.unit, clue.unit)
            count.clues += 1
            count.clues_overdue += clue.overdue
            count.clues_finished += clue.status.startswith(FINISHED)
        for listed in self.listings:
            count = of(listed.unit, listed.unit)
            count.listed += 1
            count.reports_made += listed.made
            count.reports_missed += listed.missed
        for duty in self.duties:
            count = of(duty.unit_name, duty.unit_name)
            count.duty_periods += len(duty.periods)
            count.duties_done += duty.count(*MET_STATES)
            count.duties_missed += duty.count(ClockState.OVERDUE)
        return sorted(found.values(), key=lambda c: c.unit)


def build(
    store: Store, pack: RulePack, start: datetime, end: datetime, now: datetime, narrow: Narrow, scope_label: str, keep: Callable[[CaseRow], bool] | None = None
) -> Ledgers:
    """The ledgers of the cases `narrow` lets through (and `keep` confirms, one by one: a dashboard viewer's
    `sees`), for the period [start, end) as of `now`."""
    directory = store.directory()
    with store.session() as session:
        clues = _cases(session, narrow, CaseRow.kind == "clue", keep)
        listed_ids = select(col(EventRow.case_id)).where(col(EventRow.type) == "case_listed").distinct()
        listed = _cases(session, narrow, col(CaseRow.id).in_(listed_ids), keep)
        duties = _cases(session, narrow, CaseRow.kind == "duty", keep)
        ids = [c.id for c in (*clues, *listed, *duties)]
        clocks: dict[str, list[ClockRow]] = defaultdict(list)
        events: dict[str, list[EventRow]] = defaultdict(list)
        for part in chunked(ids):
            for row in session.execute(select(ClockRow).where(col(ClockRow.case_id).in_(part)).order_by(col(ClockRow.started_at), col(ClockRow.id))).scalars():
                clocks[row.case_id].append(row)
            for row in session.execute(select(EventRow).where(col(EventRow.case_id).in_(part)).order_by(col(EventRow.at), col(EventRow.seq))).scalars():
                events[row.case_id].append(row)
        listings = {c.id: listing(session, c.id, lifted_too=True) for c in listed}
    name = directory.unit_name
    people = directory.name_of

    def step(row: ClockRow, whose: str) -> Step:
        return Step(pack.name_of(row.rule_id), whose, row.due_display or "—", state_of(row, now), display(row.ended_at) if row.ended_at else "")

    clue_lines = []
    for case in clues:
        happened = events[case.id]
        if not happened or _utc(happened[0].at) >= end:
            continue
        status = next((label for kind, label in reversed(CLUE_STATUS) if any(e.type == kind for e in happened)), "待交办")
        status = _status_detail(status, happened, name)
        steps = [step(c, name(c.person) if c.person else "") for c in clocks[case.id] if c.outcome != ClockState.RESTARTED]
        if status.startswith(FINISHED) and happened[-1].at and _utc(happened[-1].at) < start and not any(s.state == ClockState.OVERDUE for s in steps):
            continue  # finished before the period
        assignees = "、".join(
            dict.fromkeys(name(e.data.get("assignee")) + ("（双交办）" if e.data.get("parallel") else "") for e in happened if e.type == "clue_assigned")
        )
        clue_lines.append(
            ClueLine(
                case.id,
                case.title or "",
                (case.facts or {}).get("source") or _source(happened),
                name(case.unit),
                people(case.handler) if case.handler else "—",
                moment(_local(happened[0].at)),
                assignees or "—",
                steps,
                status,
                any(s.overdue for s in steps),
            )
        )
    listing_lines = []
    for case in listed:
        given = listings.get(case.id) or {}
        lifted = given.get("lifted_at")
        if _utc(given["at"]) >= end or (lifted is not None and _utc(lifted) < start):
            continue
        reports = [
            step(c, period_label(rule.every, c.started_at, c.number))
            for c in clocks[case.id]
            if (rule := rule_of(pack, c)) is not None and rule.every is not None and "case_listed" in rule.start
        ]
        listing_lines.append(
            ListingLine(
                case.id,
                case.title or "",
                name(case.unit),
                LEVEL_NAMES.get(level, level) if (level := given.get("level")) else "—",
                people(leader) if (leader := given.get("leader")) else "—",
                people(contact) if (contact := given.get("contact")) else "—",
                moment(_local(given["at"])),
                str(given.get("report_every") or "—"),
                str(given.get("solve_by") or "—"),
                moment(_local(lifted)) if lifted else "",
                reports,
                sum(1 for r in reports if r.state in MET_STATES),
                sum(1 for r in reports if r.state == ClockState.OVERDUE),
                any(r.overdue for r in reports),
            )
        )
    duty_lines: dict[tuple[str, str], DutyLine] = {}
    for case in duties:
        for row in clocks[case.id]:
            rule = rule_of(pack, row)
            if rule is None or rule.every is None or row.due_at is None or not start <= _utc(row.due_at) < end:
                continue
            line = duty_lines.setdefault((case.unit or "", rule.id), DutyLine(case.unit or "", name(case.unit), rule.name))
            line.periods.append(
                Step(
                    rule.name,
                    period_label(rule.every, _local(row.started_at), row.number),
                    row.due_display or "—",
                    state_of(row, now),
                    display(row.ended_at) if row.ended_at else "",
                )
            )
    return Ledgers(scope_label, start, end, now, clue_lines, listing_lines, sorted(duty_lines.values(), key=lambda d: (d.unit_name, d.duty)))


def narrow_to(scope: Scope) -> Narrow:
    """The cases of a report's scope (the bureau, a unit, an officer), as the assessment report counts them."""
    return lambda query, _case_id: scoped(query, scope)


def _cases(session, narrow: Narrow, condition, keep) -> list[CaseRow]:
    found = session.execute(narrow(select(CaseRow).where(condition), CaseRow.id).order_by(CaseRow.id)).scalars()
    return [case for case in found if keep is None or keep(case)]


def _status_detail(status: str, happened: list[EventRow], name) -> str:
    last = {e.type: e for e in happened}
    if status == "已转为案件":
        return f"已转为案件 {last['clue_merged_into_case'].data.get('case', '')}"
    if status == "已移交" and last["clue_transferred"].data.get("to_unit"):
        return f"已移交 {name(last['clue_transferred'].data['to_unit'])}"
    return status


def _source(happened: list[EventRow]) -> str:
    for e in happened:
        if e.type == "clue_received" and (source := e.data.get("source")):
            return source
    return "—"


def _local(at: datetime) -> datetime:
    return _utc(at).astimezone(SHANGHAI)


def _utc(at: datetime) -> datetime:
    """A stored time (naive ones are UTC) as an aware instant."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# -- CSV and HTML ---------------------------------------------------------------------------------


def _steps_text(steps: list[Step]) -> str:
    return "；".join(f"{s.name}{('（' + s.whose + '）') if s.whose else ''} {s.due} {s.state_label}" for s in steps)


def rows(ledgers: Ledgers, kind: str) -> tuple[list[str], list[list]]:
    """(headings, rows) of one ledger: clues | listings | duties | counts."""
    if kind == "clues":
        return (
            ["线索编号", "标题", "来源", "单位", "责任民警", "接收时间", "承办对象", "步骤与期限", "状态", "超期"],
            [
                [c.id, c.title, c.source, c.unit, c.handler, c.received, c.assignees, _steps_text(c.steps), c.status, "是" if c.overdue else ""]
                for c in ledgers.clues
            ],
        )
    if kind == "listings":
        return (
            [
                "案件编号",
                "标题",
                "单位",
                "挂牌级别",
                "责任领导",
                "督办联系人",
                "挂牌时间",
                "报告间隔",
                "限期破案",
                "撤销挂牌",
                "进展报告",
                "已报",
                "漏报",
                "超期",
            ],
            [
                [
                    ln.id,
                    ln.title,
                    ln.unit,
                    ln.level,
                    ln.leader,
                    ln.contact,
                    ln.listed,
                    ln.every,
                    ln.solve_by,
                    ln.lifted or "",
                    _steps_text(ln.reports),
                    ln.made,
                    ln.missed,
                    "是" if ln.overdue else "",
                ]
                for ln in ledgers.listings
            ],
        )
    if kind == "duties":
        return (
            ["单位", "工作", "周期数", "按期完成", "超期完成", "漏做（超期）", "进行中", "各周期"],
            [
                [
                    d.unit_name,
                    d.duty,
                    len(d.periods),
                    d.count(ClockState.MET),
                    d.count(ClockState.MET_LATE),
                    d.count(ClockState.OVERDUE),
                    d.count(ClockState.RUNNING, ClockState.PROVISIONAL),
                    "；".join(f"{p.period_text} {p.state_label}" for p in d.periods),
                ]
                for d in ledgers.duties
            ],
        )
    return (
        ["单位", "线索", "线索超期", "线索办结", "挂牌督办案件", "进展已报", "进展漏报", "常态化工作周期", "已完成", "漏做"],
        [
            [
                c.unit_name,
                c.clues,
                c.clues_overdue,
                c.clues_finished,
                c.listed,
                c.reports_made,
                c.reports_missed,
                c.duty_periods,
                c.duties_done,
                c.duties_missed,
            ]
            for c in ledgers.counts()
        ],
    )


def ledger_csv(ledgers: Ledgers, kind: str) -> str:
    """One ledger as CSV (UTF-8 with BOM for Excel); no text cell is a formula (safetext.csv_row)."""
    out = io.StringIO()
    writer = csv.writer(out)
    headings, body = rows(ledgers, kind)
    writer.writerow(csv_row(headings))
    for row in body:
        writer.writerow(csv_row(row))
    return "\ufeff" + out.getvalue()


def ledger_html(ledgers: Ledgers) -> str:
    """Every ledger on one self-contained page (names escaped; overdue rows in red)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, finalize=visible, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return environment.get_template("ledger.html.j2").render(**html_context(ledgers))


def html_context(ledgers: Ledgers, case_link: Callable[[str], str] | None = None) -> dict:
    """What ledger_body.html.j2 needs (the standalone page has no links; the dashboard links each case page)."""
    return dict(ledgers=ledgers, kinds=KINDS, period=_period(ledgers), case_link=case_link)


def _period(ledgers: Ledgers) -> str:
    return f"{_local(ledgers.start).date()} 至 {(_local(ledgers.end) - timedelta(seconds=1)).date()}"
