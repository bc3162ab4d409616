"""Replaying cases into clock rows: after ingest, and when the rule pack or calendar changes.

`derive` is the pure step (case histories in, clock rows encoded for the store). It runs in this process, or, for
large ingests and recomputes, in worker processes on the other cores while this one reads and writes the database
(`Replayer`).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from qixian.engine.clocks import Clock, Event, replay
from qixian.engine.reminders import plan, warning_of
from qixian.faults import crash_point
from qixian.rulebook.model import RulePack
from qixian.store.clocks import CLOCK_VALUES
from qixian.store.database import dump_json
from qixian.store.repository import Store
from qixian.store.rows import chunked, decode_time, encode_time


@dataclass(frozen=True)
class History:
    """Everything replay needs about one case."""

    case: str
    events: list[Event]
    facts: Mapping[str, Any]
    persons: Mapping[str, Mapping[str, Any]]

    def __reduce__(self):  # events as columns: a batch crosses to a replay worker at half the cost of one object each
        events = self.events
        return _history, (
            self.case,
            self.facts,
            self.persons,
            [e.type for e in events],
            [e.at for e in events],
            [e.person for e in events],
            [e.data for e in events],
            [e.id for e in events],
        )


def _history(case, facts, persons, types, times, people, data, ids) -> History:
    return History(case, list(map(Event, types, times, people, data, ids)), facts, persons)


ClockRows = dict[str, list[tuple[str, str, int, tuple]]]  # case -> [(rule, person, number, CLOCK_VALUES-encoded)]
_DUE = CLOCK_VALUES.columns.index("due_at")
_DUE_DISPLAY = CLOCK_VALUES.columns.index("due_display")


@dataclass
class Moved:
    """A clock whose due a new rule pack or calendar would change."""

    case: str
    rule: str
    person: str
    before: str | None
    after: str | None
    shift: timedelta | None


@dataclass
class Recomputed:
    cases: int = 0
    clocks: int = 0
    changed: int = 0
    moved: list[Moved] = field(default_factory=list)
    case_ids: set[str] = field(default_factory=set)  # the cases replayed, where a caller reports them (replay_pending)


def derive(pack: RulePack, histories: Iterable[History], until: datetime | None = None) -> ClockRows:
    """The clock rows the histories give under `pack` (pure), recurring duties' periods opened up to `until`."""
    rows: ClockRows = {}
    for history in histories:
        relevant = pack.rules_started_by({e.type for e in history.events})
        clocks = replay(pack, history.events, case=history.case, facts=history.facts, persons=history.persons, rule_ids=relevant, until=until)
        rows[history.case] = [(c.rule.id, c.person or "", c.number, clock_values(c, pack)) for c in clocks]
    return rows


_utc_text = lru_cache(maxsize=8192)(encode_time)  # clocks share start events, last days and 08:30 reminder times


def clock_values(clock: Clock, pack: RulePack) -> tuple:
    """The stored columns of one clock, its next reminder included, in CLOCK_VALUES' order and encoded as it encodes
    them. Built as a tuple directly: this runs for every clock replayed (tests compare it with CLOCK_VALUES.encode)."""
    deadline, rule = clock.deadline, clock.rule
    planned = plan(clock, pack.settings)
    step = planned[0] if planned else None
    return (
        rule.version_key,
        clock.lead_of,
        clock.outcome is None,
        clock.outcome,
        deadline.paused,
        deadline.provisional,
        _utc_text(clock.started),
        _utc_text(deadline.due),
        deadline.due_display,
        _utc_text(clock.ended_at),
        clock.ended_by,
        dump_json(deadline.explanation),
        dump_json([{"kind": a.kind, "message": a.message} for a in clock.anomalies]) if clock.anomalies else "[]",
        _utc_text(step.at) if step else None,
        _utc_text(warning_of(planned)),
    )


def histories(store: Store, case_ids: Sequence[str], known: Mapping[str, History] | None = None) -> list[History]:
    """Histories of these cases: from `known` where given (cases whose every event is in hand), else from the store."""
    known = known or {}
    missing = [c for c in case_ids if c not in known]
    events = store.case_events(missing) if missing else {}
    facts, persons = store.case_facts(missing) if missing else ({}, {})
    return [known.get(c) or History(c, events.get(c, []), facts.get(c, {}), persons.get(c, {})) for c in case_ids]


YOUNG_COLLECTION = 20_000  # objects allocated between young-generation collections in bulk work (Python: 700)
_PACK: RulePack | None = None  # the pack a forked replay worker uses (inherited, never pickled)


