"""Campaign work in the store: a unit's recurring duties as a matter, duty records, and opening new periods.

Clues and listed cases need nothing of their own here: a clue is a matter of kind `clue` and a listing is a
`case_listed` event on a case, both ingested and replayed like any case. A unit's duties (日梳理、周研判、月会商) are
the matter `duties:<unit>` of kind `duty`, begun by a `duties_opened` event; `duty_done` records meet its periods.
Recurring clocks gain a period as the calendar moves, not as events arrive: `open_new_periods` (run before each
scan) replays the matters whose latest period has ended by `now`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.engine import RowMapping
from sqlmodel import Session, col

from qixian.casework.directory import Directory
from qixian.casework.feedlines import check
from qixian.casework.feeds import FeedReport, ingest_items
from qixian.casework.recompute import Recomputed, recompute
from qixian.engine.recurring import next_period_start, period_label
from qixian.legaltime.localtime import SHANGHAI, as_local
from qixian.rulebook.model import Rule, RulePack
from qixian.store.repository import Store
from qixian.store.tables import ClockRow, EventRow

DUTY_MATTER = "duties:"  # the matter of a unit's recurring duties: duties:<unit id>
SOURCE = "qixian-duty"  # the event source of duty records made here (CLI, dashboard)


def duty_matter(unit: str) -> str:
    return DUTY_MATTER + unit


def duty_rules(pack: RulePack) -> list[Rule]:
    """The recurring duties of units (rules with `every:` that apply to matters of kind duty), newest versions."""
    found = []
    for rule_id in pack.ids:
        newest = pack.versions(rule_id)[-1]
        if newest.every is not None and any(c.path == ("case", "kind") and c.value == "duty" for c in newest.applies):
            found.append(newest)
    return found


def duty_named(pack: RulePack, name: str) -> Rule:
    """The duty a name or rule id means (`周研判` or `campaign.duty.weekly_review`); ValueError naming the choices."""
    rules = duty_rules(pack)
    for rule in rules:
        if name in (rule.id, rule.name):
            return rule
    choices = "、".join(f"{r.name}（{r.id}）" for r in rules) or "（规则包中没有常态化工作）"
    raise ValueError(f"没有常态化工作 {name!r}；可用：{choices}")


def open_duties(store: Store, pack: RulePack, units: list[str], at: datetime, now: datetime) -> FeedReport:
    """Begin the recurring duties of these units at `at` (once per unit: a unit already begun is left as it is)."""
    begun = set(store.case_ids())
    lines = [
        {
            "id": f"duties-opened:{unit}",
            "case": duty_matter(unit),
            "type": "duties_opened",
            "at": _text(at),
            "case_info": {"kind": "duty", "unit": unit, "title": f"{store.directory().unit_name(unit)}常态化工作"},
        }
        for unit in units
        if duty_matter(unit) not in begun
    ]
    return _record(store, pack, lines, now)


def record_duty(
    store: Store,
    pack: RulePack,
    unit: str,
    duty: str,
    at: datetime,
    now: datetime,
    *,
    period: str | None = None,
    by: str | None = None,
    note: str | None = None,
) -> FeedReport:
    """Record that `unit` did `duty` at `at` (for the period it falls in, or `period`). The unit's duties must have
    begun (qixian duty open). Raises ValueError with the reason in Chinese."""
    rule = duty_named(pack, duty)
    if duty_matter(unit) not in set(store.case_ids()):
        raise ValueError(f"单位 {unit} 的常态化工作尚未开始计时：先运行 qixian duty open --unit {unit}")
    data = {"duty": rule.name, **{k: v for k, v in (("period", period), ("by", by), ("note", note)) if v}}
    ident = f"duty-done:{unit}:{rule.id}:{_text(at)}"
    return _record(store, pack, [{"id": ident, "case": duty_matter(unit), "type": "duty_done", "at": _text(at), "data": data}], now)


def _record(store: Store, pack: RulePack, lines: list[dict], now: datetime) -> FeedReport:
    items = []
    for number, line in enumerate(lines, 1):
        raw = json.dumps(line, ensure_ascii=False)
        item = check(SOURCE, number, raw, line, pack.events, pack.settings.case_kinds)
        if not hasattr(item, "case"):
            raise ValueError(item.reason)
        items.append(item)
    return ingest_items(store, pack, items, source=SOURCE, now=now)


def _text(at: datetime) -> str:
    return as_local(at, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def open_new_periods(store: Store, pack: RulePack, now: datetime) -> Recomputed:
    """Replay the matters a recurring rule owes a new period by `now`: those whose latest period of a series has
    ended (a series its cancel event ended is left alone). Cheap: one grouped read of the recurring rules' clocks."""
    recurring = [rule_id for rule_id in pack.ids if pack.is_recurring(rule_id)]
    if not recurring:
        return Recomputed()
    clocks = ClockRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    latest = (
        select(clocks.c.case_id, clocks.c.rule_id, clocks.c.person, func.max(clocks.c.number).label("number"))
        .where(clocks.c.rule_id.in_(recurring))
        .group_by(clocks.c.case_id, clocks.c.rule_id, clocks.c.person)
        .subquery()
    )
    query = select(clocks.c.case_id, clocks.c.rule_id, clocks.c.rule_version, clocks.c.started_at, clocks.c.due_at, clocks.c.ended_by).join(
        latest,
        and_(
            clocks.c.case_id == latest.c.case_id, clocks.c.rule_id == latest.c.rule_id, clocks.c.person == latest.c.person, clocks.c.number == latest.c.number
        ),
    )
    due: set[str] = set()
    with store.engine.connect() as connection:
        for row in connection.execute(query):
            rule = pack.bound(row.rule_id, row.rule_version)
            if rule is None or rule.every is None or row.ended_by in rule.cancel or row.due_at is None:
                continue
            if next_period_start(rule, row.started_at, row.due_at, pack.calendar) <= now:
                due.add(row.case_id)
        ended = _series_ended(connection, due, pack)
    return recompute(store, pack, sorted(due - ended), now) if due - ended else Recomputed()


