"""The delivery log is append-only and tamper-evident, on SQLite and PostgreSQL: the database refuses changes,
and a change made anyway (by someone who first drops the guard) is named by `qixian audit verify`."""

import hashlib
import itertools
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.casework.directory import read_directory
from qixian.casework.feeds import ingest_path
from qixian.cli import main
from qixian.legaltime.localtime import parse_local
from qixian.ops import audit
from qixian.store.database import connect, upgrade
from qixian.store.tables import DeliveryRow
from tests.paths import ROOT


def fill_log(store, pack, notify_folder, sink):
    """Two scans whose chat robot fails once each time: a log of several rows, some failed, some sent."""
    store.replace_directory(read_directory(notify_folder / "directory.yaml"))
    ingest_path(store, pack, ROOT / "examples" / "events.jsonl", source="case-system", now=parse_local("2025-09-29 16:00"))
    config = NotifyConfig.load(notify_folder)
    sink.failing["/chat/"] = (500, {"errcode": 1})
    scan(store, pack, config, parse_local("2025-10-05 09:00"))
    scan(store, pack, config, parse_local("2025-10-07 00:30"))
    with store.session() as session:
        rows = list(session.exec(select(DeliveryRow).order_by(DeliveryRow.id)).scalars())
    assert len(rows) >= 4
    return rows


def verify_cli(capsys, db_url):
    code = main(["audit", "verify", "--db", db_url])
    return code, capsys.readouterr().out


def test_an_untouched_log_verifies(store, db_url, pack, notify_folder, sink, capsys):
    rows = fill_log(store, pack, notify_folder, sink)
    assert rows[0].prev_hash == "" and all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    code, out = verify_cli(capsys, db_url)
    assert code == 0 and f"{len(rows)} 条" in out


def test_the_database_refuses_to_change_or_delete_a_delivery_row(store, pack, notify_folder, sink):
    rows = fill_log(store, pack, notify_folder, sink)
    for statement in ("UPDATE deliveries SET ok = NOT ok WHERE id = :id", "DELETE FROM deliveries WHERE id = :id"):
        with pytest.raises(DBAPIError, match="只能追加"), store.engine.begin() as connection:
            connection.execute(text(statement), {"id": rows[1].id})
    assert audit.verify(store).broken is None


@pytest.mark.parametrize("column, change", [("answer", lambda row: row.answer + " "), ("ok", lambda row: not row.ok), ("recipient", lambda row: "officer-3")])
def test_a_changed_row_is_named(drop_guard, store, db_url, pack, notify_folder, sink, capsys, column, change):
    rows = fill_log(store, pack, notify_folder, sink)
    target = rows[2]
    value = change(target)
    drop_guard()
    with store.engine.begin() as connection:
        connection.execute(sa.update(DeliveryRow.__table__).where(DeliveryRow.__table__.c.id == target.id).values({column: value}))
    broken = audit.verify(store).broken
    assert broken.id == target.id and "改动" in broken.reason
    code, out = verify_cli(capsys, db_url)
    assert code == 1 and f"第 {target.id} 条" in out


def test_a_deleted_row_breaks_the_link_of_the_next_one(drop_guard, store, pack, notify_folder, sink):
    rows = fill_log(store, pack, notify_folder, sink)
    drop_guard()
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM deliveries WHERE id = :id"), {"id": rows[1].id})
    assert audit.verify(store).broken.id == rows[2].id


def test_rows_cut_off_the_end_are_found_by_the_scans_record(drop_guard, store, pack, notify_folder, sink):
    rows = fill_log(store, pack, notify_folder, sink)
    drop_guard()
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM deliveries WHERE id = :id"), {"id": rows[-1].id})
    broken = audit.verify(store).broken
    assert broken.id == rows[-1].id and "截断" in broken.reason


def expected_hash(prev: str, at: datetime, recipient, keys, attempt, channel, url, ok, answer) -> str:
    """The documented content, hashed here by hand: sha256 of the JSON list [prev, at (UTC), fields...]."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    content = json.dumps([prev, stamp, recipient, keys, attempt, channel, url, ok, answer], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def test_the_migration_chains_the_rows_already_there(empty_url):
    upgrade(empty_url, "0002")
    at = datetime(2025, 10, 5, 1, 0, 12, 345678, tzinfo=UTC)
    old = [
        ("officer-1", ["k1"], 1, "chat", "json://127.0.0.1/chat", False, "HTTP 500"),
        ("officer-1", ["k1"], 2, "sms", "json://127.0.0.1/sms", True, "HTTP 200 好"),
    ]
    engine = connect(empty_url)
    table = sa.table(
        "deliveries",
        sa.column("at", DeliveryRow.__table__.c.at.type),
        sa.column("recipient"),
        sa.column("keys", sa.JSON()),
        sa.column("attempt"),
        sa.column("channel"),
        sa.column("url"),
        sa.column("ok"),
        sa.column("answer"),
    )
    with engine.begin() as connection:
        for recipient, keys, attempt, channel, link, ok, answer in old:
            connection.execute(table.insert().values(at=at, recipient=recipient, keys=keys, attempt=attempt, channel=channel, url=link, ok=ok, answer=answer))
    engine.dispose()
    upgrade(empty_url)
    engine = connect(empty_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT prev_hash, hash FROM deliveries ORDER BY id")).all()
    engine.dispose()
    first = expected_hash("", at, *old[0])
    second = expected_hash(first, at, *old[1])
    assert [tuple(row) for row in stored] == [("", first), (first, second)]
