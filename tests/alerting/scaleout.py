"""A month of scanning by several scanner processes at once over one store, for the scale-out test and its full-size
run (bench/scaleout.py): generated cases, scan ticks (hourly at full size) that every scanner runs at the same moment, and the
reminders the clocks' plans say are owed, computed without the scanner."""

from __future__ import annotations

import multiprocessing
import shutil
import time
import traceback
from bisect import bisect_left
from datetime import timedelta
from pathlib import Path

from qixian.alerting.messages import NotifyConfig
from qixian.alerting.outbox import counting_unit, rule_of
from qixian.alerting.scan import scan
from qixian.casework.feedlines import check, read_lines
from qixian.casework.feeds import ingest_items
from qixian.casework.samplefeed import Feed, directory
from qixian.engine.reminders import reached
from qixian.legaltime.localtime import parse_local
from qixian.rulebook import load_pack
from qixian.store.repository import Store

ROOT = Path(__file__).resolve().parents[2]
START = parse_local("2025-11-03 00:00")


def populate(url: str, pack, cases: int, sink_port: int, days: int = 30, per_unit: int = 3) -> int:
    """`cases` generated cases starting over `days` days from START, all their events ingested at START, the sample
    directory (`per_unit` officers a unit) with chat robots and SMS at the local sink. Returns the number of open
    clocks."""
    store = Store.open(url)
    store.replace_directory(directory(f"json://127.0.0.1:{sink_port}/chat", per_unit))
    text = "\n".join(Feed(seed=5, start=START, days=days, per_unit=per_unit).lines(cases)) + "\n"
    items = [check("feed", n, raw, item, pack.events) for n, raw, item in read_lines("feed.jsonl", text)]
    ingest_items(store, pack, items, source="simulation", now=START)
    open_clocks = len(store.clocks(open_only=True))
    store.engine.dispose()  # the scanners are forked: none of them may share this engine's connections
    return open_clocks


def notify_folder(folder: Path, sink_port: int, extra: str = "") -> Path:
    """A notify/ folder whose SMS gateway is the local sink."""
    shutil.copytree(ROOT / "notify" / "templates", folder / "templates")
    (folder / "channels.yaml").write_text(f'sms: "json://127.0.0.1:{sink_port}/sms/{{phone}}"\n' + extra, encoding="utf-8")
    return folder


def ticks(days: int = 30, hours: int = 1) -> list:
    """Scan moments every `hours` hours over `days` days from START."""
    return [START + timedelta(hours=n) for n in range(hours, days * 24 + 1, hours)]


def run_scanners(url: str, pack, notify: Path, ticks: list, count: int = 4, took: list | None = None) -> list[int]:
    """`count` scanner processes, each started afresh (spawned, as on separate machines: nothing inherited from
    this process); at each tick all of them scan at once (a barrier). Returns how many messages each one sent
    (and, into `took` if given, the seconds each one spent scanning); raises if any of them failed."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(count)
    sent, seconds = context.Array("i", count), context.Array("d", count)
    processes = [context.Process(target=_scanner, args=(url, str(pack.directory), notify, ticks, barrier, sent, seconds, n)) for n in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=600)
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    assert not failed, f"scanner processes failed: exit codes {failed}"
    if took is not None:
        took.extend(seconds)
    return list(sent)


def _scanner(url: str, rules: str, notify: Path, ticks: list, barrier, sent, seconds, number: int) -> None:
    try:
        store, pack, config = Store.open(url), load_pack(rules), NotifyConfig.load(notify)
        barrier.wait(timeout=120)  # all loaded before the first tick
        for now in ticks:
            barrier.wait(timeout=120)
            began = time.perf_counter()
            sent[number] += scan(store, pack, config, now).delivered.sent
            seconds[number] += time.perf_counter() - began
    except BaseException:
        traceback.print_exc()
        barrier.abort()
        raise


def owed_steps(url: str, pack, ticks: list) -> set[tuple[int, int]]:
    """(clock id, step number) of every reminder owed over the ticks, from each clock's plan: at each tick, the most
    severe step whose time came since the tick before (the first tick takes every step before it)."""
    store = Store.open(url)
    owed = set()
    for clock in store.clocks(open_only=True):
        rule = rule_of(pack, clock)
        if rule is None or clock.due_at is None or clock.paused:
            continue
        steps, _ = reached(rule, counting_unit(pack, rule), clock.started_at, clock.due_at, pack.settings, ticks[-1])
        last_of_tick: dict[int, int] = {}
        for step in steps:
            last_of_tick[bisect_left(ticks, step.at)] = step.number  # steps come in plan order
        owed |= {(clock.id, number) for number in last_of_tick.values()}
    store.engine.dispose()
    return owed
