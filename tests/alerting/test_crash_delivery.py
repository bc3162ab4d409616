"""Real `qixian scan` processes started together, one of them killed at a crash point first: the store ends as a
clean run leaves it (the same outbox rows, each sent through the same channel; every clock where the clean run
left it), every reminder reached the sink, and a reminder reached it twice only when a scanner was killed after
the gateway answered and before the outbox recorded it (qixian.alerting.delivery: its claimed message is sent
again once CLAIMED has passed)."""

import re
import signal
import sqlite3
import subprocess
import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select

from qixian.alerting.delivery import CLAIMED
from qixian.alerting.localsink import LocalSink
from qixian.casework.samplefeed import directory
from qixian.store.database import connect
from qixian.store.repository import Store
from qixian.store.tables import ClockRow, OutboxRow
from tests.alerting.scaleout import START, notify_folder, owed_steps, populate
from tests.paths import RULES
from tests.store.crashing import QIXIAN, qixian

# 400 cases over 3 days, scanned 60 days on for the first time: about 500 clocks owe a reminder (3 chunks on
# PostgreSQL) to 50 officers and the units' duty phones
CASES, PER_UNIT, SCANNERS = 400, 10, 4
NOW = START + timedelta(days=60)
LATER = NOW + CLAIMED + timedelta(minutes=1)  # past the claim of a message whose scanner died sending it


def command(url, notify, now):
    return ("scan", "--db", url, "--rules", str(RULES), "--notify", str(notify), "--now", f"{now:%Y-%m-%d %H:%M}")


def together(url, notify, now) -> list[int]:
    """SCANNERS scans started at once; how many messages each sent. On SQLite all but one may stop at once
    (one scanner at a time: qixian.store.scanlock)."""
    processes = [subprocess.Popen([*QIXIAN, *command(url, notify, now)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(SCANNERS)]
    sent = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        if process.returncode == 1 and url.startswith("sqlite") and "另一个扫描" in err:
            sent.append(0)
            continue
        assert process.returncode == 0, err
        sent.append(int(re.search(r"已发送 (\d+) 条消息", out).group(1)))
    return sent


def state(url):
    """The outbox (key, status, channel, digest's clocks) and each open clock's next reminder."""
    store = Store.open(url)
    with store.session() as session:
        outbox = sorted((r.key, r.status, r.channel, tuple(r.clocks or ())) for r in session.exec(select(OutboxRow)).scalars())
        clocks = sorted(session.execute(select(ClockRow.id, ClockRow.next_reminder_at).where(ClockRow.open.is_(True))).all())
    store.engine.dispose()
    return outbox, clocks


@pytest.fixture
def twin(db_url, tmp_path):
    """A second store, filled later as a copy of the first (`copy()`), for the clean run."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "clean.db"

        def copy():
            with sqlite3.connect(db_url.split(":///", 1)[1]) as source, sqlite3.connect(path) as target:
                source.backup(target)
            return f"sqlite:///{path}"

        yield copy
        return
    server = db_url.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql")
    admin = psycopg.connect(server + "/postgres", autocommit=True)
    name = f"qixian_clean_{uuid.uuid4().hex[:8]}"

    def copy():
        connect(db_url).dispose()
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{db_url.rsplit("/", 1)[1]}"')
        return db_url.rsplit("/", 1)[0] + "/" + name

    yield copy
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.mark.slow
# One crash point per database, alternating (each case takes tens of seconds): the code after either point is the same
# on both. Scanners started together without a crash: test_chunked_owing; PostgreSQL killed between owing chunks:
# test_chunked_owing.test_a_scan_killed_between_chunks_is_completed_by_the_next.
@pytest.mark.parametrize(("db_url", "crash_at"), [("sqlite", "scan.owed"), ("postgresql", "delivery.sent")], indirect=["db_url"])
def test_scanners_started_together_after_a_crash_end_as_a_clean_run(db_url, pack, tmp_path, twin, crash_at):
    sink, clean_sink = LocalSink(), LocalSink()
    sink.delay = 0.05  # a provider slow enough that the scanners' sending overlaps
    try:
        populate(db_url, pack, CASES, sink.port, days=3, per_unit=PER_UNIT)
        expected = owed_steps(db_url, pack, [NOW])
        clean = twin()
        (copy := Store.open(clean)).replace_directory(directory(f"json://127.0.0.1:{clean_sink.port}/chat", PER_UNIT))
        copy.engine.dispose()
        clean_notify = notify_folder(tmp_path / "clean-notify", clean_sink.port)
        for moment in (NOW, LATER):
            assert qixian(*command(clean, clean_notify, moment)).returncode == 0
        notify = notify_folder(tmp_path / "notify", sink.port)
        at_risk = set()  # keys the killed scanner sent and could not record
        if crash_at:
            nth = {"scan.owed": 2 if "postgresql" in db_url else 1, "delivery.sent": 3}[crash_at]
            killed = qixian(*command(db_url, notify, NOW), crash_at=f"{crash_at}:{nth}")
            assert killed.returncode == -signal.SIGKILL, killed.stderr
            if crash_at == "delivery.sent":
                assert len(sink.requests) == nth
                at_risk = set(sink.requests[-1]["keys"])
        sent = together(db_url, notify, NOW)
        if "postgresql" in db_url:
            assert sum(n > 0 for n in sent) >= 2, sent  # the scanners shared the sending
        assert qixian(*command(db_url, notify, LATER)).returncode == 0
        keys, clean_keys = sink.keys(), clean_sink.keys()
    finally:
        sink.close()
        clean_sink.close()
    assert state(db_url) == state(clean)  # the store as a clean run leaves it
    assert len(clean_keys) == len(set(clean_keys))
    assert set(keys) == set(clean_keys)  # every reminder reached the sink
    assert {(int(k.split(":")[0]), int(k.split(":")[2])) for k in clean_keys if not k.startswith("digest:")} >= expected
    twice = {key for key in keys if keys.count(key) > 1}
    assert twice == at_risk  # sent again: only the unrecorded message
