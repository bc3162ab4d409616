"""The delivery log against someone who can write to the database, on SQLite and PostgreSQL: with the audit key
(kept outside the database) a chain recomputed after an edit fails, and kept checkpoints find rows cut off the end
or all deleted. Rows written before the key (or before migration 0010) still verify."""

import hashlib
import json
import os
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from qixian.cli import main
from qixian.ops import audit
from qixian.store.database import connect, upgrade
from qixian.store.repository import Store
from qixian.store.tables import DeliveryRow
from tests.ops.test_audit import fill_log

KEY = "k" * 20 + "audit-key-for-tests-only-0123456789"
OTHER_KEY = "o" * 20 + "another-audit-key-for-tests-012345"


@pytest.fixture
def keyed(monkeypatch):
    """The audit key in the environment, as the scan and ops would have it."""
    monkeypatch.delenv(audit.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(audit.KEY_ENV, KEY)
    return KEY.encode()


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def rows_of(store) -> list[dict]:
    with store.engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(DeliveryRow.__table__).order_by(DeliveryRow.__table__.c.id)).mappings()]


def plain_hash(prev: str, row: dict, seal: str) -> str:
    """What someone without the key can compute: sha256 of the documented content, here by hand."""
    stamp = row["at"].replace(tzinfo=row["at"].tzinfo or UTC).astimezone(UTC)
    content = [
        prev,
        stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        row["recipient"],
        row["keys"],
        row["attempt"],
        row["channel"],
        row["url"],
        row["ok"],
        row["answer"],
    ] + ([row["text_hash"], seal] if seal else [])
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def rewrite(store, edit, seal=None, start=0):
    """The attack: change rows, then recompute every link from row `start` on without the key (relabelling the
    seal when `seal` is given). The guard must already be dropped."""
    rows = rows_of(store)
    table = DeliveryRow.__table__
    prev = rows[start - 1]["hash"] if start else ""
    with store.engine.begin() as connection:
        for row in rows[start:]:
            row = {**row, **edit(row), **({"seal": seal} if seal is not None else {})}
            row["prev_hash"], row["hash"] = prev, plain_hash(prev, row, row["seal"])
            connection.execute(sa.update(table).where(table.c.id == row["id"]).values(row))
            prev = row["hash"]


def checkpoint_line(capsys, db_url) -> str:
    code, out = run(capsys, "audit", "checkpoint", "--db", db_url, "--now", "2025-10-07 08:00")
    assert code == 0, out
    return out.strip().splitlines()[-1]


def test_rows_are_sealed_with_the_key_and_cover_the_text_sent(keyed, store, db_url, pack, notify_folder, sink, capsys):
    fill_log(store, pack, notify_folder, sink)
    rows = rows_of(store)
    assert {row["seal"] for row in rows} == {f"hmac:{audit.key_id(keyed)}"}
    sent = sink.to("/sms/") + sink.to("/chat/")
    delivered = [row for row in rows if row["channel"] in ("sms", "chat")]
    assert delivered and all(row["text_hash"] for row in delivered)
    received = {audit.text_hash(request["body"]["title"], request["body"]["message"]) for request in sent}
    assert {row["text_hash"] for row in delivered} <= received
    code, out = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 0
    assert f"用审计密钥（编号 {audit.key_id(keyed)}）封印 {len(rows)} 条。" in out


def test_golden_verify_output(keyed, store, db_url, pack, notify_folder, sink, capsys):
    fill_log(store, pack, notify_folder, sink)
    line = checkpoint_line(capsys, db_url)
    rows = rows_of(store)
    last = rows[-1]
    assert line == audit.Checkpoint.make(keyed, len(rows), last["hash"], datetime.fromisoformat("2025-10-07T08:00:00+08:00")).line
    code, out = run(capsys, "audit", "verify", "--db", db_url, "--checkpoint", line)
    from qixian.legaltime.localtime import display

    assert code == 0
    assert out == (
        f"发送记录完整：{len(rows)} 条，哈希链核对无误。\n"
        f"末条哈希 {last['hash']}（第 {len(rows)} 条，{display(last['at'])}）\n"
        f"用审计密钥（编号 {audit.key_id(keyed)}）封印 {len(rows)} 条。\n"
        "对照 1 个检查点：没有记录被删去，也没有被重算。\n"
    )


