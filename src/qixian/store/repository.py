"""The case store: one Store over one database, made of a part per capability (cases.py, clocks.py, people.py,
signins.py, snapshots.py, each a StorePart: part.py), so callers hold one object while each table's reading and writing lives with
its capability."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from qixian.store.cases import Cases
from qixian.store.clocks import Clocks
from qixian.store.database import UnusableDatabase, database_url, engine_for, is_current, shown, sqlite_file
from qixian.store.people import People
from qixian.store.signins import SignIns
from qixian.store.snapshots import ReportSnapshots


class StoreError(RuntimeError):
    """The store cannot be used as asked (e.g. its schema is missing); the message says what to run."""


class Store(Cases, Clocks, People, SignIns, ReportSnapshots):
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """The store at `url` (--db / $QIXIAN_DB / ./.qixian/qixian.db). Raises StoreError if not migrated."""
        url = database_url(url)
        path = sqlite_file(url)
        if path is not None and not path.exists():  # not made here: `qixian db upgrade` makes it, private
            raise StoreError(f"案件库 {shown(url)} 不存在：请先运行 qixian db upgrade 建表（--db 与本命令相同）")
        try:
            engine = engine_for(url)
            current = is_current(engine)
        except UnusableDatabase as exc:
            raise StoreError(str(exc)) from None
        if not current:
            engine.dispose()
            raise StoreError(f"案件库 {shown(url)} 尚未建表或表结构不是最新：请先运行 qixian db upgrade")
        return cls(engine)

    def count(self, table) -> int:
        with self.session() as session:
            return session.execute(select(func.count()).select_from(table)).scalar_one()
