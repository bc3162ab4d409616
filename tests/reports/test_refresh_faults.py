"""Fault injection for the report refresh (what the refresh-report deployment runs, flows.report.refresh_snapshots,
in a process of its own): killed with SIGKILL between keeping the month's snapshot and deleting the old ones (the
crash point report.kept), and at moments chosen by the clock while it counts and writes. On SQLite and PostgreSQL,
whenever it dies the store holds the month's snapshot as it was before or as a clean refresh writes it, never a
part of one; the next refresh ends in the very rows a clean refresh leaves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy import select

from qixian.legaltime.localtime import parse_local
from qixian.store.database import connect
from qixian.store.tables import ReportSnapshotRow
from qixian.supervision.snapshots import View, from_json, keep, warm_views
from tests.paths import ROOT
from tests.reports.test_snapshots import history

NOW = parse_local("2025-10-12 09:00")
CHILD = """
import sys
from flows.report import refresh_snapshots
from qixian.legaltime.localtime import parse_local
print("ready", flush=True)
refresh_snapshots.fn(sys.argv[1], sys.argv[2], parse_local(sys.argv[3]))
print("done", flush=True)
"""


def snapshots(url: str) -> list[tuple]:
    """Every kept snapshot: its view, pack hash, time and body."""
    engine = connect(url)
    table = ReportSnapshotRow.__table__
    with engine.connect() as connection:
        rows = [(r.view, r.pack_hash, r.computed_at, r.body) for r in connection.execute(select(table).order_by(table.c.view))]
    engine.dispose()
    return rows


def started(url: str, crash_at: str | None = None) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key != "QIXIAN_CRASH_AT"}
    if crash_at:
        env["QIXIAN_CRASH_AT"] = crash_at
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(ROOT / "rules"), NOW.strftime("%Y-%m-%d %H:%M")], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def refreshed(url: str) -> float:
    """A clean refresh run to its end; how long it took after its imports."""
    child = started(url)
    begin = time.perf_counter()
    assert child.wait(timeout=120) == 0 and child.stdout is not None and child.stdout.read() == "done\n"
    return time.perf_counter() - begin


def test_a_refresh_killed_at_any_instant_leaves_the_old_snapshot_or_the_new_one_and_the_next_run_ends_as_a_clean_one(store, pack, db_url, tmp_path):
    history(store, pack, tmp_path)
    [month] = warm_views(NOW)
    old = View(parse_local("2025-09-01 00:00").date(), parse_local("2025-09-30 00:00").date())

    def the_morning() -> list[tuple]:
        """The store as the refresh finds it: the month's snapshot kept three hours ago, about to be replaced, and
        last month's kept two days ago, which the refresh deletes."""
        keep(store, pack, month, month.compute(store, pack, NOW - timedelta(hours=3)))
        keep(store, pack, old, old.compute(store, pack, NOW - timedelta(days=2)))
        return snapshots(db_url)

    before = the_morning()
    [morning_month] = [row for row in before if row[0] == month.key]
    took = refreshed(db_url)
    clean = snapshots(db_url)  # what an uninterrupted refresh leaves
    assert [row[0] for row in clean] == [month.key] and from_json(clean[0][3]) == month.compute(store, pack, NOW)

    assert the_morning() == before
    killed = started(db_url, crash_at="report.kept")
    assert killed.wait(timeout=120) == -signal.SIGKILL
    assert snapshots(db_url) == sorted([*clean, *[row for row in before if row[0] == old.key]])  # the new one kept, the old not yet deleted
    refreshed(db_url)
    assert snapshots(db_url) == clean

    for fraction in (0.0, 0.3, 0.6, 0.9):  # killed by the clock, at moments spread over a clean run
        assert the_morning() == before
        child = started(db_url)
        time.sleep(took * fraction)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=120)
        left = {row[0]: row for row in snapshots(db_url)}
        assert left[month.key] in (morning_month, clean[0]), fraction  # the whole old one or the whole new one
        assert set(left) in ({month.key, old.key}, {month.key}), fraction
        refreshed(db_url)
        assert snapshots(db_url) == clean, fraction
