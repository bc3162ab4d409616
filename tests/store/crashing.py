"""Running `qixian` commands to be killed, and comparing the store they leave with a clean run's: shared by the
fault-injection tests (test_faults.py) and their longer soak (bench/faults.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from qixian.store.clocks import CLOCK_VALUES
from qixian.store.database import connect
from qixian.store.tables import ClockRow, EventRow, ReplayMarkRow

NOW = "2025-12-01 09:00"
QIXIAN = [str(Path(sys.executable).with_name("qixian"))]  # the console script, as ops run it


def qixian(*args: str, crash_at: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("QIXIAN_CRASH_AT", None)
    if crash_at:
        env["QIXIAN_CRASH_AT"] = crash_at
    return subprocess.run([*QIXIAN, *args], capture_output=True, text=True, env=env, timeout=timeout)


def ingest(url: str, feed: Path, **kw) -> subprocess.CompletedProcess:
    return qixian("ingest", str(feed), "--now", NOW, "--db", url, **kw)


def clocks_of(url: str) -> list[tuple]:
    """Every stored clock: its identity and every derived column, as the store encodes them (ids and update times
    are bookkeeping, not the clock)."""
    engine = connect(url)
    table = ClockRow.__table__
    with engine.connect() as connection:
        rows = [(r["case_id"], r["rule_id"], r["person"], r["number"], *CLOCK_VALUES.encode(r)) for r in connection.execute(select(table)).mappings()]
    engine.dispose()
    return sorted(rows, key=repr)


def rows_in(url: str, table) -> int:
    engine = connect(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return count


def marks_of(url: str) -> int:
    return rows_in(url, ReplayMarkRow)


def events_of(url: str) -> int:
    return rows_in(url, EventRow)


def assert_as_clean(url: str, expected: list[tuple], least: int = 10_000) -> None:
    got = clocks_of(url)
    assert marks_of(url) == 0, "a case is still marked for replay after the run that should have replayed it"
    missing = set(expected) - set(got)
    extra = set(got) - set(expected)
    assert not missing and not extra, (
        f"{len(missing)} clocks of a clean run are missing or differ, {len(extra)} clocks a clean run does not have; e.g. {sorted(missing, key=repr)[:2]}"
    )
    assert len(got) == len(expected) > least


def processes_running(marker: str) -> list[int]:
    """Processes whose command line contains `marker` (the ingest and its forked replay workers share it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
                state = next((line for line in (entry / "status").read_text().splitlines() if line.startswith("State:")), "")
            except OSError:
                continue
            if marker in command and "zombie" not in state:
                found.append(int(entry.name))
    return found


def wait_gone(marker: str, seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := processes_running(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left