def _derive_in_worker(batch: list[History], until: datetime | None) -> ClockRows:
    assert _PACK is not None, "a Replayer sets the pack before it forks its workers"
    rows = derive(_PACK, batch, until)
    crash_point("replay.derived")
    return rows


def _start_worker(parent: int) -> None:
    # A worker never outlives the process that started it: killed, that process cannot send the worker its stop,
    # and the worker would wait on its pipe for ever, holding its memory (Linux: the kernel kills it instead).
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the request above was made
        os._exit(1)
    # What the worker inherited lives as long as it does: keep it out of the collections, and collect the young
    # generation less often (each collection walks everything made since the last).
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])
    # The process writing the database is the one the others wait for: the replay workers yield the CPU to it.
    os.nice(5)


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux prctl PR_SET_PDEATHSIG; elsewhere nothing)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Replayer:
    """Runs `derive` here, or in forked worker processes, one per core, when `parallel`; recurring duties' periods
    are opened up to `until` (the run's `now`)."""

    def __init__(self, pack: RulePack, parallel: bool = False, until: datetime | None = None):
        self.pack, self.until = pack, until
        self.pool = None
        self.workers = 0  # batches replayed elsewhere while this process records the next one
        if parallel and "fork" in multiprocessing.get_all_start_methods():
            global _PACK
            _PACK = pack
            self.workers = os.cpu_count() or 1
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker, initargs=(os.getpid(),)
            )

    def submit(self, batch: list[History]) -> Future:
        if self.pool is not None:
            return self.pool.submit(_derive_in_worker, batch, self.until)
        done: Future = Future()
        done.set_result(derive(self.pack, batch, self.until))
        return done

    def __enter__(self) -> Replayer:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def recompute(
    store: Store,
    pack: RulePack,
    case_ids: Iterable[str],
    now: datetime,
    *,
    apply: bool = True,
    batch: int = 500,
    parallel: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Recomputed:
    """Replay the cases and (unless `apply` is false) store their clocks; report which dues move. With `parallel`,
    more than a few batches replay in worker processes while this one reads the next histories and writes the
    last clocks."""
    ids = list(case_ids)
    parallel = parallel and len(ids) > 4 * batch
    report = Recomputed(cases=len(ids))
    # batches being replayed, settled in the order sent, with the replay marks read before their histories
    pending: deque[tuple[Sequence[str], dict[str, str], Future]] = deque()

    def settle(keep: int) -> None:
        while len(pending) > keep:
            chunk, marks, future = pending.popleft()
            rows = future.result()
            before = store.dues_of_cases(chunk)
            for case_id, clocks in rows.items():
                report.clocks += len(clocks)
                for rule_id, person, number, values in clocks:
                    old = before.get((case_id, rule_id, person, number))
                    new_due = decode_time(values[_DUE])
                    if old is not None and old[0] != new_due:
                        shift = new_due - old[0] if new_due and old[0] else None
                        report.moved.append(Moved(case_id, rule_id, person, old[1], values[_DUE_DISPLAY], shift))
            if apply:
                report.changed += store.write_clocks(rows, now, marks=marks)
                crash_point("recompute.written")
            if progress:
                progress(len(chunk))

    with Replayer(pack, parallel, until=now) as replayer:
        for chunk in chunked(ids, batch):
            marks = store.replay_marks(chunk) if apply else {}
            pending.append((chunk, marks, replayer.submit(histories(store, chunk))))
            settle(keep=replayer.workers)
        settle(keep=0)
    return report


PENDING_ROUNDS = 3


def replay_pending(store: Store, pack: RulePack, now: datetime, *, parallel: bool = False, progress: Callable[[int], None] | None = None) -> Recomputed:
    """Replay the cases whose clocks are older than their events (what an interrupted ingest left marked), until
    none is left (a case recorded again meanwhile keeps its mark for the replay that recorded it: a few rounds, then
    it is left to that one). Cheap when there are none: one read of an empty table."""
    report = Recomputed()
    for _ in range(PENDING_ROUNDS):
        pending = list(store.replay_marks())
        if not pending:
            break
        done = recompute(store, pack, pending, now, parallel=parallel, progress=progress)
        report.case_ids.update(pending)
        report.cases, report.clocks, report.changed = (report.cases + done.cases, report.clocks + done.clocks, report.changed + done.changed)
        report.moved += done.moved
    return report