def test_an_edit_with_every_hash_recomputed_fails_with_the_key(keyed, drop_guard, store, db_url, pack, notify_folder, sink, capsys):
    fill_log(store, pack, notify_folder, sink)
    target = rows_of(store)[2]
    drop_guard()
    rewrite(store, lambda row: {"ok": not row["ok"]} if row["id"] == target["id"] else {})
    code, out = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 1 and f"发送记录第 {rows_of(store)[0]['id']} 条" in out and "内容与其哈希不符" in out


def test_relabelling_the_tail_as_unsealed_is_a_break(keyed, drop_guard, store, pack, notify_folder, sink):
    fill_log(store, pack, notify_folder, sink)
    rows = rows_of(store)
    drop_guard()
    rewrite(store, lambda row: {"answer": "HTTP 200"}, seal="sha256", start=2)
    broken = audit.verify(store, keyed).broken
    assert broken.id == rows[2]["id"] and "封印弱于前面的记录" in broken.reason


def test_a_chain_rewritten_without_seals_is_caught_by_a_kept_checkpoint(keyed, drop_guard, store, db_url, pack, notify_folder, sink, capsys):
    fill_log(store, pack, notify_folder, sink)
    line = checkpoint_line(capsys, db_url)
    drop_guard()
    # made to look like rows from before the key and migration 0010, the scans' record of the end removed
    rewrite(store, lambda row: {"answer": "HTTP 200", "ok": True, "text_hash": ""}, seal="")
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM scan_runs"))
    code, out = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 0 and "尚无用审计密钥封印的记录" in out  # what the database alone can tell: said, not hidden
    code, out = run(capsys, "audit", "verify", "--db", db_url, "--checkpoint", line)
    assert code == 1 and "与检查点" in out and "重算" in out


@pytest.mark.parametrize("keep", [2, 0])
def test_rows_cut_off_the_end_are_found_by_the_checkpoint(keyed, drop_guard, store, db_url, pack, notify_folder, sink, capsys, tmp_path, keep):
    fill_log(store, pack, notify_folder, sink)
    total = len(rows_of(store))
    kept = tmp_path / "检查点.txt"
    kept.write_text(f"运维群消息：\n{checkpoint_line(capsys, db_url)}\n", encoding="utf-8")
    drop_guard()
    with store.engine.begin() as connection:  # the tail (or everything), and the scans' record of the end
        connection.execute(text("DELETE FROM deliveries WHERE id > :id"), {"id": rows_of(store)[keep - 1]["id"] if keep else 0})
        connection.execute(text("DELETE FROM scan_runs"))
    assert run(capsys, "audit", "verify", "--db", db_url)[0] == 0  # nothing inside the database shows it
    code, out = run(capsys, "audit", "verify", "--db", db_url, "--checkpoints", str(kept))
    assert code == 1 and f"有 {total} 条记录，现只有 {keep} 条" in out and "截断或删除" in out


def test_a_changed_message_text_is_named(keyed, drop_guard, store, pack, notify_folder, sink):
    fill_log(store, pack, notify_folder, sink)
    target = next(row for row in rows_of(store) if row["text_hash"])
    drop_guard()
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(DeliveryRow.__table__)
            .where(DeliveryRow.__table__.c.id == target["id"])
            .values(text_hash=audit.text_hash("执法办案期限提醒", "另一段文字"))
        )
    broken = audit.verify(store, keyed).broken
    assert broken.id == target["id"] and "改动" in broken.reason


def test_a_forged_checkpoint_is_refused(keyed, store, db_url, pack, notify_folder, sink, capsys):
    fill_log(store, pack, notify_folder, sink)
    line = checkpoint_line(capsys, db_url)
    count = int(line.split("count=")[1].split()[0])
    for forged in (line.replace(f"count={count}", f"count={count - 1}"), line[:-1] + ("0" if line[-1] != "0" else "1")):
        code, out = run(capsys, "audit", "verify", "--db", db_url, "--checkpoint", forged)
        assert code == 2 and "检查点签名不符" in out
    code, out = run(capsys, "audit", "verify", "--db", db_url, "--checkpoint", "QXAUDIT1 count=x")
    assert code == 2 and "检查点格式不对" in out


