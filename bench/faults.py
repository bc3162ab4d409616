"""Soak of the fault-injection tests (tests/store/test_faults.py runs a few of each kind): `qixian ingest` of a
sample feed killed with SIGKILL many times, at random moments from outside, at random crash points, or in a replay
worker, then run again to completion; each run's clocks are compared with a clean ingest's, case for case.
Prints how many runs ended different from the clean run (the answer must be 0) and whether any worker outlived
its ingest.

Run: .venv/bin/python bench/faults.py [--runs 40] [--cases 2000] [--postgres] [--seed N]
     (--postgres: the store is a PostgreSQL database at $QIXIAN_TEST_PG or 127.0.0.1:5432, made and dropped here)
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.store import machine  # noqa: E402
from qixian.casework.samplefeed import Feed  # noqa: E402
from qixian.store.database import upgrade  # noqa: E402
from tests.store.crashing import NOW, QIXIAN, clocks_of, ingest, marks_of, wait_gone  # noqa: E402

SERVER = os.environ.get("QIXIAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres").replace("+psycopg", "")
POINTS = ["ingest.recorded", "ingest.written", "replay.derived"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    chance = random.Random(args.seed)
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        feed = Path(folder) / "feed.jsonl"
        feed.write_text("".join(line + "\n" for line in Feed(seed=23).lines(args.cases)), encoding="utf-8")
        batches = -(-sum(1 for _ in feed.open("rb")) // 5000)
        clean_url = f"sqlite:///{folder}/clean.db"
        upgrade(clean_url)
        started = time.monotonic()
        assert ingest(clean_url, feed).returncode == 0
        took = time.monotonic() - started
        clean = clocks_of(clean_url)
        print(f"完整导入：{len(clean)} 个计时，{took:.1f} 秒；{batches} 批")
        different = lingering = 0
        for run in range(1, args.runs + 1):
            url, drop = store_for(args.postgres, folder, run)
            try:
                how = chance.choice(["clock", "point"])
                if how == "clock":
                    moment = chance.uniform(0.1, 1.0) * took
                    process = subprocess.Popen([*QIXIAN, "ingest", str(feed), "--now", NOW, "--db", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(moment)
                    process.kill()
                    process.wait()
                    what = f"{moment:.2f} 秒时 kill -9"
                else:
                    point = f"{chance.choice(POINTS)}:{chance.randint(1, batches)}"
                    ingest(url, feed, crash_at=point)
                    what = f"在 {point} 终止"
                left_marks = marks_of(url)
                if wait_gone(str(feed)):
                    lingering += 1
                assert ingest(url, feed).returncode == 0
                same = clocks_of(url) == clean and marks_of(url) == 0
                different += not same
                print(f"第 {run} 次：{what}，留下 {left_marks} 个待重算标记；再次导入后{'与完整导入相同' if same else '与完整导入不同'}")
            finally:
                drop()
        print(f"{args.runs} 次中断：{different} 次结果与完整导入不同，{lingering} 次有工作进程残留")
        sys.exit(1 if different or lingering else 0)


def store_for(postgres: bool, folder: str, run: int):
    """A fresh store for one run, and how to remove it."""
    if not postgres:
        url = f"sqlite:///{folder}/run-{run}.db"
        upgrade(url)
        return url, lambda: os.remove(url.split("///", 1)[1])
    import psycopg

    name = f"qixian_faults_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    upgrade(url)

    def drop() -> None:
        from qixian.store.database import connect

        connect(url).dispose()
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


if __name__ == "__main__":
    main()
