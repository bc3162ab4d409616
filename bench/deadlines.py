"""Due-time computations per second for a realistic mix of units (goal: >= 50,000/s on one core).

Run: make bench   (or .venv/bin/python bench/deadlines.py [N])
"""

from __future__ import annotations

import os
import platform
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.deadlines import Extension, Pause, compute_deadline
from qixian.legaltime.localtime import SHANGHAI
from qixian.legaltime.periods import Duration, Unit

MIX = [  # (weight, limit, custody, with an extension, with a pause): the shape of a police case load
    (30, Duration(24, Unit.HOURS), True, False, False),
    (10, Duration(8, Unit.HOURS), True, False, False),
    (25, Duration(3, Unit.DAYS), True, True, False),
    (15, Duration(30, Unit.DAYS), False, True, True),
    (10, Duration(2, Unit.MONTHS), True, True, False),
    (5, Duration(12, Unit.MONTHS), False, False, False),
    (5, Duration(10, Unit.WORKDAYS), False, False, False),
]


def cases(count: int, seed: int = 7):
    rng = random.Random(seed)
    weights = [m[0] for m in MIX]
    base = datetime(2025, 1, 1, tzinfo=SHANGHAI)
    for _ in range(count):
        _, limit, custody, extended, paused = rng.choices(MIX, weights)[0]
        start = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 600))
        extensions = [Extension(Duration(limit.amount, limit.unit), at=start + timedelta(hours=1))] if extended and rng.random() < 0.3 else []
        pauses = [Pause(start + timedelta(days=2), start + timedelta(days=5, hours=3))] if paused and rng.random() < 0.3 else []
        yield start, limit, custody, extensions, pauses


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    calendar = LegalCalendar.load(Path(__file__).resolve().parents[1] / "rules" / "calendar")
    work = list(cases(count))
    begin = time.perf_counter()
    provisional = 0
    for start, limit, custody, extensions, pauses in work:
        provisional += compute_deadline(start, limit, calendar, custody=custody, extensions=extensions, pauses=pauses).provisional
    elapsed = time.perf_counter() - begin
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, one process (one core)")
    mix = ", ".join(f"{w}% {limit}{' 在押' if custody else ''}" for w, limit, custody, _, _ in MIX)
    print(f"mix: {mix}; ~30% of eligible clocks carry an extension or a pause")
    print(
        f"computed {count:,} due times with explanations in {elapsed:.2f} s: {count / elapsed:,.0f} per second "
        f"({elapsed / count * 1e6:.1f} µs each; {provisional:,} provisional)"
    )
    print("goal >= 50,000 per second:", "met" if count / elapsed >= 50_000 else "NOT met")


if __name__ == "__main__":
    main()
