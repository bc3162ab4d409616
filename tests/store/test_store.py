"""The case store and ingestion, identical on SQLite and PostgreSQL."""

import json
import random
import shutil

import pytest
from sqlalchemy import inspect, text

from qixian.casework.feeds import ingest_path, ingest_sql
from qixian.casework.recompute import Replayer, recompute
from qixian.legaltime.localtime import parse_local
from qixian.rulebook import load_pack
from qixian.store.database import MIGRATIONS, connect, head_revision, revision, upgrade
from qixian.store.repository import Store, StoreError
from qixian.store.tables import EventRow, QuarantineRow
from tests.paths import ROOT, RULES

SAMPLE = ROOT / "examples" / "events.jsonl"
NOW = parse_local("2025-10-06 09:00")
CASE = "（2025）城关刑字第0001号"


def clock_map(store, case=CASE):
    return {(r.rule_id, r.person, r.number): (r.due_display, r.outcome, r.open) for r in store.clocks(case=case)}


def test_migrations_are_repeatable_and_create_every_table(db_url):
    upgrade(db_url)
    names = set(inspect(connect(db_url)).get_table_names())
    assert {"cases", "persons", "events", "quarantine", "clocks", "units", "officers", "watermarks"} <= names


def test_an_unmigrated_database_says_what_to_run(tmp_path):
    with pytest.raises(StoreError, match="qixian db upgrade"):
        Store.open(f"sqlite:///{tmp_path}/empty.db")


