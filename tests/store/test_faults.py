"""Fault injection: `qixian ingest`, `qixian recompute` and the SQL poll killed with SIGKILL at the instants between
two commits (the crash points of qixian.faults), in a replay worker, and at a moment chosen by the clock; then the same
command is run again. On SQLite and PostgreSQL, every run must end with clocks equal, case for case and column for
column, to a clean run's, with no replay mark left and no worker process outliving its ingest.

(The scan's own crash test is tests/alerting/test_crash.py. A longer soak of random kills: bench/faults.py.)"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from qixian.casework.samplefeed import Feed
from qixian.store.database import connect, upgrade
from qixian.store.tables import EventRow
from tests.fixtures.stores import TABLES
from tests.paths import RULES
from tests.store.crashing import NOW, QIXIAN, assert_as_clean, clocks_of, events_of, ingest, marks_of, qixian, wait_gone

CASES = 1200  # 12,630 events: three ingest batches of 5,000 lines, so replay runs in worker processes


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    path.write_text("".join(line + "\n" for line in Feed(seed=23).lines(CASES)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def holiday_pack(tmp_path_factory) -> Path:
    """The shipped pack with a made-up week off (2025-11-10 to 14, a test fixture, not a real arrangement): every
    example still passes, so it can be rolled out, and rolling it out moves dues that end in that week."""
    folder = tmp_path_factory.mktemp("packs") / "rules"
    shutil.copytree(RULES, folder)
    year = folder / "calendar" / "2025.yaml"
    text = year.read_text(encoding="utf-8")
    marker = "workdays:"
    assert text.count(marker) == 1
    year.write_text(text.replace(marker, "  - {name: 测试用假日, from: 2025-11-10, to: 2025-11-14}\n" + marker), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def clean(feed, tmp_path_factory) -> list[tuple]:
    """The clocks an uninterrupted ingest gives."""
    url = f"sqlite:///{tmp_path_factory.mktemp('clean')}/clean.db"
    upgrade(url)
    assert ingest(url, feed).returncode == 0
    return clocks_of(url)


@pytest.fixture(scope="module")
def clean_recomputed(feed, holiday_pack, tmp_path_factory) -> list[tuple]:
    """The clocks an uninterrupted ingest gives under the changed pack (rolled out first, so ingest uses it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('clean')}/holiday.db"
    upgrade(url)
    assert qixian("rules", "rollout", "--rules", str(holiday_pack), "--db", url, "--now", NOW, "--by", "测试").returncode == 0
    assert ingest(url, feed).returncode == 0
    return clocks_of(url)


def clean_prefix(feed: Path, folder: Path, lines: int, *then: str) -> list[tuple]:
    """The clocks a clean ingest of the feed's first `lines` lines gives (then the command `then`, if given)."""
    url, prefix = f"sqlite:///{folder}/reference.db", folder / "prefix.jsonl"
    prefix.write_text("".join(feed.read_text(encoding="utf-8").splitlines(keepends=True)[:lines]), encoding="utf-8")
    upgrade(url)
    assert ingest(url, prefix).returncode == 0
    assert not then or qixian(*then, "--db", url).returncode == 0
    return clocks_of(url)


def test_any_scan_replays_what_a_killed_ingest_left(db_url, feed, tmp_path):
    """Killed after its second batch was recorded: the scan that follows (with no ingest before it) ends with the
    clocks a clean ingest of those two batches gives, then scanned alike."""
    notify = tmp_path / "notify"
    shutil.copytree(RULES.parent / "notify" / "templates", notify / "templates")
    (notify / "channels.yaml").write_text('sms: "json://127.0.0.1:9/sms/{phone}"\n', encoding="utf-8")
    scan = ("scan", "--now", "2025-11-20 09:00", "--notify", str(notify))
    expected = clean_prefix(feed, tmp_path, 10_000, *scan)
    assert ingest(db_url, feed, crash_at="ingest.recorded:2").returncode == -signal.SIGKILL
    scanned = qixian(*scan, "--db", db_url)
    assert scanned.returncode == 0, scanned.stderr
    assert "先补算了" in scanned.stdout
    assert_as_clean(db_url, expected, least=8_000)


def test_health_names_the_cases_a_killed_ingest_left_and_recompute_pending_repairs_them(db_url, feed, tmp_path):
    expected = clean_prefix(feed, tmp_path, 5_000)
    assert ingest(db_url, feed, crash_at="ingest.recorded:1").returncode == -signal.SIGKILL
    later = "2025-12-01 10:00"  # marks older than the grace an ingest at work needs
    replay = json.loads(qixian("health", "--json", "--db", db_url, "--now", later).stdout)["checks"]["replay"]
    assert replay["status"] == "unhealthy" and replay["stale"] > 400 and len(replay["cases"]) == 5
    assert "qixian recompute --pending" in replay["summary"]
    repaired = qixian("recompute", "--pending", "--db", db_url, "--now", NOW)
    assert repaired.returncode == 0 and "补算了" in repaired.stdout
    assert_as_clean(db_url, expected, least=4_000)
    replay = json.loads(qixian("health", "--json", "--db", db_url, "--now", later).stdout)["checks"]["replay"]
    assert replay["status"] == "ok" and replay["pending"] == 0


