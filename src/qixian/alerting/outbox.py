"""The outbox: the reminders owed now, each written in the same transaction that advances its clock's next reminder
time. The outbox key (clock, due, step, recipient) is unique, so a scan that runs twice, late or
concurrently owes nothing twice. After downtime, a clock that crossed several steps owes one message, at the most
severe step reached, marked late. Once an overdue reminder of a clock is acknowledged, its later repeats at that due go
to the rule's own recipients only, no longer escalated to leaders; the clock itself runs on."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

from qixian.casework.campaign import CAMPAIGN_ROLES, campaign_people, open_new_periods
from qixian.casework.recompute import replay_pending
from qixian.engine.directory import Directory
from qixian.engine.recurring import PERIOD_LIMITS
from qixian.engine.reminders import reached
from qixian.legaltime.localtime import SHANGHAI
from qixian.legaltime.periods import Unit
from qixian.rulebook.model import Rule, RulePack
from qixian.store.duechunks import due_chunks
from qixian.store.repository import Store
from qixian.store.rows import chunked
from qixian.store.scanlock import single_scanner
from qixian.store.tables import AcknowledgementRow, CaseRow, ClockRow, OutboxRow, OutboxStatus

LATE_AFTER = timedelta(minutes=10)  # a step found more than this after its time is reported as late


@dataclass(frozen=True)
class Owed:
    key: str
    clock_id: int
    case_id: str
    person: str
    rule_id: str
    step: int
    level: str
    label: str
    due_at: datetime
    step_at: datetime
    recipient: str
    late: bool


@dataclass(frozen=True)
class Late:
    """A clock that crossed a reminder step while nothing scanned (its message goes out marked 补发)."""

    clock_id: int
    case_id: str
    person: str
    rule_id: str
    level: str
    label: str  # the most severe step crossed
    step_at: datetime
    crossed: int  # how many steps it crossed

    def as_dict(self) -> dict:
        return {
            "clock": self.clock_id,
            "case": self.case_id,
            "person": self.person or None,
            "rule": self.rule_id,
            "level": self.level,
            "step": self.label,
            "step_at": self.step_at.astimezone(SHANGHAI).isoformat(),
            "crossed": self.crossed,
        }


@dataclass
class Scanned:
    clocks: int = 0
    owed: list[Owed] = field(default_factory=list)
    late: list[Late] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    replayed: int = 0  # cases whose clocks were behind their events (an interrupted ingest), replayed first
    digests: int = 0  # daily overdue digests owed (qixian.alerting.digest; one per recipient per day)

    @property
    def caught_up(self) -> int:
        """Clocks caught up after downtime: their step's time passed while nothing scanned."""
        return len(self.late)


def rule_of(pack: RulePack, row: ClockRow | RowMapping) -> Rule | None:
    """The version a stored clock is bound to (its row, or the columns of it a scan reads)."""
    if isinstance(row, ClockRow):
        return pack.bound(row.rule_id, row.rule_version)
    return pack.bound(row["rule_id"], row["rule_version"])


def counting_unit(pack: RulePack, rule: Rule) -> Unit:
    if rule.limit is not None:
        return rule.limit.unit
    if rule.before is not None:
        return rule.before.by.unit
    if rule.every is not None:  # as the engine counts a period (qixian.engine.recurring), or the interval's own unit
        if rule.every.period is not None:
            return PERIOD_LIMITS[rule.every.period].unit
        return rule.every.interval.unit if rule.every.interval else Unit.DAYS  # a listing's interval: days or months
    assert rule.lead is not None, "no limit, before or every: the schema requires a lead (schema.RuleSpec._limit_or_lead)"
    target = pack.versions(rule.lead.of)
    return target[0].limit.unit if target and target[0].limit else Unit.DAYS


def enqueue(store: Store, pack: RulePack, now: datetime, *, dry_run: bool = False, chunk: int | None = None) -> Scanned:
    """Owe the reminders whose time has come by `now`, a chunk of clocks per transaction (qixian.store.duechunks:
    scanners started together share the work; nothing written when `dry_run`). Cases whose clocks are behind their
    events are replayed first, so nothing is owed from a clock an interrupted ingest left."""
    result = Scanned()
    directory = store.directory()
    utc_now = now.astimezone(UTC)
    with nullcontext() if dry_run else single_scanner(store.engine):
        if not dry_run:
            result.replayed = replay_pending(store, pack, now).cases
            result.replayed += open_new_periods(store, pack, now).cases
        for session, rows in due_chunks(store, utc_now, write=not dry_run, size=chunk):
            first = len(result.owed)
            upcoming = _owe_chunk(pack, directory, session, rows, now, result)
            if not dry_run:
                _write_chunk(store, session.connection(), result.owed[first:], rows, upcoming, utc_now)
    return result


def _owe_chunk(pack: RulePack, directory: Directory, session: Session, rows: list[RowMapping], now: datetime, result: Scanned) -> list[datetime | None]:
    """Add what these clocks owe to `result`; return their next reminder times, in order."""
    cases = _cases(session, {r["case_id"] for r in rows})
    acknowledged = acknowledged_overdue(session, {r["id"] for r in rows})
    upcoming: list[datetime | None] = []
    for row in rows:
        result.clocks += 1
        quiet = (row["id"], _stamp(row["due_at"])) in acknowledged
        upcoming.append(_owe(pack, directory, row, cases.get(row["case_id"]), now, result, escalate=not quiet, session=session))
    return upcoming