def test_the_schema_check_answers_as_alembic_does(db_url):
    """Opening a store reads the migration it is at, and the newest one, without Alembic: Alembic's own answers."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    engine = connect(db_url)
    with engine.connect() as connection:
        assert revision(engine) == MigrationContext.configure(connection).get_current_revision() == head_revision()
    with engine.begin() as connection:  # a store one migration behind is refused
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with pytest.raises(StoreError, match="不是最新"):
        Store.open(db_url)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE alembic_version SET version_num = '{head_revision()}'"))
    engine.dispose()


def test_a_database_without_tables_is_at_no_migration(tmp_path):
    engine = connect(f"sqlite:///{tmp_path}/empty.db")
    assert revision(engine) is None
    engine.dispose()


def test_sample_file_counts_and_idempotence(store, pack):
    first = ingest_path(store, pack, SAMPLE, source="case-system", now=NOW)
    assert (first.lines, first.accepted, first.duplicate, first.quarantined) == (14, 12, 0, 2)
    before = clock_map(store)
    again = ingest_path(store, pack, SAMPLE, source="case-system", now=NOW)
    assert (again.accepted, again.duplicate, again.quarantined, again.clocks_changed) == (0, 12, 2, 0)
    assert clock_map(store) == before
    assert store.count(EventRow) == 12 and store.count(QuarantineRow) == 2


def test_quarantine_keeps_the_line_and_the_reason(store, pack):
    ingest_path(store, pack, SAMPLE, source="case-system", now=NOW)
    rows = {r.source_id: r for r in store.quarantined()}
    assert "25:00" in rows["e-0011"].raw and "无法识别的时间" in rows["e-0011"].reason
    assert "未知的事件类型 'arrest_requestd'。是否应为 arrest_requested？" in rows["e-0012"].reason  # the likely typo
    assert rows["e-0012"].source.endswith("events.jsonl") and rows["e-0012"].line == 12


def test_clocks_follow_the_rules(store, pack):
    ingest_path(store, pack, SAMPLE, source="case-system", now=NOW)
    clocks = clock_map(store)
    assert clocks[("crim.detention.arrest_request", "张某", 1)] == ("2025-10-06 24:00", None, True)  # 3 + 4 days, custody
    assert clocks[("crim.detention.arrest_request", "李某", 1)][1] == "cancelled"  # bailed
    assert clocks[("crim.bail.max_period", "李某", 1)][0] == "2026-10-08 24:00"
    public_order = clock_map(store, "（2025）城关治字第0002号")
    assert public_order[("admin.summons.questioning", "赵某", 1)][0] == "2026-01-06 07:10"  # 2025 law: 12 h


def test_a_reused_id_with_other_content_is_quarantined(store, pack, tmp_path):
    ingest_path(store, pack, SAMPLE, source="case-system", now=NOW)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(f'{{"id": "e-0005", "case": "{CASE}", "type": "detained", "at": "2025-09-29 18:00", "person": "张某"}}\n', encoding="utf-8")
    report = ingest_path(store, pack, changed, source="case-system", now=NOW)
    assert (report.accepted, report.quarantined) == (0, 1)
    assert any("内容不同" in r.reason for r in store.quarantined())
    assert clock_map(store)[("crim.detention.arrest_request", "张某", 1)][0] == "2025-10-06 24:00"


def test_the_same_id_from_another_source_is_another_event(store, pack):
    ingest_path(store, pack, SAMPLE, source="case-system", now=NOW)
    other = ingest_path(store, pack, SAMPLE, source="other-system", now=NOW)
    assert other.accepted == 12


def test_order_of_arrival_does_not_matter(store, pack, tmp_path, db_url):
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line]
    ingest_path(store, pack, SAMPLE, source="case-system", now=NOW)
    expected = clock_map(store)
    shuffled = lines[:]
    random.Random(7).shuffle(shuffled)
    second = Store.open(db_url)
    with second.engine.begin() as connection:
        for table in ("events", "clocks", "cases", "persons", "quarantine"):
            connection.execute(text(f"DELETE FROM {table}"))
    for number, chunk in enumerate((shuffled[:5], shuffled[5:9], shuffled[9:])):
        part = tmp_path / f"part{number}.jsonl"
        part.write_text("\n".join(chunk) + "\n", encoding="utf-8")
        ingest_path(second, pack, part, source="case-system", now=NOW)
    assert clock_map(second) == expected


def test_csv_and_jsonl_give_the_same_clocks(store, pack, tmp_path):
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line]
    import csv

    path = tmp_path / "events.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "case", "type", "at", "person", "data", "case_info"])
        for r in rows:
            writer.writerow(
                [
                    r["id"],
                    r["case"],
                    r["type"],
                    r["at"],
                    r.get("person", ""),
                    json.dumps(r["data"], ensure_ascii=False) if "data" in r else "",
                    json.dumps(r["case_info"], ensure_ascii=False) if "case_info" in r else "",
                ]
            )
    report = ingest_path(store, pack, path, source="csv", now=NOW)
    assert (report.accepted, report.quarantined) == (12, 2)
    assert clock_map(store)[("crim.detention.arrest_request", "张某", 1)][0] == "2025-10-06 24:00"


def test_a_gb18030_file_is_read_with_its_encoding_and_one_bad_line_is_quarantined_alone(store, pack, tmp_path):
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "gbk.jsonl"
    path.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("gb18030"))
    as_utf8 = ingest_path(store, pack, path, source="case-system", now=NOW)  # read as UTF-8: every Chinese line is bad
    undecoded = [r for r in store.quarantined() if "编码" in r.reason]
    assert as_utf8.quarantined == len(undecoded) == len(lines)  # every line of the sample holds Chinese
    assert all(r.reason.startswith(f"第 {r.line} 行不是 utf-8 编码") and "--encoding gb18030" in r.reason for r in undecoded)

    read = ingest_path(store, pack, path, source="gb18030-export", now=NOW, encoding="gb18030")
    assert (read.accepted, read.quarantined) == (len(lines) - 2, 2)  # as the UTF-8 sample: its two wrong lines
    assert clock_map(store)[("crim.detention.arrest_request", "张某", 1)][0] == "2025-10-06 24:00"
    assert any(e.person == "张某" for e in store.events_of(CASE))  # names read right, not mojibake


def test_one_undecodable_byte_quarantines_its_line_only(store, pack, tmp_path):
    text = SAMPLE.read_text(encoding="utf-8")
    lines = text.splitlines()
    broken = next(n for n, line in enumerate(lines, start=1) if "某" in line)
    data = "\n".join(lines).encode("utf-8").split(b"\n")
    data[broken - 1] = data[broken - 1].replace("某".encode(), b"\xff", 1)
    path = tmp_path / "one-bad-byte.jsonl"
    path.write_bytes(b"\n".join(data) + b"\n")
    report = ingest_path(store, pack, path, source="case-system", now=NOW)
    assert (report.accepted, report.quarantined) == (len(lines) - 3, 3)  # the sample's two wrong lines, and this one
    [held] = [r for r in store.quarantined() if "编码" in r.reason]
    assert held.line == broken and held.reason.startswith(f"第 {broken} 行不是 utf-8 编码（该行第")
    assert "\\xff" in held.raw  # the bad byte kept, written out


def six_months_of_bail(tmp_path):
    """The shipped rule pack with bail's 12-month limit cut to 6 months: a new pack that moves dues."""
    folder = tmp_path / "new-rules"
    shutil.copytree(RULES, folder)
    coercive = folder / "criminal-coercive.yaml"
    coercive.write_text(coercive.read_text(encoding="utf-8").replace("    limit: 12 months\n", "    limit: 6 months\n", 1), encoding="utf-8")
    return load_pack(folder)