def _series_ended(connection: Connection, case_ids: set[str], pack: RulePack) -> set[str]:
    """Matters whose every recurring series has been ended by a cancel event since (no new period can open)."""
    if not case_ids:
        return set()
    cancels = {t for rule_id in pack.ids if pack.is_recurring(rule_id) for r in pack.versions(rule_id) for t in r.cancel}
    starts = {t for rule_id in pack.ids if pack.is_recurring(rule_id) for r in pack.versions(rule_id) for t in r.start}
    events = EventRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    last: dict[str, str] = {}
    for case_id, kind in connection.execute(
        select(events.c.case_id, events.c.type)
        .where(events.c.case_id.in_(sorted(case_ids)), events.c.type.in_(sorted(cancels | starts)))
        .order_by(events.c.at, events.c.seq)
    ):
        last[case_id] = kind
    return {case_id for case_id, kind in last.items() if kind in cancels}


CAMPAIGN_ROLES = ("listing_leader", "listing_contact")  # roles a case's listing names (settings.yaml roles)


def campaign_people(
    session: Session, directory: Directory, row: RowMapping, rule: Rule, unit: str | None, handler: str | None
) -> tuple[str | None, str | None, dict[str, list[str | None]]]:
    """(unit, handler, named roles) a campaign clock's reminders resolve against: a clock per assignee (双交办) goes
    to the officer its assignment names, in the unit assigned if the directory has it (a body outside the police,
    such as the discipline commission, is followed up by the case's own unit); a listing's leader and contact."""
    if rule.per == "assignee" and row["person"]:
        given = assignment(session, row["case_id"], row["person"])
        unit = row["person"] if row["person"] in directory.units else unit
        handler = given.get("officer") or handler
    listed = listing(session, row["case_id"], lifted_too=True) or {}
    return unit, handler, {"listing_leader": [listed.get("leader")], "listing_contact": [listed.get("contact")]}


