"""Rows in the form the database drivers take them, for the bulk paths (recording events with their case and
person rows, writing replayed clocks). SQLAlchemy's per-value type processing costs more than the insert itself
at ingest rates, so these paths encode values once (times as naive UTC text, JSON as UTF-8 text: exactly what
SQLAlchemy stores on SQLite) and bind them with the driver's executemany. Everything else reads and writes
through SQLAlchemy, which sees the same rows.

The encoding does not depend on the database, so a replay worker can encode the clocks it derives before
sending them back (plain strings cross the process boundary far cheaper than datetimes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, RowMapping, Table, TypeDecorator

from qixian.store.database import dump_json

_UTC = UTC


def encode_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None and value.tzinfo is not _UTC:
        value = value.astimezone(_UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"  # SQLAlchemy's SQLite
        f".{value.microsecond:06d}"
    )  # format, twice as fast as strftime


def decode_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text + "+00:00")  # (datetime.replace is 8x slower)


class Codec:
    """Encodes rows of `table` for `columns` (in that order) and binds them with the driver."""

    def __init__(self, table: Table, columns: Sequence[str]):
        self.table, self.columns = table, tuple(columns)
        self.kinds = tuple(_kind(table.c[name].type) for name in self.columns)
        encoders: dict[str | None, Callable] = {"time": encode_time, "json": dump_json}  # other kinds (None): as they are
        self._encoders: tuple[Callable | None, ...] = tuple(encoders.get(kind) for kind in self.kinds)

    def encode(self, values: Mapping[str, Any] | RowMapping) -> tuple:
        """Python values (aware or naive-UTC times, JSON-able data) as the driver takes them. Rows read back
        through SQLAlchemy encode to the same tuple, so stored and derived rows compare as tuples."""
        return tuple(values[name] if encode is None else encode(values[name]) for name, encode in zip(self.columns, self._encoders, strict=False))

    def insert(
        self,
        connection: Connection,
        rows: Iterable[tuple],
        *,
        unique: Sequence[str] = (),
        replace: Sequence[str] = (),
        returning: str | None = None,
        chunk: int = 500,
    ) -> list:
        """INSERT the encoded rows; with `unique`, rows clashing on those columns are skipped (ON CONFLICT DO
        NOTHING), or with `replace` too, have those columns replaced by the new values; with `returning`, that
        column of the rows actually inserted is returned."""
        rows = list(rows)
        marks = self._marks(connection)
        head = f"INSERT INTO {self.table.name} ({', '.join(self.columns)}) VALUES "
        tail = f" ON CONFLICT ({', '.join(unique)}) DO NOTHING" if unique else ""
        if replace:
            tail = f" ON CONFLICT ({', '.join(unique)}) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in replace)
        if returning is None:
            connection.exec_driver_sql(head + f"({', '.join(marks)})" + tail, rows)
            return []
        found: list = []
        for part in chunked(rows, chunk):  # multi-row VALUES: RETURNING needs one statement, not executemany
            sql = head + ", ".join([f"({', '.join(marks)})"] * len(part)) + tail + f" RETURNING {returning}"
            found += connection.exec_driver_sql(sql, tuple(chain.from_iterable(part))).scalars().all()
        return found

    def update(self, connection: Connection, rows: Iterable[tuple], key: Sequence[str]) -> None:
        """UPDATE by the `key` columns (each row: the encoded values, then the key's values)."""
        marks = self._marks(connection)
        sets = ", ".join(f"{name} = {mark}" for name, mark in zip(self.columns, marks, strict=False))
        where = " AND ".join(f"{name} = {_placeholder(connection)}" for name in key)
        connection.exec_driver_sql(f"UPDATE {self.table.name} SET {sets} WHERE {where}", list(rows))

    def _marks(self, connection: Connection) -> list[str]:
        # SQLite stores the text as SQLAlchemy would; PostgreSQL is told the types, and that the times are UTC
        mark = _placeholder(connection)
        if connection.dialect.name != "postgresql":
            return [mark] * len(self.columns)
        typed: dict[str | None, str] = {"time": f"timezone('UTC', {mark}::timestamp)", "json": f"{mark}::json"}
        return [typed.get(kind, mark) for kind in self.kinds]


def _placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _kind(column_type) -> str | None:
    if isinstance(column_type, TypeDecorator):  # sqlmodel's UTCDateTime: a DateTime(timezone=True) underneath
        column_type = column_type.impl
    if isinstance(column_type, DateTime):
        return "time"
    if isinstance(column_type, JSON):
        return "json"
    return None


def chunked(items: Sequence, size: int = 900) -> Iterable[Sequence]:
    """`items` in slices small enough for one `IN (...)` (SQLite binds at most 999 values in a statement)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