def test_recompute_reports_moved_dues_before_applying(store, pack, tmp_path, make_pack):
    ingest_path(store, pack, SAMPLE, source="case-system", now=NOW)
    new_pack = six_months_of_bail(tmp_path)
    dry = recompute(store, new_pack, store.case_ids(), NOW, apply=False)
    moved = {(m.rule, m.person): (m.before, m.after) for m in dry.moved}
    assert moved.get(("crim.bail.max_period", "李某")) == ("2026-10-08 24:00", "2026-04-02 24:00")  # 2025-10-02 + 6 months
    assert clock_map(store)[("crim.bail.max_period", "李某", 1)][0] == "2026-10-08 24:00"  # not applied
    recompute(store, new_pack, store.case_ids(), NOW)
    assert clock_map(store)[("crim.bail.max_period", "李某", 1)][0] == "2026-04-02 24:00"


def test_polling_a_view_with_a_watermark(store, pack, tmp_path):
    source_url = f"sqlite:///{tmp_path}/case_system.db"
    engine = connect(source_url)
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line]

    def add(first_seq: int, batch: list[dict], *, case_info: bool) -> None:
        """Rows put in the case system's view, numbered from `first_seq` (without their case info unless asked)."""
        with engine.begin() as connection:
            for seq, r in enumerate(batch, start=first_seq):
                connection.execute(
                    text("INSERT INTO v_events VALUES (:seq, :id, :case, :type, :at, :person, :data, :info)"),
                    {
                        "seq": seq,
                        "id": r["id"],
                        "case": r["case"],
                        "type": r["type"],
                        "at": r["at"],
                        "person": r.get("person"),
                        "data": json.dumps(r.get("data", {}), ensure_ascii=False),
                        "info": json.dumps(r.get("case_info", {}) if case_info else {}, ensure_ascii=False),
                    },
                )

    with engine.begin() as connection:
        connection.execute(text('CREATE TABLE v_events (seq INTEGER, id TEXT, "case" TEXT, type TEXT, at TEXT, person TEXT, data TEXT, case_info TEXT)'))
    add(1, rows[:6], case_info=True)
    query = 'SELECT seq, id, "case", type, at, person, data, case_info FROM v_events WHERE seq >= :watermark ORDER BY seq'
    query = query.replace(">= :watermark", ">= COALESCE(NULLIF(:watermark, ''), 0)")
    first = ingest_sql(store, pack, source_url, query, source="case-system", now=NOW, watermark_column="seq")
    assert first.accepted == 6 and store.watermark("sql:case-system") == "6"
    add(7, rows[6:10], case_info=False)
    second = ingest_sql(store, pack, source_url, query, source="case-system", now=NOW, watermark_column="seq")
    assert (second.accepted, second.duplicate) == (4, 1)  # the row at the watermark is read again, changes nothing
    assert store.watermark("sql:case-system") == "10"
    engine.dispose()


def query_plan(connection, query) -> str:
    """The database's plan for a SQLAlchemy query, exactly as it is sent (statement and parameters)."""
    from sqlalchemy import event

    explain = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET enable_seqscan = off")  # a test table is tiny: ask whether the index can serve

    def explained(_conn, _cursor, statement, parameters, _context, _many):
        return explain + statement, parameters

    event.listen(connection, "before_cursor_execute", explained, retval=True)
    try:
        return " ".join(str(row) for row in connection.execute(query))
    finally:
        event.remove(connection, "before_cursor_execute", explained)


def test_due_queries_use_the_scan_indexes_which_hold_open_clocks_only(store, pack):
    from sqlalchemy import select

    from qixian.store.tables import ClockRow

    ingest_path(store, pack, SAMPLE, source="case-system", now=NOW)
    indexes = {i["name"]: i for i in inspect(store.engine).get_indexes("clocks")}
    assert {"ix_clocks_open_due", "ix_clocks_open_next_reminder"} <= set(indexes)
    clocks = ClockRow.__table__
    due_window = select(clocks).where(clocks.c.open.is_(True), clocks.c.due_at < NOW).order_by(clocks.c.due_at)
    reminders_due = (
        select(clocks)
        .where(clocks.c.open.is_(True), clocks.c.next_reminder_at <= NOW)  # as outbox.owe
        .order_by(clocks.c.next_reminder_at)
        .limit(500)
    )
    with store.engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # the planner's statistics as autovacuum would leave them, now:
            connection.exec_driver_sql("ANALYZE clocks")  # without, a tiny table's plans tie and a background analyze decides
        assert "ix_clocks_open_due" in query_plan(connection, due_window)
        assert "ix_clocks_open_next_reminder" in query_plan(connection, reminders_due)
        if connection.dialect.name == "sqlite":  # closed clocks are in neither index
            in_index = connection.exec_driver_sql("SELECT count(*) FROM clocks INDEXED BY ix_clocks_open_due WHERE open IS 1 AND due_at IS NOT NULL").scalar()
            open_due = connection.exec_driver_sql("SELECT count(*) FROM clocks WHERE open AND due_at IS NOT NULL").scalar()
            closed = connection.exec_driver_sql("SELECT count(*) FROM clocks WHERE NOT open").scalar()
            assert in_index == open_due and closed > 0