def _write_chunk(store: Store, connection: Connection, owed: list[Owed], rows: list[RowMapping], upcoming: list[datetime | None], utc_now: datetime) -> None:
    """Write a chunk's owed reminders to the outbox and advance its clocks (committed together by the caller)."""
    clocks, outbox = ClockRow.__table__, OutboxRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    if owed:
        dialect = postgresql if store.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(outbox).on_conflict_do_nothing(index_elements=["key"])
        connection.execute(statement, [_outbox_values(o, utc_now) for o in owed])
    connection.execute(
        clocks.update().where(clocks.c.id == bindparam("row_id")).values(next_reminder_at=bindparam("next_reminder_at")),
        [{"row_id": row["id"], "next_reminder_at": at} for row, at in zip(rows, upcoming, strict=False)],
    )


def _owe(
    pack: RulePack,
    directory: Directory,
    row: RowMapping,
    case: CasePeople | None,
    now: datetime,
    result: Scanned,
    *,
    escalate: bool = True,
    session: Session | None = None,
) -> datetime | None:
    """Add what one clock owes to `result` (overdue steps to the escalation roles too, if `escalate`); return its
    next reminder time."""
    rule = rule_of(pack, row)
    if rule is None or row["due_at"] is None or row["paused"]:
        if rule is None:
            result.problems.append(f"计时 {row['id']} 的规则 {row['rule_id']}（{row['rule_version'] or '长期'}）不在当前规则包中")
        return None
    done, later = reached(rule, counting_unit(pack, rule), row["started_at"], row["due_at"], pack.settings, now)
    crossed = [s for s in done if s.at >= row["next_reminder_at"]]
    if crossed:
        step = crossed[-1]  # the most severe step reached: one message, not a burst of stale ones
        late = len(crossed) > 1 or now - step.at > LATE_AFTER
        if late:
            result.late.append(Late(row["id"], row["case_id"], row["person"], row["rule_id"], step.level, step.label, step.at, len(crossed)))
        roles = rule.notify + (step.escalate if step.level == "overdue" and escalate else ())
        unit, handler = (case.unit, case.handler) if case else (None, None)
        named = None
        if session is not None and (rule.per == "assignee" or set(roles) & set(CAMPAIGN_ROLES)):
            unit, handler, named = campaign_people(session, directory, row, rule, unit, handler)
        recipients, problems = directory.recipients(
            tuple(dict.fromkeys(roles)), unit=unit, handler=handler, co_handlers=list(case.co_handlers) if case else [], named=named
        )
        result.problems += [f"{row['case_id']} {row['rule_id']}：{p}" for p in problems]
        due_stamp = _stamp(row["due_at"])
        for recipient in recipients:
            result.owed.append(
                Owed(
                    f"{row['id']}:{due_stamp}:{step.number}:{recipient}",
                    row["id"],
                    row["case_id"],
                    row["person"],
                    row["rule_id"],
                    step.number,
                    step.level,
                    step.label,
                    row["due_at"],
                    step.at,
                    recipient,
                    late,
                )
            )
    return later.at.astimezone(UTC) if later else None


def _stamp(due: datetime) -> int:
    return int(due.timestamp())


def acknowledged_overdue(session: Session, clock_ids: set[int]) -> set[tuple[int, int]]:
    """(clock, due) pairs among these clocks with an acknowledged overdue reminder."""
    ids, found = list(clock_ids), set[tuple[int, int]]()
    acks = AcknowledgementRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    for part in chunked(ids):
        found.update(
            (clock, _stamp(due))
            for clock, due in session.execute(select(acks.c.clock_id, acks.c.due_at).where(acks.c.clock_id.in_(part), acks.c.level == "overdue"))
        )
    return found


class CasePeople(Protocol):
    """Whom a case's reminders go to: its unit and handlers (a CaseRow, or the plain row `_cases` reads)."""

    @property
    def unit(self) -> str | None: ...
    @property
    def handler(self) -> str | None: ...
    @property
    def co_handlers(self) -> list[str]: ...


def _cases(session: Session, ids: set[str]) -> dict[str, CasePeople]:
    """The cases' unit and handlers (plain rows: no ORM objects to build for thousands of clocks a tick)."""
    cases = CaseRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    columns = (cases.c.id, cases.c.unit, cases.c.handler, cases.c.co_handlers)
    return {c.id: c for part in chunked(list(ids)) for c in session.execute(select(*columns).where(cases.c.id.in_(part)))}


def _outbox_values(owed: Owed, now: datetime) -> dict:
    return {
        "key": owed.key,
        "clock_id": owed.clock_id,
        "case_id": owed.case_id,
        "person": owed.person,
        "rule_id": owed.rule_id,
        "step": owed.step,
        "level": owed.level,
        "label": owed.label,
        "due_at": owed.due_at,
        "step_at": owed.step_at.astimezone(UTC),
        "recipient": owed.recipient,
        "late": owed.late,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