def assignment(session: Session, case_id: str, assignee: str) -> dict[str, Any]:
    """The data of the latest assignment of a clue to `assignee` (its responsible officer: data.officer)."""
    row = (
        session.execute(
            select(col(EventRow.data))
            .where(col(EventRow.case_id) == case_id, col(EventRow.type) == "clue_assigned")
            .order_by(col(EventRow.at).desc(), col(EventRow.seq).desc())
        )
        .scalars()
        .all()
    )
    return next((d for d in row if (d or {}).get("assignee") == assignee), {}) or {}


def listing(session: Session, case_id: str, *, lifted_too: bool = False) -> dict[str, Any] | None:
    """The case's listing for supervision in force (the data of its latest case_listed event, with `at` and, when
    `lifted_too`, `lifted_at`), or None if it was never listed or (unless `lifted_too`) has been lifted since."""
    rows = session.execute(
        select(col(EventRow.type), col(EventRow.data), col(EventRow.at))
        .where(col(EventRow.case_id) == case_id, col(EventRow.type).in_(("case_listed", "listing_lifted")))
        .order_by(col(EventRow.at), col(EventRow.seq))
    ).all()
    listed = [r for r in rows if r.type == "case_listed"]
    if not listed or (rows[-1].type != "case_listed" and not lifted_too):
        return None
    lifted = rows[-1].at if rows[-1].type == "listing_lifted" else None
    return {**(listed[-1].data or {}), "at": listed[-1].at, "lifted_at": lifted}


def duty_periods(store: Store, pack: RulePack, *, units: list[str] | None = None) -> list[dict]:
    """The duty periods of these units (all when None), in unit, duty and time order: {unit_name, duty, period, clock}."""
    directory = store.directory()
    matters = [duty_matter(u) for u in units] if units else None
    query = select(ClockRow).where(col(ClockRow.case_id).like(DUTY_MATTER.replace("_", "\\_") + "%", escape="\\"))
    if matters is not None:
        query = query.where(col(ClockRow.case_id).in_(matters))
    found = []
    with store.session() as session:
        for row in session.execute(query.order_by(col(ClockRow.case_id), col(ClockRow.rule_id), col(ClockRow.number))).scalars():
            rule = pack.bound(row.rule_id, row.rule_version)
            if rule is None or rule.every is None:
                continue
            unit = row.case_id[len(DUTY_MATTER) :]
            found.append(
                {
                    "unit": unit,
                    "unit_name": directory.unit_name(unit),
                    "duty": rule.name,
                    "period": period_label(rule.every, as_local(row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=UTC)), row.number),
                    "clock": row,
                }
            )
    return found


LEVEL_NAMES = {"部": "公安部挂牌督办", "省": "省厅挂牌督办", "市": "市局挂牌督办"}


@dataclass(frozen=True)
class CaseCampaign:
    """What campaign work says about one case, for its page: its listing (level, leaders, report interval, solve
    deadline, lifted or not), the clues that became this case, and for a clue the case it became."""

    level: str | None = None
    leader: str = "—"
    contact: str = "—"
    listed: datetime | None = None
    report_every: str = "—"
    solve_by: str = "—"
    lifted: datetime | None = None
    from_clues: tuple[str, ...] = ()
    became: str | None = None

    @property
    def empty(self) -> bool:
        return self.level is None and not self.from_clues and self.became is None


def case_campaign(store: Store, directory: Directory, case_id: str) -> CaseCampaign:
    with store.session() as session:
        given = listing(session, case_id, lifted_too=True) or {}
        merges = session.execute(
            select(col(EventRow.case_id), col(EventRow.data)).where(col(EventRow.type) == "clue_merged_into_case").order_by(col(EventRow.at), col(EventRow.seq))
        ).all()
    from_clues = tuple(dict.fromkeys(clue for clue, data in merges if (data or {}).get("case") == case_id))
    became = next((data.get("case") for clue, data in reversed(merges) if clue == case_id and data), None)
    name = lambda officer: directory.name_of(officer) if officer else "—"  # noqa: E731
    level = given.get("level")
    return CaseCampaign(
        LEVEL_NAMES.get(level, level) if level is not None else None,
        name(given.get("leader")),
        name(given.get("contact")),
        given.get("at"),
        str(given.get("report_every") or "—"),
        str(given.get("solve_by") or "—"),
        given.get("lifted_at"),
        from_clues,
        became,
    )
