"""The daily overdue digest. A clock that stays overdue repeats its reminder `overdue_digest.after` times
(qixian.engine.reminders); after that it is folded into one message a day, at `overdue_digest.at`, to each of its
recipients (its rule's own, and the escalation roles unless an overdue reminder at that due was acknowledged),
listing all their folded clocks, most overdue first. The digest of a day is one outbox row per recipient, keyed
digest:<day>:<recipient>, owed once: by the first scan after that day's digest time, listing the clocks folded by
then. Scans later that day, repeated or concurrent, owe nothing more (the key is unique, and a day already owed is
not composed again)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from qixian.alerting.outbox import _cases, acknowledged_overdue, counting_unit, rule_of
from qixian.engine.reminders import folded_at
from qixian.rulebook.model import RulePack
from qixian.store.repository import Store
from qixian.store.tables import ClockRow, OutboxRow, OutboxStatus

LABEL = "每日超期汇总"
DIGESTED = "超期，已转入每日超期汇总"  # what the dashboard says of a folded clock, instead of ever more repeats
STEP = -1  # an outbox row's step for a digest: not a step of any clock's plan
LISTED = 20  # clocks a chat digest lists; then how many more


def digest_time(pack: RulePack, now: datetime) -> tuple[date, datetime] | None:
    """(the day, the moment) of the latest digest due by `now`; None without overdue_digest or before today's time."""
    digest = pack.settings.overdue_digest
    if not digest:
        return None
    zone = ZoneInfo(pack.settings.zone)
    local = now.astimezone(zone)
    moment = datetime.combine(local.date(), time.fromisoformat(digest["at"]), tzinfo=zone)
    return (local.date(), moment) if local >= moment else None


def in_digest(pack: RulePack, row: ClockRow, now: datetime) -> bool:
    """Whether this stored clock is overdue and folded into the daily digest by `now` (no more repeats of its own)."""
    if not row.open or row.paused or row.due_at is None or row.due_at > now:
        return False
    rule = rule_of(pack, row)
    folded = folded_at(rule, counting_unit(pack, rule), row.started_at, row.due_at, pack.settings) if rule else None
    return folded is not None and folded <= now


def owe_digest(store: Store, pack: RulePack, now: datetime, *, dry_run: bool = False) -> list[dict]:
    """The digest rows owed as of `now` (outbox values), written unless `dry_run`; [] if today's are owed already."""
    due = digest_time(pack, now)
    if due is None:
        return []
    day, moment = due
    utc_moment = moment.astimezone(UTC)
    prefix = f"digest:{day.isoformat()}:"
    clocks = ClockRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    with store.session() as session:
        if session.execute(
            select(col(OutboxRow.id)).where(col(OutboxRow.step) == STEP, col(OutboxRow.step_at) == utc_moment).limit(1)
        ).first():  # this day's digests are owed (ix_outbox_digest)
            return []
        rows = [
            r
            for r in session.execute(
                select(ClockRow)
                .where(clocks.c.open.is_(True), clocks.c.paused.is_(False), clocks.c.due_at <= utc_moment)
                .order_by(clocks.c.due_at, clocks.c.id)
            ).scalars()
            if in_digest(pack, r, utc_moment)
        ]
        cases = _cases(session, {r.case_id for r in rows})
        quiet = acknowledged_overdue(session, {r.id for r in rows})
    directory = store.directory()
    mine: dict[str, list[ClockRow]] = {}
    for row in rows:
        rule, case = rule_of(pack, row), cases.get(row.case_id)
        assert rule is not None, "in_digest holds only for a clock whose rule the pack has"
        escalate = rule.overdue.escalate if (row.id, int(row.due_at.timestamp())) not in quiet else ()
        recipients, _ = directory.recipients(  # problems with the directory are reported by the clock's own reminders
            tuple(dict.fromkeys(rule.notify + escalate)),
            unit=case.unit if case else None,
            handler=case.handler if case else None,
            co_handlers=list(case.co_handlers) if case else [],
        )
        for recipient in recipients:
            mine.setdefault(recipient, []).append(row)
    utc_now = now.astimezone(UTC)
    owed = [
        {
            "key": prefix + recipient,
            "clock_id": listed[0].id,
            "case_id": listed[0].case_id,
            "person": listed[0].person,
            "rule_id": listed[0].rule_id,
            "step": STEP,
            "level": "overdue",
            "label": LABEL,
            "due_at": listed[0].due_at,
            "step_at": utc_moment,
            "recipient": recipient,
            "late": False,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": utc_now,
            "created_at": utc_now,
            "clocks": [c.id for c in listed],
        }
        for recipient, listed in sorted(mine.items())
    ]
    if owed and not dry_run:
        dialect = postgresql if store.engine.dialect.name == "postgresql" else sqlite
        with store.session() as session:
            table = OutboxRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
            session.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=["key"]), owed)
            session.commit()
    return owed