def test_batched_parallel_ingest_equals_a_full_replay_from_the_store(store, pack, monkeypatch):
    import qixian.casework.feeds as feeds
    from qixian.casework.feedlines import check, read_lines
    from qixian.casework.samplefeed import Feed

    monkeypatch.setattr(feeds, "BATCH", 400)  # many batches: cases span them, histories come from both paths
    monkeypatch.setattr("qixian.casework.recompute.os.cpu_count", lambda: 3)  # three batches in flight at once, on any machine
    lines = list(Feed(seed=5, days=20).lines(250))
    items = [check("feed", n, raw, item, pack.events) for n, raw, item in read_lines("f.jsonl", "\n".join(lines) + "\n")]
    report = feeds.ingest_items(store, pack, items, source="feed", now=NOW, parallel=True)
    assert report.accepted == len(lines) and report.quarantined == 0
    assert report.cases == len({json.loads(line)["case"] for line in lines}) == 250  # a case in two batches counts once
    again = recompute(store, pack, store.case_ids(), NOW)
    assert again.changed == 0 and again.moved == [] and again.clocks > 1000


def test_a_parallel_recompute_reports_and_writes_what_a_serial_one_does(store, pack, tmp_path, monkeypatch):
    from qixian.casework.samplefeed import Feed

    monkeypatch.setattr("qixian.casework.recompute.os.cpu_count", lambda: 3)  # three batches in flight at once, on any machine
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(Feed(seed=7, days=40).lines(120)) + "\n", encoding="utf-8")
    ingest_path(store, pack, feed, source="feed", now=NOW)
    new_pack, cases = six_months_of_bail(tmp_path), store.case_ids()
    serial = recompute(store, new_pack, cases, NOW, apply=False, batch=7)
    seen, replayers = [], []
    monkeypatch.setattr(Replayer, "__enter__", lambda self: replayers.append(self) or self)
    parallel = recompute(store, new_pack, cases, NOW, apply=False, batch=7, parallel=True, progress=seen.append)
    assert replayers[-1].workers == 3  # it did replay in worker processes
    assert serial.moved and parallel.moved == serial.moved and parallel.clocks == serial.clocks > 500
    assert sum(seen) == len(cases) and len(seen) == -(-len(cases) // 7)
    applied = recompute(store, new_pack, cases, NOW, batch=7, parallel=True)
    assert applied.changed >= len(serial.moved)
    assert recompute(store, new_pack, cases, NOW, apply=False).moved == []  # what was written is what replay gives


def test_the_migrations_build_exactly_the_tables_the_code_declares(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import qixian.store.tables  # noqa: F401 - registers the tables

    with connect(db_url).connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert drift == []


def test_times_with_an_offset_give_the_clocks_a_replay_from_the_store_gives(store, pack, tmp_path):
    """A new case is replayed from the lines in hand, a known one from the store (which gives local times): an event
    time written with another offset must explain itself in local time either way."""
    lines = [
        {"id": "t1", "case": "offset", "type": "summoned", "at": "2026-03-02T02:00:00+00:00", "person": "乙", "case_info": {"kind": "administrative"}},
        {"id": "t2", "case": "offset", "type": "case_transferred", "at": "2026-03-02T03:00:00Z"},
    ]
    path = tmp_path / "offset.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    ingest_path(store, pack, path, source="case-system", now=NOW)
    restarted = [r for r in store.clocks(case="offset") if r.number == 2]
    assert restarted and restarted[0].explanation[0].startswith("2026-03-02 11:00 重新计算期限")
    again = recompute(store, pack, ["offset"], NOW)
    assert again.changed == 0 and again.clocks >= 2


def test_a_bulk_load_on_sqlite_checkpoints_aside_and_leaves_the_writer_as_it_was(tmp_path, pack):
    """During ingest a thread of its own copies the write-ahead log into the database: when ingest returns the log
    is fully copied, and the pooled connections checkpoint for themselves again."""
    import sqlite3
    from contextlib import closing

    url = f"sqlite:///{tmp_path}/bulk.db"
    upgrade(url)
    store = Store.open(url)
    report = ingest_path(store, pack, SAMPLE, source="case-system", now=NOW, parallel=True)
    alone = tmp_path / "without-log.db"  # the database file alone, without its -wal file: holds every event
    alone.write_bytes((tmp_path / "bulk.db").read_bytes())
    with closing(sqlite3.connect(alone)) as probe:
        assert probe.execute("SELECT count(*) FROM events").fetchone()[0] == report.accepted > 0
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    assert clock_map(store)  # and the clocks are there
