"""Where events come from (自动数据抓取): a file or folder drop, and a view in the case system's own database
polled with a watermark. Each batch is recorded in one transaction, with a replay mark on each case it touched;
the cases are then replayed, and each case's clocks are written in one transaction with the removal of its mark.
A run interrupted at any instant leaves marks, and the next ingest (or scan) replays them first: no clock is lost.
A poll's watermark is stored after its events' clocks."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from qixian.casework.feedlines import FIELDS, check, decode, read_lines
from qixian.casework.recompute import YOUNG_COLLECTION, History, Replayer, histories, replay_pending
from qixian.engine.caseinfo import Incoming, Rejected, case_facts, columns_of, facts_of, folded, persons_of
from qixian.engine.clocks import Event
from qixian.faults import crash_point
from qixian.legaltime.localtime import SHANGHAI
from qixian.rulebook.model import RulePack
from qixian.store.database import checkpoints_aside, database_url
from qixian.store.repository import Store

BATCH = 5000
WARNINGS_KEPT = 200  # warnings listed per ingest (all are counted)
SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv")


@dataclass
class FeedReport:
    lines: int = 0
    accepted: int = 0
    duplicate: int = 0
    quarantined: int = 0
    clocks_changed: int = 0  # clock rows written (a case replayed again in a later batch counts again)
    case_ids: set[str] = field(default_factory=set)  # the cases replayed, each once however many batches held it
    warnings: list[str] = field(default_factory=list)  # accepted, but worth a look: a unit or handler not in the directory
    warned: int = 0  # all of them (the list keeps the first WARNINGS_KEPT)

    @property
    def cases(self) -> int:
        return len(self.case_ids)

    def add(self, other: FeedReport) -> None:
        for name in ("lines", "accepted", "duplicate", "quarantined", "clocks_changed", "warned"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.case_ids |= other.case_ids
        self.warnings += other.warnings[: WARNINGS_KEPT - len(self.warnings)]

    def counts(self) -> dict[str, int]:
        """The figures, as the flows return them."""
        return {
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "quarantined": self.quarantined,
            "cases": self.cases,
            "clocks_changed": self.clocks_changed,
            "warned": self.warned,
        }

    def warn(self, warning: str) -> None:
        self.warned += 1
        if len(self.warnings) < WARNINGS_KEPT:
            self.warnings.append(warning)


Progress = Callable[[int], None]


def ingest_items(
    store: Store, pack: RulePack, items: Iterable[Incoming | Rejected], *, source: str, now: datetime, progress: Progress | None = None, parallel: bool = False
) -> FeedReport:
    """Record checked lines batch by batch and replay the cases with new events. With `parallel`, replay runs in
    worker processes while the next batches are recorded; the clocks written are the same either way (batches are
    written in the order they were recorded, and a case's later batch replays its whole history)."""
    report = FeedReport()
    accepted: list[Incoming] = []
    rejected: list[Rejected] = []
    pending: list = []  # (future rows, new cases, replay mark, number of lines) of the batches being replayed

    def write_pending(keep: int = 0) -> None:
        while len(pending) > keep:
            future, new_cases, token, lines = pending.pop(0)
            rows = future.result()
            report.case_ids.update(rows)
            report.clocks_changed += store.write_clocks(rows, now, new_cases=new_cases, marks=dict.fromkeys(rows, token))
            crash_point("ingest.written")
            if progress:
                progress(lines)

    unknown_people = outside_directory(store)

    def flush(replayer: Replayer) -> None:
        for item in accepted:
            for warning in unknown_people(item):
                report.warn(warning)
        lines = len(accepted) + len(rejected)  # before recording, which moves conflicting repeats to `rejected`
        recorded = store.record(accepted, rejected, source, now)
        crash_point("ingest.recorded")
        report.lines += lines
        report.accepted += recorded.accepted
        report.duplicate += recorded.duplicate
        report.quarantined += recorded.quarantined
        known = new_case_histories(accepted, recorded.new_cases)
        batch = histories(store, sorted(recorded.cases), known) if recorded.cases else []
        pending.append((replayer.submit(batch), recorded.new_cases, recorded.token, lines))
        write_pending(keep=replayer.workers)  # earlier batches, replayed meanwhile, in the order they were recorded
        accepted.clear()
        rejected.clear()

    with _few_collections(), checkpoints_aside(store.engine), Replayer(pack, parallel, until=now) as replayer:
        for item in items:
            if isinstance(item, Incoming):
                accepted.append(item)
            else:
                rejected.append(item)
            if len(accepted) + len(rejected) >= BATCH:
                flush(replayer)
        if accepted or rejected:
            flush(replayer)
        write_pending()
        # cases an interrupted run recorded and did not replay (or that a concurrent recording took over)
        left = replay_pending(store, pack, now, parallel=replayer.workers > 0)
        report.case_ids.update(left.case_ids)
        report.clocks_changed += left.changed
    return report


def outside_directory(store: Store) -> Callable[[Incoming], list[str]]:
    """A check of an accepted line's case_info against the directory: a unit or handler it does not know, once per
    case. Such a line is taken (the case system is the authority on its cases; the clocks run whatever the directory
    says), but its reminders would reach nobody until the directory has them: said in the ingest summary. Nothing
    is said while the directory is empty (not loaded yet)."""
    directory = store.directory()
    said: set[tuple[str, str, str]] = set()
    if not directory.units and not directory.officers:
        return lambda item: []

    def unknown(item: Incoming) -> list[str]:
        found = []
        for what, known, label in (("unit", directory.units, "单位"), ("handler", directory.officers, "主办民警")):
            value = item.case_info.get(what)
            if value in (None, "") or str(value) in known or (item.case, what, str(value)) in said:
                continue
            said.add((item.case, what, str(value)))
            found.append(
                f"第 {item.line} 行（{item.origin}）：案件 {item.case} 的{label} {str(value)[:100]!r} 不在名录中，"
                f"已采用；其提醒发不到人，请核对后更新名录（qixian directory load）"
            )
        return found

    return unknown


@contextmanager
def _few_collections():
    """A bulk load keeps most of what it allocates until the batch is written: collect the young generation less
    often (each collection walks every object made since the last), as the replay workers do; and what was there
    before (the modules, the rule pack) is left out of the full collections the load sets off meanwhile."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def new_case_histories(accepted: list[Incoming], new_cases: set[str]) -> dict[str, History]:
    """Histories of cases whose every event is in this batch, as the store would give them back."""
    by_case: dict[str, list[Incoming]] = {}
    for item in accepted:
        if item.case in new_cases:
            by_case.setdefault(item.case, []).append(item)
    known = {}
    for case, items in by_case.items():
        first: dict[str, Incoming] = {}
        for item in items:  # the first occurrence of an id is the one recorded
            first.setdefault(item.id, item)
        ordered = sorted(first.values(), key=lambda i: i.at)
        info = folded(ordered).get(case, {})
        events = [Event(i.type, i.at.astimezone(SHANGHAI), i.person, i.data, i.id) for i in ordered]
        known[case] = History(case, events, case_facts(facts_of(info), columns_of(info)), persons_of(info))
    return known


def files_in(path: Path) -> list[Path]:
    """The event files a path names: the file itself, or the event files in a folder, in name order."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
    return [path]


def ingest_path(
    store: Store,
    pack: RulePack,
    path: Path,
    *,
    source: str,
    now: datetime,
    fmt: str | None = None,
    progress: Progress | None = None,
    parallel: bool = False,
    encoding: str = "utf-8",
) -> FeedReport:
    """Ingest a file, or every event file in a folder, in `encoding` (GB18030 for older case systems' exports):
    a line that does not decode is quarantined with its number, and the rest are taken. With `parallel`, a file of
    more than one batch is replayed in worker processes (starting them costs more than replaying one batch here)."""
    report = FeedReport()
    kinds = pack.settings.case_kinds
    for file in files_in(path):
        content, undecodable = decode(str(file), file.read_bytes(), encoding)
        parsed = (check(str(file), n, raw, item, pack.events, kinds) for n, raw, item in read_lines(str(file), content, fmt))
        items = chain(undecodable, parsed)  # each line keeps its own number
        report.add(ingest_items(store, pack, items, source=source, now=now, progress=progress, parallel=parallel and content.count("\n") > BATCH))
    return report


def ingest_sql(
    store: Store, pack: RulePack, url: str, query: str, *, source: str, now: datetime, watermark_column: str = "at", progress: Progress | None = None
) -> FeedReport:
    """Poll a view in the case system's database. `query` selects the event columns (id, case, type, at, person,
    data, case_info) and may use `:watermark` (e.g. `WHERE updated_at >= :watermark`); the largest value of
    `watermark_column` read is kept, so the next poll starts there. Rows read twice are duplicates, not errors."""
    engine = create_engine(database_url(url))
    mark_key = f"sql:{source}"
    watermark = store.watermark(mark_key) or ""
    origin = f"sql:{source}"
    items, highest = [], watermark
    with engine.connect() as connection:
        params = {"watermark": watermark} if ":watermark" in query else {}
        for number, row in enumerate(connection.execute(text(query), params).mappings(), start=1):
            # the watermark column may be one the event format does not have (a sequence number): it is not event data
            item = {k: _plain(v) for k, v in row.items() if v is not None and (k in FIELDS or k != watermark_column)}
            parsed: dict[str, Any] | json.JSONDecodeError = item
            for key in ("data", "case_info"):
                if isinstance(item.get(key), str):
                    try:
                        item[key] = json.loads(item[key])
                    except json.JSONDecodeError as exc:
                        parsed = exc
                        break
            raw = json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False, default=str)
            items.append(check(origin, number, raw, parsed, pack.events, pack.settings.case_kinds))
            mark = row.get(watermark_column)
            if mark is not None and _order(str(_plain(mark))) > _order(highest):
                highest = str(_plain(mark))
    engine.dispose()
    report = ingest_items(store, pack, items, source=source, now=now, progress=progress)
    crash_point("sql.ingested")
    if highest != watermark:
        store.set_watermark(mark_key, highest, now)
    return report


def _order(mark: str):
    """Watermarks compare as numbers when they are numbers (a sequence), else as ISO text; none yet is lowest."""
    if mark == "":
        return (-1, 0.0, "")
    try:
        return (0, float(mark), "")
    except ValueError:
        return (1, 0.0, mark)


def _plain(value):
    return value.isoformat() if isinstance(value, (datetime, date)) else value
