"""Reading and writing times as people type and read them: Qixian's own code (qixian.legaltime.localtime and .periods)
against pendulum, the library that comes with Prefect on Python < 3.13 (Qixian does not depend on it). Prints, for
each form an officer may type, what each reads; what each says of a bad time; how each writes a length of time and
counts months; and the time per call of each, with the ratio. The evidence for the README's "依赖" section.

Run: .venv/bin/python bench/timetext.py [N]   (N calls per timing, default 100,000)
"""

from __future__ import annotations

import sys
import timeit
from datetime import date, timedelta
from importlib.metadata import version

from qixian.legaltime.localtime import TimeFormatError, parse_local, span
from qixian.legaltime.periods import add_months

try:
    import pendulum
except ImportError:  # Prefect brings `whenever` instead on Python >= 3.13
    sys.exit("pendulum 未安装（Python 3.13 起 Prefect 不再带它）：无从比较")

ZONE = "Asia/Shanghai"
TYPED = [
    "2025-09-29 15:40",
    "2025-09-29T15:40",
    "2025-09-29 15:40:00",
    "2025-09-29",
    "2025-09-29T07:40:00Z",
    "2025-09-29T09:40:00+02:00",
    "2025/9/29 15:40",
    "2025.9.29 15:40",
    "2025年9月29日 15时40分",
    "2025年9月29日",
    "2025-10-02 24:00",
    " 2025-09-29 15:40 ",
]
BAD = ["2025-02-30", "2025-13-01 10:00", "2025-09-29 25:00", "15:40", "yesterday"]
LENGTHS = [timedelta(minutes=40), timedelta(hours=5, minutes=12), timedelta(days=2, hours=3), timedelta(days=15, hours=3, seconds=20), timedelta(days=45)]
MONTHS = [(date(2025, 1, 31), 1), (date(2025, 2, 28), 1), (date(2025, 4, 30), 1), (date(2024, 2, 29), 12)]


def ours(text: str) -> str:
    try:
        return parse_local(text).isoformat()
    except TimeFormatError as exc:
        return f"拒绝：{exc}"


def theirs(text: str) -> str:
    try:
        return pendulum.parse(text, tz=ZONE).isoformat()
    except Exception as exc:
        return f"拒绝：{type(exc).__name__}: {exc}"


def per_call(work, number: int) -> float:
    return min(timeit.repeat(work, number=number, repeat=3)) / number * 1e6


def main() -> None:
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"pendulum {version('pendulum')}; times read in {ZONE}")
    print("\n== 民警写的时间：parse_local | pendulum.parse(tz=Asia/Shanghai)")
    same = 0
    for text in TYPED:
        a, b = ours(text), theirs(text)
        same += a == b
        print(f"{text!r:28} {a:28} | {b}")
    print(f"read alike: {same} of {len(TYPED)}")
    print("\n== 写错的时间")
    for text in BAD:
        print(f"{text!r:22} {ours(text)}\n{'':22} {theirs(text)}")
    print("\n== 剩余时间：span | Duration.in_words(locale='zh')")
    for length in LENGTHS:
        print(f"{length!s:22} {span(length):10} | {pendulum.duration(seconds=length.total_seconds()).in_words(locale='zh')}")
    print("\n== 月的计算（刑诉法解释第二百零二条）：add_months | pendulum add(months=)")
    for start, months in MONTHS:
        print(f"{start} + {months} 个月  {add_months(start, months)} | {pendulum.date(start.year, start.month, start.day).add(months=months)}")
    print(f"\n== time per call ({number:,} calls, best of 3)")
    chinese = "YYYY年M月D日 H时m分"
    start = pendulum.date(2025, 1, 31)
    pairs = [
        ("'2025-09-29 15:40'", lambda: parse_local("2025-09-29 15:40"), lambda: pendulum.parse("2025-09-29 15:40", tz=ZONE)),
        ("'2025-09-29'", lambda: parse_local("2025-09-29"), lambda: pendulum.parse("2025-09-29", tz=ZONE)),
        ("ISO with offset", lambda: parse_local("2025-09-29T09:40:00+02:00"), lambda: pendulum.parse("2025-09-29T09:40:00+02:00", tz=ZONE)),
        ("'2025年9月29日 15时40分'", lambda: parse_local("2025年9月29日 15时40分"), lambda: pendulum.from_format("2025年9月29日 15时40分", chinese, tz=ZONE)),
        ("2天3小时", lambda: span(timedelta(days=2, hours=3)), lambda: pendulum.duration(days=2, hours=3).in_words(locale="zh")),
        ("+2 months", lambda: add_months(date(2025, 1, 31), 2), lambda: start.add(months=2)),
    ]
    for label, mine, other in pairs:
        a, b = per_call(mine, number), per_call(other, number)
        print(f"{label:26} qixian {a:6.2f} µs   pendulum {b:7.2f} µs   pendulum/qixian {b / a:4.1f}x")


if __name__ == "__main__":
    main()
