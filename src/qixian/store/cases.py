"""Cases in the store: events appended once per (source, id), case and person facts merged from them, read back for
replay; the quarantine of events that could not be used; each feed's watermark."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Table, select
from sqlmodel import Session, col

from qixian.engine.caseinfo import CASE_COLUMNS, Incoming, Rejected, case_facts, co_handlers_of, columns_of, facts_of, folded, persons_of
from qixian.engine.clocks import Event
from qixian.legaltime.localtime import SHANGHAI
from qixian.store.database import dump_json
from qixian.store.part import StorePart
from qixian.store.rows import Codec, chunked, encode_time, utc
from qixian.store.tables import CaseRow, CoHandlerRow, EventRow, PersonRow, QuarantineRow, ReplayMarkRow, WatermarkRow

_EVENTS: Table = EventRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
_CASES: Table = CaseRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
_PERSONS: Table = PersonRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
_CO_HANDLERS: Table = CoHandlerRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
_MARKS: Table = ReplayMarkRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
EVENT_ROWS = Codec(_EVENTS, ("source", "source_id", "case_id", "type", "at", "person", "data", "received_at"))
_CASE_VALUES = (*CASE_COLUMNS, "co_handlers", "facts", "updated_at")
_CASE_INSERT = Codec(_CASES, ("id", *_CASE_VALUES))
_CASE_UPDATE = Codec(_CASES, _CASE_VALUES)
_PERSON_INSERT = Codec(_PERSONS, ("case_id", "person", "facts"))
_PERSON_UPDATE = Codec(_PERSONS, ("facts",))
_CO_HANDLER_ROWS = Codec(_CO_HANDLERS, ("case_id", "officer"))
_MARK_ROWS = Codec(_MARKS, ("case_id", "token", "marked_at"))


@dataclass
class Recorded:
    accepted: int = 0
    duplicate: int = 0
    quarantined: int = 0
    cases: set[str] = field(default_factory=set)  # cases with new events: their clocks must be replayed
    new_cases: set[str] = field(default_factory=set)  # of those, cases with no events before this batch
    token: str = ""  # the replay mark this recording left on `cases`


class Cases(StorePart):
    """Events in and cases back out (a part of Store)."""

    def record(self, accepted: list[Incoming], rejected: list[Rejected], source: str, now: datetime) -> Recorded:
        """Append new events (duplicates of (source, id) change nothing; a duplicate id with other content is
        quarantined), quarantine rejected lines, merge case information, and mark the cases with new events for
        replay (`Recorded.token`; `write_clocks` clears a mark with the clocks). One transaction."""
        result = Recorded(token=uuid.uuid4().hex)
        received = utc(now)
        with self.session() as session:
            seen_before = self._cases_with_events(session, {e.case for e in accepted})
            stamp = encode_time(received)
            rows = [
                (source, e.id, e.case, e.type, encode_time(e.at), e.person, dump_json(dict(e.data)) if e.data else "{}", stamp) for e in accepted
            ]  # most events have no data
            fresh = self._insert_new_events(session, rows)
            taken: dict[str, Incoming] = {}  # the occurrence of each new id that was inserted (the first)
            repeats: list[Incoming] = []
            for e in accepted:
                if e.id in fresh and e.id not in taken:
                    taken[e.id] = e
                    result.accepted += 1
                    result.cases.add(e.case)
                else:
                    repeats.append(e)
            conflicts = self._conflicting(session, source, repeats)
            for number, e in enumerate(repeats):
                if number in conflicts:
                    rejected.append(Rejected(e.origin, e.line, e.raw, conflicts[number], e.id))
                else:
                    result.duplicate += 1
            held: set[tuple[str, str]] = set()  # the same bad line read again is already in quarantine: keep one row for it
            if rejected:
                held = set(
                    session.execute(
                        select(col(QuarantineRow.raw), col(QuarantineRow.reason)).where(
                            col(QuarantineRow.resolved_at).is_(None), col(QuarantineRow.raw).in_({r.raw for r in rejected})
                        )
                    ).tuples()
                )
            for r in rejected:
                if (r.raw, r.reason) not in held:
                    held.add((r.raw, r.reason))
                    session.add(QuarantineRow(source=r.origin, line=r.line, source_id=r.id, raw=r.raw, reason=r.reason, received_at=received))
            result.quarantined = len(rejected)
            result.new_cases = result.cases - seen_before
            self._merge_case_info(session, [e for e in taken.values() if e.case_info], received, result.new_cases)
            if result.cases:
                _MARK_ROWS.insert(
                    session.connection(), [(case, result.token, stamp) for case in sorted(result.cases)], unique=("case_id",), replace=("token", "marked_at")
                )
            session.commit()
        return result

    def _cases_with_events(self, session: Session, case_ids: set[str]) -> set[str]:
        found: set[str] = set()
        for part in chunked(list(case_ids)):
            found.update(session.execute(select(col(EventRow.case_id)).where(col(EventRow.case_id).in_(part)).distinct()).scalars())
        return found

    def _insert_new_events(self, session: Session, rows: list[tuple]) -> set[str]:
        """Insert encoded event rows whose (source, source_id) is new; returns the ids inserted."""
        first: dict[str, tuple] = {}  # each source_id's first row
        for r in rows:
            first.setdefault(r[1], r)
        return set(EVENT_ROWS.insert(session.connection(), first.values(), unique=("source", "source_id"), returning="source_id"))

    def _conflicting(self, session: Session, source: str, repeats: list[Incoming]) -> dict[int, str]:
        """{position in `repeats`: reason} for the repeats whose content differs from what was recorded first."""
        if not repeats:
            return {}
        stored = {
            row.source_id: row
            for row in session.execute(select(EventRow).where(col(EventRow.source) == source, col(EventRow.source_id).in_({e.id for e in repeats}))).scalars()
        }
        first_in_batch: dict[str, Incoming] = {}
        found: dict[int, str] = {}
        for number, e in enumerate(repeats):
            old = stored.get(e.id)
            if old is None:  # repeated inside this batch: compare with its first occurrence
                first = first_in_batch.setdefault(e.id, e)
                same = first is e or (first.case, first.type, first.at, first.person, dict(first.data)) == (e.case, e.type, e.at, e.person, dict(e.data))
            else:
                same = (old.case_id, old.type, old.at, old.person, old.data) == (e.case, e.type, utc(e.at), e.person, dict(e.data))
            if not same:
                found[number] = f"事件编号 {e.id} 已记录过，但内容不同（原记录为准，本行未采用）：请核对办案系统是否改写了事件"
        return found

    def _merge_case_info(self, session: Session, events: list[Incoming], now: datetime, new_cases: set[str]) -> None:
        """Fold each case's newest case_info into its row (and persons' facts into theirs), with bulk statements.
        Case and person rows are written only here, with the case's events: `new_cases` (no events before) have none."""
        info_by_case = folded(events)
        if not info_by_case:
            return
        connection = session.connection()
        ids = [case_id for case_id in info_by_case if case_id not in new_cases]
        stored: dict[str, RowMapping] = {
            r["id"]: r for part in chunked(ids) for r in connection.execute(select(_CASES).where(_CASES.c.id.in_(part))).mappings()
        }
        known_persons: dict[tuple[str, str], dict[str, Any]] = {
            (r["case_id"], r["person"]): r["facts"]
            for part in chunked(ids)
            for r in connection.execute(select(_PERSONS).where(_PERSONS.c.case_id.in_(part))).mappings()
        }
        case_inserts: list[dict[str, Any]] = []
        case_updates: list[dict[str, Any]] = []
        person_inserts: list[dict[str, Any]] = []
        person_updates: list[dict[str, Any]] = []
        co_handled: dict[str, list[str]] = {}
        for case_id, info in info_by_case.items():
            old = stored.get(case_id)
            row: dict[str, Any] = {
                "id": case_id,
                **{c: (old[c] if old else None) for c in CASE_COLUMNS},
                "co_handlers": old["co_handlers"] if old else [],
                "facts": dict(old["facts"]) if old else {},
            }
            row.update(columns_of(info))
            if "co_handlers" in info:
                row["co_handlers"] = co_handlers_of(info)
                if row["co_handlers"] != (old["co_handlers"] if old else []):
                    co_handled[case_id] = row["co_handlers"]
            row["facts"].update(facts_of(info))
            row["updated_at"] = now
            (case_updates if old else case_inserts).append(row)
            for person, facts in persons_of(info).items():
                key = (case_id, person)
                merged = {**known_persons.get(key, {}), **facts}
                (person_updates if key in known_persons else person_inserts).append({"case_id": case_id, "person": person, "facts": merged})
                known_persons[key] = merged
        if case_inserts:
            _CASE_INSERT.insert(connection, [_CASE_INSERT.encode(row) for row in case_inserts])
        if case_updates:
            _CASE_UPDATE.update(connection, [(*_CASE_UPDATE.encode(row), row["id"]) for row in case_updates], key=("id",))
        if co_handled:  # case_co_handlers follows the cases' lists
            for chunk in chunked([case_id for case_id in co_handled if case_id not in new_cases]):
                connection.execute(_CO_HANDLERS.delete().where(_CO_HANDLERS.c.case_id.in_(chunk)))
            _CO_HANDLER_ROWS.insert(connection, [(case_id, officer) for case_id, officers in co_handled.items() for officer in dict.fromkeys(officers)])
        if person_inserts:
            _PERSON_INSERT.insert(connection, [_PERSON_INSERT.encode(row) for row in person_inserts])
        if person_updates:
            _PERSON_UPDATE.update(
                connection, [(*_PERSON_UPDATE.encode(row), row["case_id"], row["person"]) for row in person_updates], key=("case_id", "person")
            )

    def case_events(self, case_ids: Iterable[str]) -> dict[str, list[Event]]:
        ids = list(case_ids)
        found: dict[str, list[Event]] = defaultdict(list)
        with self.session() as session:
            for part in chunked(ids):
                rows = session.execute(
                    select(col(EventRow.case_id), col(EventRow.type), col(EventRow.at), col(EventRow.person), col(EventRow.data), col(EventRow.source_id))
                    .where(col(EventRow.case_id).in_(part))
                    .order_by(col(EventRow.at), col(EventRow.seq))
                )
                for case_id, kind, at, person, data, ident in rows:
                    found[case_id].append(Event(kind, at.astimezone(SHANGHAI), person, data or {}, ident))
        return found

    def case_facts(self, case_ids: Iterable[str]) -> tuple[dict[str, dict], dict[str, dict[str, dict]]]:
        """({case: facts}, {case: {person: facts}}) for replay's `applies` conditions."""
        ids = list(case_ids)
        facts: dict[str, dict] = {}
        persons: dict[str, dict[str, dict]] = defaultdict(dict)
        with self.session() as session:
            for chunk in chunked(ids):
                for row in session.execute(select(CaseRow).where(col(CaseRow.id).in_(chunk))).scalars():
                    facts[row.id] = case_facts(row.facts, {c: getattr(row, c) for c in CASE_COLUMNS})
                for person_row in session.execute(select(PersonRow).where(col(PersonRow.case_id).in_(chunk))).scalars():
                    persons[person_row.case_id][person_row.person] = person_row.facts
        return facts, persons

    def case_ids(self) -> list[str]:
        with self.session() as session:
            return list(session.execute(select(col(EventRow.case_id)).distinct()).scalars())

    def case(self, case_id: str) -> CaseRow | None:
        with self.session() as session:
            return session.get(CaseRow, case_id)

    def events_of(self, case_id: str) -> list[EventRow]:
        with self.session() as session:
            return list(session.execute(select(EventRow).where(col(EventRow.case_id) == case_id).order_by(col(EventRow.at), col(EventRow.seq))).scalars())

    def quarantined(self, include_resolved: bool = False) -> list[QuarantineRow]:
        query = select(QuarantineRow).order_by(col(QuarantineRow.id))
        if not include_resolved:
            query = query.where(col(QuarantineRow.resolved_at).is_(None))
        with self.session() as session:
            return list(session.execute(query).scalars())

    def resolve_quarantined(self, ids: Iterable[int], now: datetime) -> None:
        with self.session() as session:
            for row in session.execute(select(QuarantineRow).where(col(QuarantineRow.id).in_(list(ids)))).scalars():
                row.resolved_at = utc(now)
                session.add(row)
            session.commit()

    def watermark(self, source: str) -> str | None:
        with self.session() as session:
            row = session.get(WatermarkRow, source)
            return row.value if row else None

    def set_watermark(self, source: str, value: str, now: datetime) -> None:
        with self.session() as session:
            row = session.get(WatermarkRow, source) or WatermarkRow(source=source, value=value, updated_at=utc(now))
            row.value, row.updated_at = value, utc(now)
            session.add(row)
            session.commit()
