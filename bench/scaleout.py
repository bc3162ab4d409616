"""Scale-out at full size (the suite runs a smaller month: tests/alerting/test_scale_out.py): 10,000 generated cases,
30 days scanned every hour by 4 scanner processes at once over one PostgreSQL store, every reminder delivered to a
real local HTTP sink. Prints whether each reminder the clocks' plans owe arrived exactly once.

With --peak: the 08:30 peak of one day, owed and sent by 1 scanner and then, on an identical copy of the store, by
4 scanners started at the same moment, the local sink answering each message after 0.5 s (a slow SMS gateway).
Prints each run's time, messages per scanner, and how many times faster 4 scanners deliver the peak (goal >= 3x).

Run: .venv/bin/python bench/scaleout.py [--cases N] [--days N] [--hours N] [--scanners N]
     .venv/bin/python bench/scaleout.py --peak [--cases 10000] [--scanners 4] [--delay 0.5]
     (PostgreSQL at $QIXIAN_TEST_PG or 127.0.0.1:5432; databases are made for the run and dropped after)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.store import machine  # noqa: E402
from qixian.alerting.localsink import LocalSink  # noqa: E402
from qixian.alerting.messages import NotifyConfig  # noqa: E402
from qixian.alerting.scan import scan  # noqa: E402
from qixian.rulebook import load_pack  # noqa: E402
from qixian.store.database import connect, upgrade  # noqa: E402
from qixian.store.repository import Store  # noqa: E402
from qixian.store.tables import OutboxRow  # noqa: E402
from tests.alerting.scaleout import START, notify_folder, owed_steps, populate, run_scanners, ticks  # noqa: E402

SERVER = os.environ.get("QIXIAN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres").replace("+psycopg", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--hours", type=int, default=1, help="hours between scan ticks")
    parser.add_argument("--scanners", type=int, default=4)
    parser.add_argument("--peak", action="store_true", help="the 08:30 peak by 1 scanner and by --scanners")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds the sink takes to answer (--peak)")
    args = parser.parse_args()
    print(f"machine: {machine()}; PostgreSQL at {SERVER.split('@')[-1]}")
    if args.peak:
        sys.exit(0 if peak(args.cases, args.scanners, args.delay) else 1)
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
        print(
            f"{args.cases:,} cases ingested, {open_clocks:,} open clocks, {len(moments)} scan ticks; "
            f"{len(expected):,} reminder steps (clock × step) owed by the clocks' plans ({time.perf_counter() - began:.0f} s)"
        )
        began = time.perf_counter()
        sent = run_scanners(url, pack, notify_folder(Path(tempfile.mkdtemp()) / "notify", sink.port), moments, count=args.scanners)
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
    print(
        f"{args.scanners} scanners, {len(moments)} ticks in {elapsed:.0f} s: {sum(sent):,} messages "
        f"(per scanner {', '.join(f'{n:,}' for n in sent)}), {len(delivered):,} reminder keys (clock × step × recipient) at the sink"
    )
    print(
        f"delivered twice: {twice}; owed but not delivered: {len(expected - got)}; delivered but not owed: "
        f"{len(got - expected)}; outbox rows not sent: {sum(s != 'sent' for s in outbox.values())}"
    )
    exact = twice == 0 and got == expected and set(counts) == set(outbox) and all(s == "sent" for s in outbox.values())
    print(f"every owed reminder delivered exactly once: {'yes' if exact else 'NO'}")
    sys.exit(0 if exact else 1)


PEAK_DAY, PER_UNIT = 29, 40  # the busiest 08:30 of the generated cases (3 days of them); 200 officers, 5 units


def peak(cases: int, scanners: int, delay: float) -> bool:
    """The 08:30 peak by 1 scanner, then by `scanners` on a copy of the same store; True when every owed
    reminder arrived exactly once in both runs."""
    admin = psycopg.connect(SERVER, autocommit=True)
    base = f"qixian_peak_{uuid.uuid4().hex[:8]}"
    names = [base] + [f"{base}_{count}" for count in (1, scanners)]
    url = "postgresql+psycopg://" + SERVER.split("://", 1)[1].rsplit("/", 1)[0] + "/{}"
    moment = START + timedelta(days=PEAK_DAY, hours=8, minutes=30)
    sink = LocalSink()
    runs, exact = {}, True
    try:
        admin.execute(f'CREATE DATABASE "{base}"')
        upgrade(url.format(base))
        pack = load_pack(ROOT / "rules")
        notify = notify_folder(Path(tempfile.mkdtemp()) / "notify", sink.port)
        began = time.perf_counter()
        open_clocks = populate(url.format(base), pack, cases, sink.port, days=3, per_unit=PER_UNIT)
        store = Store.open(url.format(base))  # caught up to the minute before: the peak tick owes only its own steps
        scan(store, pack, NotifyConfig.load(notify), moment - timedelta(minutes=1))
        store.engine.dispose()
        print(
            f"{cases:,} cases, {open_clocks:,} open clocks, scanned up to {moment - timedelta(minutes=1):%Y-%m-%d %H:%M} "
            f"({time.perf_counter() - began:.0f} s); the sink answers each message after {delay} s"
        )
        for count, name in zip((1, scanners), names[1:], strict=False):
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
            before = moment - timedelta(minutes=1)
            expected = owed_steps(url.format(name), pack, [before, moment]) - owed_steps(url.format(name), pack, [before])
            sink.requests.clear()
            sink.delay, took = delay, []
            sent = run_scanners(url.format(name), pack, notify, [moment], count=count, took=took)
            sink.delay = 0.0
            keys = Counter(sink.keys())
            store = Store.open(url.format(name))
            with store.session() as session:
                outbox = [row for row in session.exec(select(OutboxRow)).scalars() if row.created_at >= moment]
            store.engine.dispose()
            got = {(row.clock_id, row.step) for row in outbox if row.clocks is None}  # not the daily digests
            ok = (
                max(keys.values(), default=1) == 1
                and got == expected
                and set(keys) == {row.key for row in outbox}
                and all(row.status == "sent" for row in outbox)
            )
            exact &= ok
            runs[count] = max(took)
            digests = sum(row.clocks is not None for row in outbox)
            print(
                f"  {count} scanner{'s' if count > 1 else ''}: {len(expected):,} reminder steps due, {len(outbox):,} outbox "
                f"rows ({digests:,} of them daily overdue digests), {sum(sent):,} messages in {max(took):.1f} s "
                f"(per scanner {sent}); every reminder exactly "
                f"once: {'yes' if ok else 'NO'}"
            )
    finally:
        sink.close()
        for name in reversed(names):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    ratio = runs[1] / runs[scanners]
    print(f"08:30 peak: {scanners} scanners deliver it {ratio:.1f}x as fast as 1 (goal >= 3x: {'met' if ratio >= 3 else 'NOT met'})")
    return exact


if __name__ == "__main__":
    main()
