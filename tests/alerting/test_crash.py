"""Crash test: scans killed at random points (SIGKILL) and restarted lose no reminder. Every request carries the
idempotency keys of its reminders; distinct keys at the sink equal those of an uninterrupted run, and a key
arrives twice only when a kill fell between sending and recording (counted and reported, never systematic)."""

import contextlib
import os
import random
import shutil
import signal
import time
from datetime import timedelta

import pytest

from qixian.alerting.delivery import CLAIMED
from qixian.alerting.localsink import LocalSink
from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.casework.feedlines import check, read_lines
from qixian.casework.feeds import ingest_items
from qixian.casework.samplefeed import Feed
from qixian.engine.directory import Directory, Officer, Unit
from qixian.legaltime.localtime import parse_local
from qixian.rulebook import load_pack
from qixian.store.database import upgrade
from qixian.store.repository import Store
from tests.paths import ROOT

RUNS = int(os.environ.get("QIXIAN_CRASH_RUNS", "200"))
START = parse_local("2025-10-01 08:00")


def prepared(folder, sink):
    """A store with 40 generated cases, a directory and a notify folder pointing at `sink`."""
    url = f"sqlite:///{folder}/q.db"
    upgrade(url)
    store, pack = Store.open(url), load_pack(ROOT / "rules")
    units = {"chengguan": Unit("chengguan", "城关派出所", "o1", "o2", "13800000000")}
    store.replace_directory(
        Directory(
            units,
            {
                f"o{i}": Officer(f"o{i}", f"民警{i}", "chengguan", f"1390000000{i}", (f"json://127.0.0.1:{sink.port}/chat/o{i}",) if i % 2 else ())
                for i in range(1, 6)
            },
        )
    )
    feed = Feed(seed=11, start=START - timedelta(days=3), days=6)
    for case in feed.cases(40):
        for event in case:
            if "case_info" in event:
                event["case_info"]["handler"] = random.Random(event["id"]).choice(["o1", "o2", "o3", "o4", "o5"])
                event["case_info"]["unit"] = "chengguan"
        text = "\n".join(__import__("json").dumps(e, ensure_ascii=False) for e in case) + "\n"
        ingest_items(store, pack, [check("f", n, raw, item, pack.events) for n, raw, item in read_lines("f.jsonl", text)], source="crash", now=START)
    notify = folder / "notify"
    shutil.copytree(ROOT / "notify" / "templates", notify / "templates")
    (notify / "channels.yaml").write_text(f'sms: "json://127.0.0.1:{sink.port}/sms/{{phone}}"\n', encoding="utf-8")
    return url, pack, NotifyConfig.load(notify)


def scan_in_child(url, pack, config, now, kill_after) -> bool:
    """Run one scan in a forked child; SIGKILL it after `kill_after` seconds (None: let it finish).
    True when the kill landed before the scan finished."""
    pid = os.fork()
    if pid == 0:  # the child: a scan, then out without cleanup, like a crash would
        try:
            scan(Store.open(url), pack, config, now)
        finally:
            os._exit(0)
    if kill_after is not None:
        time.sleep(kill_after)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the crash test forks and kills processes")
def test_killed_scans_lose_no_reminder(tmp_path):
    times = [START + timedelta(hours=6 * n) for n in range(1, 21)]
    reference_sink, sink = LocalSink(), LocalSink()
    try:
        ref_url, pack, ref_config = prepared(tmp_path / "reference", reference_sink)
        for now in times:
            scan(Store.open(ref_url), pack, ref_config, now)
        expected = set(reference_sink.keys())
        assert len(expected) > 40  # overdue repeats stop after overdue_digest.after (the digest follows)

        url, pack, config = prepared(tmp_path / "crashing", sink)
        rng = random.Random(2026)
        kills = interrupted = interrupted_after_sending = 0
        at_risk: set[str] = set()  # keys sent by a run that was then killed before it could record them
        per_time = max(1, RUNS // len(times))
        for now in times:
            for _ in range(per_time):
                before = len(sink.requests)
                killed = scan_in_child(url, pack, config, now, kill_after=rng.uniform(0.0, 0.12))
                kills += 1
                interrupted += killed
                if killed and len(sink.requests) > before:
                    interrupted_after_sending += 1
                    at_risk.update(k for r in sink.requests[before:] for k in r["keys"])
            # the restart that finishes the work, once a killed scanner's claimed rows are free again
            scan_in_child(url, pack, config, now + CLAIMED + timedelta(minutes=1), kill_after=None)
        got = sink.keys()
        duplicates = len(got) - len(set(got))
        print(
            f"\ncrash test: {kills} scans killed at random points at {len(times)} scan times ({interrupted} before they "
            f"finished, {interrupted_after_sending} of those after sending something); {len(expected)} reminders expected, "
            f"{len(set(got))} distinct keys delivered, {duplicates} delivered twice "
            f"({duplicates / max(1, len(got)):.1%} of requests' keys)"
        )
        assert interrupted >= 20 and interrupted_after_sending > 0  # the kills did land in the middle of the work
        assert set(got) == expected  # nothing lost, nothing invented
        repeated = {k for k in got if got.count(k) > 1}
        assert repeated <= at_risk  # a key arrives twice only after a kill between sending and recording
    finally:
        reference_sink.close()
        sink.close()