def test_missing_or_wrong_key_reads_clearly(keyed, store, db_url, pack, notify_folder, sink, capsys, monkeypatch):
    fill_log(store, pack, notify_folder, sink)
    line = checkpoint_line(capsys, db_url)
    monkeypatch.setenv(audit.KEY_ENV, OTHER_KEY)
    code, out = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 1 and f"另一把审计密钥（编号 {audit.key_id(keyed)}）封印，当前密钥编号 {audit.key_id(OTHER_KEY.encode())}" in out
    monkeypatch.delenv(audit.KEY_ENV)
    code, out = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 1 and "未配置审计密钥" in out and "链条可被有权写库者重算" in out and "未能核对" in out
    code, out = run(capsys, "audit", "verify", "--db", db_url, "--checkpoint", line)
    assert code == 2 and "核对检查点需要签发它的审计密钥" in out
    code, out = run(capsys, "audit", "checkpoint", "--db", db_url)
    assert code == 2 and "签发检查点需要审计密钥：未配置审计密钥" in out


def test_without_a_key_the_plain_chain_verifies_and_says_so(store, db_url, pack, notify_folder, sink, capsys, monkeypatch):
    monkeypatch.delenv(audit.KEY_ENV, raising=False)
    monkeypatch.delenv(audit.KEY_FILE_ENV, raising=False)
    fill_log(store, pack, notify_folder, sink)
    assert {row["seal"] for row in rows_of(store)} == {"sha256"}
    code, out = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 0 and "未配置审计密钥（QIXIAN_AUDIT_KEY 或 QIXIAN_AUDIT_KEY_FILE），链条可被有权写库者重算" in out


def test_the_key_file_must_be_private(tmp_path, monkeypatch, db_url, capsys):
    path = tmp_path / "audit.key"
    path.write_text(KEY + "\n", encoding="utf-8")
    monkeypatch.delenv(audit.KEY_ENV, raising=False)
    monkeypatch.setenv(audit.KEY_FILE_ENV, str(path))
    os.chmod(path, 0o640)
    code, out = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 2 and f"审计密钥文件 {path} 可被同组或其他用户读取（权限 -rw-r-----）：请运行 chmod 600" in out
    os.chmod(path, 0o600)
    assert audit.signing_key() == KEY.encode()
    path.write_text("short", encoding="utf-8")
    code, out = run(capsys, "audit", "verify", "--db", db_url)
    assert code == 2 and "审计密钥少于 32 个字符" in out
    monkeypatch.setenv(audit.KEY_FILE_ENV, str(tmp_path / "missing.key"))
    assert "找不到审计密钥文件" in run(capsys, "audit", "verify", "--db", db_url)[1]
    monkeypatch.setenv(audit.KEY_ENV, KEY)
    assert "只能设置一个" in run(capsys, "audit", "verify", "--db", db_url)[1]