def test_recompute_killed_midway_ends_as_a_clean_run_when_run_again(db_url, feed, holiday_pack, clean_recomputed):
    assert ingest(db_url, feed).returncode == 0
    recompute = ("recompute", "--rules", str(holiday_pack), "--db", db_url, "--now", NOW, "--by", "测试")
    assert qixian(*recompute, crash_at="recompute.written:1").returncode == -signal.SIGKILL
    assert clocks_of(db_url) != clean_recomputed  # half done: some dues moved, others not yet
    assert qixian(*recompute).returncode == 0
    assert_as_clean(db_url, clean_recomputed)


def test_sql_poll_killed_before_its_watermark_loses_no_clock(db_url, feed, clean, tmp_path):
    source = tmp_path / "case-system.db"
    with sqlite3.connect(source) as connection:
        connection.execute('CREATE TABLE v_events (seq INTEGER PRIMARY KEY, id, "case", type, at, person, data, case_info)')
        rows = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
        connection.executemany(
            'INSERT INTO v_events (id, "case", type, at, person, data, case_info) VALUES (?,?,?,?,?,?,?)',
            [
                (
                    r["id"],
                    r["case"],
                    r["type"],
                    r["at"],
                    r.get("person"),
                    json.dumps(r["data"], ensure_ascii=False) if "data" in r else None,
                    json.dumps(r["case_info"], ensure_ascii=False) if "case_info" in r else None,
                )
                for r in rows
            ],
        )
    poll = (
        "ingest",
        "--sql",
        f"sqlite:///{source}",
        "--query",
        "SELECT seq, id, \"case\", type, at, person, data, case_info FROM v_events WHERE seq >= COALESCE(NULLIF(:watermark, ''), 0) ORDER BY seq",
        "--watermark-column",
        "seq",
        "--now",
        NOW,
        "--db",
        db_url,
    )
    for point in ("ingest.recorded:2", "sql.ingested"):
        assert qixian(*poll, crash_at=point).returncode == -signal.SIGKILL
    assert qixian(*poll).returncode == 0
    assert_as_clean(db_url, clean)


def test_ingest_killed_from_outside_as_its_first_batch_lands_loses_no_clock(db_url, feed, clean):
    """The report's own reproduction, with `kill -9` from outside rather than a crash point: the ingest is killed
    as soon as its first batch of events is visible in the store (when its clocks are being replayed)."""
    process = subprocess.Popen([*QIXIAN, "ingest", str(feed), "--now", NOW, "--db", db_url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = connect(db_url)
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            with engine.connect() as connection:
                if connection.execute(select(EventRow.seq).limit(1)).first() is not None:
                    break
            time.sleep(0.01)
        process.kill()
        process.wait()
    finally:
        engine.dispose()
    assert events_of(db_url) > 0 and not wait_gone(str(feed))
    assert ingest(db_url, feed).returncode == 0
    assert_as_clean(db_url, clean)


def test_ingest_whose_database_connection_is_cut_loses_no_clock(feed, clean, pg_url):
    """PostgreSQL restarting under the ingest, as the ingest sees it: from its first recorded batch on, the server
    terminates every connection the ingest holds, again and again, until the ingest gives up (an idle connection
    cut between transactions is replaced unnoticed; one cut inside a transaction fails it). The next run ends as a
    clean run."""
    engine = connect(pg_url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY"))
    process = subprocess.Popen([*QIXIAN, "ingest", str(feed), "--now", NOW, "--db", pg_url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, started = time.monotonic() + 60, False
        while process.poll() is None and time.monotonic() < deadline:
            with engine.connect() as connection:
                started = started or connection.execute(select(EventRow.seq).limit(1)).first() is not None
                if started:
                    connection.execute(
                        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
                    )
            time.sleep(0.005)
        process.communicate(timeout=60)
    finally:
        engine.dispose()
    assert process.returncode != 0, "the connection was cut before the ingest finished"
    assert marks_of(pg_url) > 0
    assert ingest(pg_url, feed).returncode == 0
    assert_as_clean(pg_url, clean)


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB file system (tmpfs) for a SQLite store to fill; needs root, as CI and the developers' machines run."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here to fill a disk ({made.stderr.strip() or made.returncode})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_ingest_on_a_full_disk_loses_no_clock_once_there_is_room(feed, clean, small_disk):
    url = f"sqlite:///{small_disk}/qixian.db"
    upgrade(url)
    full = ingest(url, feed)
    assert full.returncode != 0 and "Traceback" not in full.stderr, full.stderr[-2000:]
    assert events_of(url) > 0, "the disk filled after the first batch was recorded"
    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    assert ingest(url, feed).returncode == 0
    assert_as_clean(url, clean)
