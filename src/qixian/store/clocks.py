"""Clocks in the store: replaced by what a replay derives, matched by their identity (case, rule, person, number) so a
row keeps its id while it lives; the replay marks of cases whose events are newer than their clocks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, Table, select
from sqlmodel import col

from qixian.store.part import StorePart
from qixian.store.rows import Codec, chunked, encode_time, utc
from qixian.store.tables import CaseRow, ClockRow, ReplayMarkRow

_CLOCKS: Table = ClockRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
_CASES: Table = CaseRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
_MARKS: Table = ReplayMarkRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
# The stored values of a replayed clock, besides its identity (case, rule, person, number) and update time.
CLOCK_VALUES = Codec(
    _CLOCKS,
    (
        "rule_version",
        "lead_of",
        "open",
        "outcome",
        "paused",
        "provisional",
        "started_at",
        "due_at",
        "due_display",
        "ended_at",
        "ended_by",
        "explanation",
        "anomalies",
        "next_reminder_at",
        "warning_at",
    ),
)
# Written with them: the case's unit, as the cases table has it when the clocks are written (a case's new unit
# comes with an event, and the case's clocks are replayed and written after it).
_CLOCK_INSERT = Codec(_CLOCKS, ("case_id", "rule_id", "person", "number", *CLOCK_VALUES.columns, "unit", "updated_at"))
_CLOCK_UPDATE = Codec(_CLOCKS, (*CLOCK_VALUES.columns, "unit", "updated_at"))
Marks = Mapping[str, str]  # {case: token of its replay mark}


class Clocks(StorePart):
    """Writing and reading clocks (a part of Store)."""

    def write_clocks(
        self, rows_by_case: dict[str, list[tuple[str, str, int, tuple]]], now: datetime, *, new_cases: Collection[str] = (), marks: Marks | None = None
    ) -> int:
        """Make the stored clocks of these cases equal to the derived rows [(rule, person, number, values encoded
        by CLOCK_VALUES)], matched by identity so a row keeps its id while it lives. `new_cases` had no events
        before, hence no clocks: nothing to read back for them. Returns how many rows changed.

        `marks` are the replay marks the histories were read under ({case: token}). Such a case is written only if
        its mark still holds that token, and the mark goes in the same transaction: if events were recorded for it
        since (a new token), or another replay already cleared the mark, these rows are older than what is or will
        be written, and are dropped. Cases without a mark in `marks` are written as given."""
        stamp = encode_time(now)
        inserts: list[tuple] = []
        updates: list[tuple] = []
        with self.session() as session:
            connection = session.connection()
            if marks:
                stale = {case for case in rows_by_case if case in marks} - self._clear_marks(connection, marks, rows_by_case)
                rows_by_case = {case: rows for case, rows in rows_by_case.items() if case not in stale}
            existing: dict[tuple, tuple[int, tuple]] = {}
            ids = [case_id for case_id in rows_by_case if case_id not in new_cases]
            for part in chunked(ids):
                for row in connection.execute(select(_CLOCKS).where(_CLOCKS.c.case_id.in_(part))).mappings():
                    identity = (row["case_id"], row["rule_id"], row["person"], row["number"])
                    existing[identity] = (row["id"], (*CLOCK_VALUES.encode(row), row["unit"]))
            units = self._units_of(connection, [case_id for case_id, rows in rows_by_case.items() if rows])
            for case_id, rows in rows_by_case.items():
                unit = units.get(case_id)
                for rule_id, person, number, values in rows:
                    old = existing.pop((case_id, rule_id, person, number), None)
                    if old is None:
                        inserts.append((case_id, rule_id, person, number, *values, unit, stamp))
                    elif old[1] != (*values, unit):
                        updates.append((*values, unit, stamp, old[0]))
            deletes = [row_id for row_id, _ in existing.values()]  # clocks the events no longer give
            if inserts:
                _CLOCK_INSERT.insert(connection, inserts)
            if updates:
                _CLOCK_UPDATE.update(connection, updates, key=("id",))
            for part in chunked(deletes):
                connection.execute(_CLOCKS.delete().where(_CLOCKS.c.id.in_(part)))
            session.commit()
        return len(inserts) + len(updates) + len(deletes)

    @staticmethod
    def _units_of(connection: Connection, case_ids: Sequence[str]) -> dict[str, str | None]:
        return {
            case: unit
            for chunk in chunked(case_ids)
            for case, unit in connection.execute(select(_CASES.c.id, _CASES.c.unit).where(_CASES.c.id.in_(chunk))).tuples()
        }

    def _clear_marks(self, connection: Connection, marks: Marks, case_ids: Iterable[str]) -> set[str]:
        """Delete the marks of these cases that still hold the token in `marks`; returns the cases cleared."""
        by_token: dict[str, list[str]] = defaultdict(list)
        for case in case_ids:
            if case in marks:
                by_token[marks[case]].append(case)
        cleared: set[str] = set()
        for token, cases in by_token.items():
            for chunk in chunked(cases):
                cleared.update(
                    connection.execute(_MARKS.delete().where(_MARKS.c.token == token, _MARKS.c.case_id.in_(chunk)).returning(_MARKS.c.case_id)).scalars()
                )
        return cleared

    def replay_marks(self, case_ids: Sequence[str] | None = None) -> dict[str, str]:
        """{case: token} of the cases whose clocks are older than their events (all, or of these cases)."""
        with self.engine.connect() as connection:
            if case_ids is None:
                return dict(connection.execute(select(_MARKS.c.case_id, _MARKS.c.token).order_by(_MARKS.c.case_id)).tuples().all())
            return {
                case: token
                for chunk in chunked(case_ids)
                for case, token in connection.execute(select(_MARKS.c.case_id, _MARKS.c.token).where(_MARKS.c.case_id.in_(chunk))).tuples()
            }

    def dues_of_cases(self, case_ids: Sequence[str]) -> dict[tuple[str, str, str, int], tuple[datetime | None, str | None]]:
        """{(case, rule, person, number): (due, due as shown)} of the stored clocks of these cases: what a recompute
        compares, read without the rest of each row."""
        found: dict[tuple[str, str, str, int], tuple[datetime | None, str | None]] = {}
        with self.engine.connect() as connection:
            for part in chunked(case_ids):
                found.update(
                    {
                        (r.case_id, r.rule_id, r.person, r.number): (r.due_at, r.due_display)
                        for r in connection.execute(
                            select(_CLOCKS.c.case_id, _CLOCKS.c.rule_id, _CLOCKS.c.person, _CLOCKS.c.number, _CLOCKS.c.due_at, _CLOCKS.c.due_display).where(
                                _CLOCKS.c.case_id.in_(part)
                            )
                        )
                    }
                )
        return found

    def clocks(
        self,
        *,
        case: str | None = None,
        open_only: bool = False,
        due_before: datetime | None = None,
        due_after: datetime | None = None,
        limit: int | None = None,
    ) -> list[ClockRow]:
        """Clock rows; with a due window only open clocks, read through the (open, due_at) index."""
        query = select(ClockRow)
        due = col(ClockRow.due_at)
        if case is not None:
            query = query.where(col(ClockRow.case_id) == case)
        windowed = due_before is not None or due_after is not None
        if open_only or windowed:
            query = query.where(col(ClockRow.open).is_(True))
        if due_before is not None:
            query = query.where(due < utc(due_before))
        if due_after is not None:
            query = query.where(due >= utc(due_after))
        query = query.where(due.is_not(None)).order_by(due) if windowed else query.order_by(due.is_(None), due, col(ClockRow.case_id), col(ClockRow.rule_id))
        if limit:
            query = query.limit(limit)
        with self.session() as session:
            return list(session.execute(query).scalars())
