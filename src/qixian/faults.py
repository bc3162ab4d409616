"""Crash points for the fault-injection tests. With QIXIAN_CRASH_AT="name" (or "name:n"), the first (or n-th) pass
of this process through `crash_point(name)` kills the process with SIGKILL, as `kill -9` or a power cut would at
that instant: nothing is flushed, no handler runs. Unset, as always outside those tests, a crash point is one
comparison. The names mark the instants between two commits, where an interrupted run could leave a store that a
clean run would not:

- ingest.recorded: a batch of events is committed, its clocks are not written yet
- ingest.written: a batch's clocks are committed, later batches are not recorded yet
- replay.derived: in a replay worker, a batch is replayed and not yet handed back (the worker dies)
- recompute.written: a recompute batch's clocks are committed, later batches are not replayed yet
- sql.ingested: a poll's events and clocks are committed, its watermark is not
- scan.owed: a scan's chunk of clocks is owed (outbox rows written, clocks advanced), later chunks are not
- delivery.sent: a claimed message's channels have answered, the outbox rows and delivery log do not record it yet
- report.kept: the report refresh has kept its snapshots, the ones older than a day are not deleted yet
"""

from __future__ import annotations

import os
import signal

_target, _, _nth = os.environ.get("QIXIAN_CRASH_AT", "").partition(":")
_passes = 0


def crash_point(name: str) -> None:
    global _passes
    if name != _target:
        return
    _passes += 1
    if _passes >= int(_nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
