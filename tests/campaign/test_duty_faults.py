"""Fault injection for campaign work: the real `qixian duty open` and `qixian duty done` processes killed with
SIGKILL at the crash points of qixian.faults (events committed but their clocks not; clocks committed but the
command not finished), then the same command run again, as a unit leader would when the terminal shows no answer.
On SQLite and PostgreSQL, the store must then hold exactly the clocks of a clean run (every column), with no replay
mark left, and `qixian duty list` must print what the clean run prints."""

from __future__ import annotations

import signal

import pytest

from qixian.store.database import upgrade
from qixian.store.tables import EventRow
from tests.paths import ROOT
from tests.store.crashing import clocks_of, marks_of, qixian, rows_in

OPENED = "2026-09-14 09:00"
# Each step as a unit leader types it (with the time it is typed). The second record falls after the National Day
# weeks: recording it replays the unit's duties up to then, opening the periods missed in between.
STEPS = {
    "open": ("duty", "open", "--all", "--at", OPENED, "--now", OPENED),
    "done": ("duty", "done", "--unit", "chengguan", "--duty", "周研判", "--at", "2026-09-18 10:00", "--now", "2026-09-18 10:00"),
    "late": ("duty", "done", "--unit", "fazhi", "--duty", "月会商", "--at", "2026-10-09 10:00", "--now", "2026-10-09 10:00"),
}
LIST_AT = "2026-10-09 10:00"


def run(url: str, step: str, crash_at: str | None = None):
    return qixian(*STEPS[step], "--db", url, crash_at=crash_at)


def state_of(url: str) -> tuple[list[tuple], int, str]:
    """The clocks, the number of events, and the duty list as printed."""
    listed = qixian("duty", "list", "--json", "--now", LIST_AT, "--db", url)
    assert listed.returncode == 0, listed.stderr
    return clocks_of(url), rows_in(url, EventRow), listed.stdout


def prepared(url: str) -> str:
    loaded = qixian("directory", "load", str(ROOT / "notify" / "directory.yaml"), "--db", url)
    assert loaded.returncode == 0, loaded.stderr
    return url


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, tuple]:
    """The state after each step of an uninterrupted run (SQLite)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('clean')}/clean.db"
    upgrade(url)
    prepared(url)
    states = {}
    for step in STEPS:
        done = run(url, step)
        assert done.returncode == 0, done.stderr
        states[step] = state_of(url)
    assert len(states["late"][0]) > len(states["done"][0]) >= 10  # the late record opened the periods in between
    return states


@pytest.mark.slow
# Each command killed at one of the two crash points, the points alternating (both are covered for every command by
# tests/store's ingest kill tests; here the duty commands' own paths into them): half the cost of all six pairs.
@pytest.mark.parametrize("step, point", [("open", "ingest.recorded"), ("done", "ingest.written"), ("late", "ingest.recorded")])
def test_a_duty_command_killed_at_a_crash_point_and_run_again_ends_as_a_clean_run(db_url, clean, step, point):
    prepared(db_url)
    for before in STEPS:
        if before == step:
            break
        assert run(db_url, before).returncode == 0
    killed = run(db_url, step, crash_at=point)
    assert killed.returncode == -signal.SIGKILL, (killed.stdout, killed.stderr)
    again = run(db_url, step)
    assert again.returncode == 0, again.stderr
    assert marks_of(db_url) == 0, "a matter is still marked for replay after the command was run again"
    clocks, events, listed = state_of(db_url)
    want_clocks, want_events, want_listed = clean[step]
    missing, extra = set(want_clocks) - set(clocks), set(clocks) - set(want_clocks)
    assert not missing and not extra, f"{len(missing)} clocks missing or different, {len(extra)} extra: {sorted(missing, key=repr)[:2]}"
    assert (len(clocks), events, listed) == (len(want_clocks), want_events, want_listed)
