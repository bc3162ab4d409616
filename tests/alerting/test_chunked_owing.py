"""Owing in chunks (qixian.store.duechunks): scanners started at the same moment share the owing and the sending, no
reminder is owed or sent twice and none is missed; a scan killed between two chunks leaves what the next scan
completes to the state of a clean run."""

import signal
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from qixian.alerting.localsink import LocalSink
from qixian.store.duechunks import CHUNK
from qixian.store.repository import Store
from qixian.store.tables import ClockRow, OutboxRow
from tests.alerting.scaleout import START, notify_folder, owed_steps, populate, run_scanners
from tests.paths import RULES
from tests.store.crashing import qixian

# 600 cases over 3 days, scanned 60 days on for the first time: about 740 clocks owe a reminder (4 chunks on
# PostgreSQL), to 50 officers and the units' duty phones
CASES, PER_UNIT = 600, 10
NOW = START + timedelta(days=60)


def stored(url):
    store = Store.open(url)
    with store.session() as session:
        outbox = list(session.exec(select(OutboxRow)).scalars())
        due = session.exec(select(ClockRow.id).where(ClockRow.open.is_(True), ClockRow.next_reminder_at <= NOW)).all()
    store.engine.dispose()
    return outbox, len(due)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_four_scanners_started_together_share_the_owing_and_sending(db_url, pack, tmp_path):
    sink = LocalSink()
    sink.delay = 0.1  # a provider slow enough that sending one recipient's message leaves time for the others
    try:
        populate(db_url, pack, CASES, sink.port, days=3, per_unit=PER_UNIT)
        expected = owed_steps(db_url, pack, [NOW])
        assert len(expected) > 3 * CHUNK["postgresql"]  # several chunks to claim
        sent = run_scanners(db_url, pack, notify_folder(tmp_path / "notify", sink.port), [NOW], count=4)
        keys = sink.keys()
    finally:
        sink.close()
    outbox, still_due = stored(db_url)
    assert [key for key, n in Counter(keys).items() if n > 1] == []  # no reminder twice
    assert {(row.clock_id, row.step) for row in outbox} == expected  # every owed step, nothing more
    assert set(keys) == {row.key for row in outbox} and all(row.status == "sent" for row in outbox)
    assert still_due == 0  # every clock advanced
    assert sum(n > 0 for n in sent) >= 2, sent  # the sending was shared


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_scan_killed_between_chunks_is_completed_by_the_next(db_url, pack, tmp_path):
    sink = LocalSink()
    try:
        populate(db_url, pack, CASES, sink.port, days=3, per_unit=PER_UNIT)
        expected = owed_steps(db_url, pack, [NOW])
        notify = notify_folder(tmp_path / "notify", sink.port)
        command = ("scan", "--db", db_url, "--rules", str(RULES), "--notify", str(notify), "--now", f"{NOW:%Y-%m-%d %H:%M}")
        # after the second chunk on PostgreSQL; SQLite owes them all in one chunk: killed before sending
        killed = qixian(*command, crash_at="scan.owed:2" if "postgresql" in db_url else "scan.owed:1")
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        outbox, still_due = stored(db_url)
        assert outbox and all(row.status == "pending" for row in outbox) and not sink.requests
        if "postgresql" in db_url:  # two chunks owed and their clocks advanced, the rest still due
            assert {(row.clock_id, row.step) for row in outbox} < expected
            assert still_due == len({c for c, _ in expected}) - 2 * CHUNK["postgresql"]
        else:
            assert still_due == 0
        finished = qixian(*command)
        assert finished.returncode == 0, finished.stderr
        keys = sink.keys()
    finally:
        sink.close()
    outbox, still_due = stored(db_url)
    assert len(keys) == len(set(keys))
    assert {(row.clock_id, row.step) for row in outbox} == expected and still_due == 0
    assert set(keys) == {row.key for row in outbox} and all(row.status == "sent" for row in outbox)
