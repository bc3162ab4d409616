"""Scale-out at full size (the suite runs a smaller month: tests/alerting/test_scale_out.py): 10,000 generated cases,
30 days scanned every hour by 4 scanner processes at once over one PostgreSQL store, every reminder delivered to a
real local HTTP sink. Prints whether each reminder the clocks' plans owe arrived exactly once.

Run: .venv/bin/python bench/scaleout.py [--cases N] [--days N] [--hours N] [--scanners N]
     (PostgreSQL at $QIXIAN_TEST_PG or 127.0.0.1:5432; a database is made for the run and dropped after)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.store import machine  # noqa: E402
from qixian.localsink import LocalSink  # noqa: E402
from qixian.rulebook import load_pack  # noqa: E402
from qixian.store.database import connect, upgrade  # noqa: E402
from qixian.store.repository import Store  # noqa: E402
from qixian.store.tables import OutboxRow  # noqa: E402
from tests.alerting.scaleout import notify_folder, owed_steps, populate, run_scanners, ticks  # noqa: E402

SERVER = os.environ.get("QIXIAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres").replace("+psycopg", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--hours", type=int, default=1, help="hours between scan ticks")
    parser.add_argument("--scanners", type=int, default=4)
    args = parser.parse_args()
    print(f"machine: {machine()}; PostgreSQL at {SERVER.split('@')[-1]}")
    name = f"qixian_scaleout_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(SERVER, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = "postgresql+psycopg://" + SERVER.split("://", 1)[1].rsplit("/", 1)[0] + "/" + name
    sink = LocalSink()
    try:
        upgrade(url)
        pack = load_pack(ROOT / "rules")
        began = time.perf_counter()
        open_clocks = populate(url, pack, args.cases, sink.port, days=args.days)
        moments = ticks(args.days, args.hours)
        expected = owed_steps(url, pack, moments)
        print(f"{args.cases:,} cases ingested, {open_clocks:,} open clocks, {len(moments)} scan ticks; "
              f"{len(expected):,} reminder steps (clock × step) owed by the clocks' plans ({time.perf_counter() - began:.0f} s)")
        began = time.perf_counter()
        sent = run_scanners(url, pack, notify_folder(Path(tempfile.mkdtemp()) / "notify", sink.port), moments,
                            count=args.scanners)
        elapsed = time.perf_counter() - began
        delivered = sink.keys()
        store = Store.open(url)
        with store.session() as session:
            outbox = {row.key: row.status for row in session.exec(select(OutboxRow)).scalars()}
        store.engine.dispose()
    finally:
        sink.close()
        connect(url).dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    counts = Counter(delivered)
    twice = sum(n > 1 for n in counts.values())
    got = {(int(k.split(":")[0]), int(k.split(":")[2])) for k in counts}
    print(f"{args.scanners} scanners, {len(moments)} ticks in {elapsed:.0f} s: {sum(sent):,} messages "
          f"(per scanner {', '.join(f'{n:,}' for n in sent)}), {len(delivered):,} reminder keys (clock × step × recipient) at the sink")
    print(f"delivered twice: {twice}; owed but not delivered: {len(expected - got)}; delivered but not owed: "
          f"{len(got - expected)}; outbox rows not sent: {sum(s != 'sent' for s in outbox.values())}")
    exact = twice == 0 and got == expected and set(counts) == set(outbox) and all(s == "sent" for s in outbox.values())
    print(f"every owed reminder delivered exactly once: {'yes' if exact else 'NO'}")
    sys.exit(0 if exact else 1)


if __name__ == "__main__":
    main()
