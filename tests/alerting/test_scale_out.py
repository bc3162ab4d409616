"""Scale-out: several scanners at once. On PostgreSQL four scanner processes share the work through row locks
and every reminder the clocks' plans owe arrives exactly once; on SQLite a second scanner stops at once with a
clear error, and the first one finishes its work."""

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from qixian.alerting.localsink import LocalSink
from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.legaltime.localtime import parse_local
from qixian.store.repository import Store
from qixian.store.tables import OutboxRow
from tests.alerting.scaleout import notify_folder, owed_steps, populate, run_scanners, ticks
from tests.paths import RULES

# 250 cases, a scan every 4 hours for 30 days keeps this under a minute; bench/scaleout.py runs 10,000 cases hourly
CASES, EVERY_HOURS = 250, 4
QIXIAN = Path(sys.executable).with_name("qixian")


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_four_scanners_over_a_month_deliver_every_reminder_once(db_url, pack, tmp_path):
    sink = LocalSink()
    try:
        populate(db_url, pack, CASES, sink.port)
        moments = ticks(30, EVERY_HOURS)
        expected = owed_steps(db_url, pack, moments)
        assert len(expected) > 250  # fewer since overdue repeats fold into the daily digest after overdue_digest.after
        sent = run_scanners(db_url, pack, notify_folder(tmp_path / "notify", sink.port), moments, count=4)
        delivered, requests = sink.keys(), len(sink.requests)
        store = Store.open(db_url)
        with store.session() as session:
            outbox = list(session.exec(select(OutboxRow)).scalars())
        store.engine.dispose()
    finally:
        sink.close()
    assert sum(sent) == requests and sum(n > 0 for n in sent) >= 3  # the scanners did share the sending
    twice = [key for key, n in Counter(delivered).items() if n > 1]
    assert twice == []  # no reminder twice
    assert set(delivered) == {row.key for row in outbox}  # every owed row reached the sink
    assert all(row.status == "sent" for row in outbox)
    own = {(int(k.split(":")[0]), int(k.split(":")[2])) for k in delivered if not k.startswith("digest:")}
    assert own == expected  # exactly what the plans owe


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_second_sqlite_scanner_stops_at_once_with_a_clear_error(db_url, pack, tmp_path):
    sink = LocalSink()
    sink.delay = 1.0  # a slow provider keeps the first scan busy sending
    try:
        populate(db_url, pack, 60, sink.port, days=2)
        notify = notify_folder(tmp_path / "notify", sink.port)
        now = "2025-11-05 09:00"
        first = subprocess.Popen(
            [str(QIXIAN), "scan", "--db", db_url, "--rules", str(RULES), "--notify", str(notify), "--now", now],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while not sink.requests:  # the first scan is sending
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        began = time.monotonic()
        second = subprocess.run(
            [str(QIXIAN), "scan", "--db", db_url, "--rules", str(RULES), "--notify", str(notify), "--now", now], capture_output=True, text=True, timeout=60
        )
        waited = time.monotonic() - began
        _out, err = first.communicate(timeout=120)
    finally:
        sink.close()
    assert second.returncode == 1 and waited < 10  # no hang on the first scanner's lock
    assert "另一个扫描" in second.stderr and "PostgreSQL" in second.stderr
    assert "Traceback" not in second.stderr and "database is locked" not in second.stderr
    assert first.returncode == 0, err
    keys = sink.keys()
    assert keys and len(keys) == len(set(keys))
    store = Store.open(db_url)
    with store.session() as session:
        assert all(row.status == "sent" for row in session.exec(select(OutboxRow)).scalars())
    # the lock went with the first scanner: the next scan runs
    assert scan(store, pack, NotifyConfig.load(notify), parse_local(now)).delivered.sent == 0
