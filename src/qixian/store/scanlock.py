"""One scanner at a time on SQLite. SQLite has no row locks: two scans writing the same file would collide as
'database is locked' half-way through. So a scan first takes an exclusive lock on a file beside the database
(`<db>.scan-lock`, flock, not waiting): a second scanner stops at once with a clear error, and the lock vanishes
with its process, even one that was killed. PostgreSQL needs none of this: scanners split the work with row locks
(FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine


class ScanBusy(RuntimeError):
    """Another scanner holds the SQLite store; the message says what to do."""


_held: dict[Path, int] = {}  # locks this process holds: a scan takes the lock once for owing and delivering


@contextmanager
def single_scanner(engine: Engine) -> Iterator[None]:
    """Hold the SQLite store's scan lock for the block (raises ScanBusy if another process holds it); on
    PostgreSQL, nothing to hold."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    path = Path(database).resolve().with_name(Path(database).name + ".scan-lock")
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "未知"
            raise ScanBusy(
                f"另一个扫描（进程 {holder}）正在使用 SQLite 案件库 {database}：SQLite 只允许一个扫描进程。"
                "等它结束后再运行；需要多个扫描进程同时工作时，案件库请改用 PostgreSQL（见 README 运维部分）"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            _held[path] = 1
            yield
        finally:
            _held.pop(path, None)
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
