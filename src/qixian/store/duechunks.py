"""The clocks a scan owes, taken in chunks, one transaction each. On PostgreSQL each chunk is claimed with
FOR UPDATE SKIP LOCKED and committed before the next is taken, so scanners that start together each claim chunks
of their own, and what one has owed is soon in the outbox for all of them to send. On SQLite (one writer, one
scanner) the chunks are larger. A scan killed between two chunks leaves the committed chunks owed and the rest due:
the next scan owes the rest, as a clean run would have."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import RowMapping
from sqlmodel import Session

from qixian.faults import crash_point
from qixian.store.repository import Store
from qixian.store.tables import ClockRow

CHUNK = {"postgresql": 200, "sqlite": 5000}  # clocks per transaction
# what owing reads of a clock (not its explanation or anomalies: large JSON, decoded for nothing)
OWING = ("id", "case_id", "person", "rule_id", "rule_version", "paused", "started_at", "due_at", "next_reminder_at")


def due_chunks(store: Store, utc_now, *, write: bool, size: int | None = None) -> Iterator[tuple[Session, list[RowMapping]]]:
    """Yield (session, clock rows) for the open clocks whose next reminder is due by `utc_now`, a chunk at a time in
    due order; with `write`, the rows are claimed (PostgreSQL row locks, skipping those another scanner holds) and
    the session is committed once the caller is done with the chunk."""
    clocks = ClockRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    size = size or CHUNK.get(store.engine.dialect.name, CHUNK["sqlite"])
    after = None  # the last (next reminder, id) seen: each chunk starts past it, so the loop ends even when nothing is written
    while True:
        query = (
            select(*(clocks.c[name] for name in OWING))
            .where(clocks.c.open.is_(True), clocks.c.next_reminder_at <= utc_now)
            .order_by(clocks.c.next_reminder_at, clocks.c.id)
            .limit(size)
        )
        if after is not None:
            query = query.where(or_(clocks.c.next_reminder_at > after[0], and_(clocks.c.next_reminder_at == after[0], clocks.c.id > after[1])))
        if write and store.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with store.session() as session:
            rows = list(session.connection().execute(query).mappings())
            if not rows:
                return
            yield session, rows
            if write:
                session.commit()
        crash_point("scan.owed")
        if len(rows) < size:
            return
        after = (rows[-1]["next_reminder_at"], rows[-1]["id"])