def test_an_unusable_key_stops_the_scan_before_anything_is_sent(db_url, notify_folder, sink, capsys, monkeypatch):
    from tests.paths import ROOT, RULES

    monkeypatch.delenv(audit.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(audit.KEY_ENV, "too-short")
    common = ["--db", db_url, "--rules", str(RULES)]
    assert main(["directory", "load", str(notify_folder / "directory.yaml"), "--db", db_url]) == 0
    assert main(["ingest", str(ROOT / "examples" / "events.jsonl"), *common, "--now", "2025-09-29 16:00"]) == 0
    code, out = run(capsys, "scan", *common, "--notify", str(notify_folder), "--now", "2025-10-05 09:00")
    assert code == 2 and "审计密钥少于 32 个字符" in out
    assert sink.requests == [] and rows_of(Store.open(db_url)) == []


def test_rows_from_before_the_key_still_verify_and_are_covered_by_the_sealed_ones(empty_url, keyed):
    upgrade(empty_url, "0008")
    at = datetime(2025, 10, 5, 1, 0, 12, 345678, tzinfo=UTC)
    old = {
        "at": at,
        "recipient": "officer-1",
        "keys": ["k1"],
        "attempt": 1,
        "channel": "chat",
        "url": "json://127.0.0.1/chat",
        "ok": False,
        "answer": "HTTP 500",
    }
    table = sa.table(
        "deliveries",
        *(
            sa.column(name, DeliveryRow.__table__.c[name].type)
            for name in ("at", "recipient", "keys", "attempt", "channel", "url", "ok", "answer", "prev_hash", "hash")
        ),
    )
    first = plain_hash("", old, "")
    second = plain_hash(first, {**old, "attempt": 2, "ok": True}, "")
    engine = connect(empty_url)
    with engine.begin() as connection:  # written as the code before 0010 wrote them (no text hash, no seal)
        connection.execute(table.insert(), [{**old, "prev_hash": "", "hash": first}, {**old, "attempt": 2, "ok": True, "prev_hash": first, "hash": second}])
    engine.dispose()
    upgrade(empty_url)
    store = Store.open(empty_url)
    result = audit.verify(store, keyed)
    assert (result.rows, result.broken, result.sealed) == (2, None, 0)
    with store.session() as session:
        audit.append(session, [{**old, "at": datetime.now(UTC), "attempt": 3, "text_hash": "ab" * 32}], keyed)
        session.commit()
    result = audit.verify(store, keyed)
    assert (result.rows, result.broken, result.sealed) == (3, None, 1)
    rows = rows_of(store)
    assert [row["seal"] for row in rows] == ["", "", f"hmac:{audit.key_id(keyed)}"] and rows[2]["prev_hash"] == second
    # an old row changed and the unsealed links recomputed: the sealed row after them no longer matches
    pg = store.engine.dialect.name == "postgresql"
    with store.engine.begin() as connection:
        for name in ["deliveries_append_only"] if pg else ["deliveries_append_only_update"]:
            connection.execute(text(f"DROP TRIGGER {name}" + (" ON deliveries" if pg else "")))
    rewrite(store, lambda row: {"answer": "HTTP 200"} if row["attempt"] == 1 else {})
    broken = audit.verify(store, keyed).broken
    assert broken.id == rows[2]["id"]
    store.engine.dispose()


def with_channels(notify_folder, sink):
    """ops and legal staff (audit:) keep checkpoints; both robots are the local sink."""
    channels = notify_folder / "channels.yaml"
    channels.write_text(
        channels.read_text(encoding="utf-8") + f'ops: ["json://127.0.0.1:{sink.port}/ops"]\n'
        f'audit: ["json://127.0.0.1:{sink.port}/legal", "json://127.0.0.1:{sink.port}/ops"]\n',
        encoding="utf-8",
    )


def kept_by_ops_and_legal(sink) -> list[dict]:
    return [request["body"] for request in sink.requests if request["path"].startswith(("/ops", "/legal"))]


def test_a_checkpoint_is_sent_to_ops_and_legal_and_a_broken_log_is_reported_instead(keyed, drop_guard, store, db_url, pack, notify_folder, sink, capsys):
    fill_log(store, pack, notify_folder, sink)
    with_channels(notify_folder, sink)
    code, out = run(capsys, "audit", "checkpoint", "--send", "--db", db_url, "--notify", str(notify_folder))
    line = out.splitlines()[0]
    assert code == 0 and line.startswith("QXAUDIT1 count=") and out.count("已送达") == 2
    received = kept_by_ops_and_legal(sink)
    assert len(received) == 2 and all(body["title"] == "发送记录检查点" and line in body["message"] for body in received)
    assert run(capsys, "audit", "verify", "--db", db_url, "--checkpoint", received[1]["message"])[0] == 0

    target = rows_of(store)[1]
    drop_guard()
    with store.engine.begin() as connection:  # a recipient that would be markup if printed as such
        connection.execute(sa.update(DeliveryRow.__table__).where(DeliveryRow.__table__.c.id == target["id"]).values(recipient="[bold]officer-3[/bold]"))
    code, out = run(capsys, "audit", "checkpoint", "--send", "--db", db_url, "--notify", str(notify_folder))
    assert code == 1 and "QXAUDIT1" not in out and f"发送记录第 {target['id']} 条" in out
    assert "[bold]officer-3[/bold]" in out
    failed = kept_by_ops_and_legal(sink)[2:]
    assert len(failed) == 2 and all(body["title"] == "发送记录核对失败" and "本条被改动" in body["message"] for body in failed)
