"""The delivery log as evidence: append-only (the database refuses UPDATE and DELETE, migration 0003) and
tamper-evident. Each row's `hash` is sha256 of the previous row's hash and the row's own content, in id order,
so changing, removing or reordering a row breaks the chain from that row on; `verify` names the first such row.
The last row a scan saw is also recorded with the scan (scan_runs), so cutting rows off the end shows too."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping

from sqlalchemy import select, text
from sqlmodel import Session

from qixian.localtime import display
from qixian.store.repository import Store
from qixian.store.tables import DeliveryRow, ScanRunRow

CONTENT = ("at", "recipient", "keys", "attempt", "channel", "url", "ok", "answer")
_LOCK = 0x71786175  # PostgreSQL advisory lock: one writer extends the chain at a time


def row_hash(prev_hash: str, row: Mapping) -> str:
    """The hash of one delivery row: its content (CONTENT, times as UTC text) chained to the previous hash."""
    at = row["at"]
    at = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    content = [prev_hash, at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), row["recipient"], list(row["keys"]),
               int(row["attempt"]), row["channel"], row["url"], bool(row["ok"]), row["answer"]]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def append(session: Session, rows: Iterable[dict]) -> None:
    """Add delivery rows (CONTENT fields) at the end of the chain, in the caller's transaction."""
    rows = list(rows)
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    head = _head(session)[1]
    for row in rows:
        chained = row_hash(head, row)
        session.add(DeliveryRow(**row, prev_hash=head, hash=chained))
        head = chained


def _head(session: Session) -> tuple[int | None, str]:
    """(id, hash) of the last row of the delivery log; (None, "") when it is empty."""
    table = DeliveryRow.__table__
    last = session.execute(select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)).first()
    return (last[0], last[1]) if last else (None, "")


def head(store: Store) -> tuple[int | None, str]:
    with store.session() as session:
        return _head(session)


@dataclass(frozen=True)
class Broken:
    id: int
    at: datetime | None
    recipient: str
    reason: str


@dataclass(frozen=True)
class Verified:
    rows: int
    broken: Broken | None


def verify(store: Store) -> Verified:
    """Recompute the chain from the first row; the first row whose link or content does not match, or the first
    recorded end of the log that is gone."""
    table, runs = DeliveryRow.__table__, ScanRunRow.__table__
    count, prev, seen = 0, "", {}
    with store.engine.connect() as connection:
        recorded = connection.execute(select(runs.c.audit_id, runs.c.audit_hash, runs.c.finished_at)
                                      .where(runs.c.audit_id.is_not(None)).order_by(runs.c.audit_id)).all()
        wanted = {audit_id for audit_id, _, _ in recorded}
        result = connection.execution_options(yield_per=2000).execute(select(table).order_by(table.c.id)).mappings()
        for row in result:
            count += 1
            if row["prev_hash"] != prev:
                return Verified(count, Broken(row["id"], row["at"], row["recipient"],
                                              "与前一条记录的链接不符（前一条被改动、删除，或本条被插入）"))
            if row_hash(prev, row) != row["hash"]:
                return Verified(count, Broken(row["id"], row["at"], row["recipient"], "内容与其哈希不符（本条被改动）"))
            prev = row["hash"]
            if row["id"] in wanted:
                seen[row["id"]] = prev
    for audit_id, audit_hash, finished_at in recorded:
        if seen.get(audit_id) != audit_hash:
            return Verified(count, Broken(audit_id, None, "",
                                          f"扫描（{display(finished_at)}）结束时记录的末条已不存在或被改动（记录被截断）"))
    return Verified(count, None)
