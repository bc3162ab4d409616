"""Clocks in the store: replaced by what a replay derives, matched by their identity (case, rule, person, number) so a
row keeps its id while it lives; the replay marks of cases whose events are newer than their clocks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select

from qixian.store.rows import Codec, chunked, encode_time, utc
from qixian.store.tables import CaseRow, ClockRow, ReplayMarkRow

# The stored values of a replayed clock, besides its identity (case, rule, person, number) and update time.
CLOCK_VALUES = Codec(
    ClockRow.__table__,
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
_CLOCK_INSERT = Codec(ClockRow.__table__, ("case_id", "rule_id", "person", "number", *CLOCK_VALUES.columns, "unit", "updated_at"))
_CLOCK_UPDATE = Codec(ClockRow.__table__, (*CLOCK_VALUES.columns, "unit", "updated_at"))
Marks = Mapping[str, str]  # {case: token of its replay mark}


class Clocks:
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
        table = ClockRow.__table__
        inserts, updates = [], []
        with self.session() as session:
            connection = session.connection()
            if marks:
                stale = {case for case in rows_by_case if case in marks} - self._clear_marks(connection, marks, rows_by_case)
                rows_by_case = {case: rows for case, rows in rows_by_case.items() if case not in stale}
            existing: dict[tuple, tuple[int, tuple]] = {}
            ids = [case_id for case_id in rows_by_case if case_id not in new_cases]
            for part in chunked(ids):
                for row in connection.execute(select(table).where(table.c.case_id.in_(part))).mappings():
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
                connection.execute(table.delete().where(table.c.id.in_(part)))
            session.commit()
        return len(inserts) + len(updates) + len(deletes)

    @staticmethod
    def _units_of(connection, case_ids: Sequence[str]) -> dict[str, str | None]:
        cases = CaseRow.__table__
        return {
            case: unit
            for chunk in chunked(case_ids)
            for case, unit in connection.execute(select(cases.c.id, cases.c.unit).where(cases.c.id.in_(chunk))).tuples()
        }

    def _clear_marks(self, connection, marks: Marks, case_ids: Iterable[str]) -> set[str]:
        """Delete the marks of these cases that still hold the token in `marks`; returns the cases cleared."""
        table = ReplayMarkRow.__table__
        by_token: dict[str, list[str]] = defaultdict(list)
        for case in case_ids:
            if case in marks:
                by_token[marks[case]].append(case)
        cleared: set[str] = set()
        for token, cases in by_token.items():
            for chunk in chunked(cases):
                cleared.update(
                    connection.execute(table.delete().where(table.c.token == token, table.c.case_id.in_(chunk)).returning(table.c.case_id)).scalars()
                )
        return cleared

    def replay_marks(self, case_ids: Sequence[str] | None = None) -> dict[str, str]:
        """{case: token} of the cases whose clocks are older than their events (all, or of these cases)."""
        table = ReplayMarkRow.__table__
        with self.engine.connect() as connection:
            if case_ids is None:
                return dict(connection.execute(select(table.c.case_id, table.c.token).order_by(table.c.case_id)).tuples().all())
            return {
                case: token
                for chunk in chunked(case_ids)
                for case, token in connection.execute(select(table.c.case_id, table.c.token).where(table.c.case_id.in_(chunk))).tuples()
            }

    def dues_of_cases(self, case_ids: Sequence[str]) -> dict[tuple[str, str, str, int], tuple[datetime | None, str | None]]:
        """{(case, rule, person, number): (due, due as shown)} of the stored clocks of these cases: what a recompute
        compares, read without the rest of each row."""
        table = ClockRow.__table__
        found = {}
        with self.engine.connect() as connection:
            for part in chunked(case_ids):
                found.update(
                    {
                        (r.case_id, r.rule_id, r.person, r.number): (r.due_at, r.due_display)
                        for r in connection.execute(
                            select(table.c.case_id, table.c.rule_id, table.c.person, table.c.number, table.c.due_at, table.c.due_display).where(
                                table.c.case_id.in_(part)
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
        if case is not None:
            query = query.where(ClockRow.case_id == case)
        windowed = due_before is not None or due_after is not None
        if open_only or windowed:
            query = query.where(ClockRow.open.is_(True))
        if due_before is not None:
            query = query.where(ClockRow.due_at < utc(due_before))
        if due_after is not None:
            query = query.where(ClockRow.due_at >= utc(due_after))
        if windowed:
            query = query.where(ClockRow.due_at.is_not(None)).order_by(ClockRow.due_at)
        else:
            query = query.order_by(ClockRow.due_at.is_(None), ClockRow.due_at, ClockRow.case_id, ClockRow.rule_id)
        if limit:
            query = query.limit(limit)
        with self.session() as session:
            return list(session.exec(query).scalars())
