"""Reading and writing the case store. Events are appended once per (source, id); clocks are replaced by what a
replay derives, matched by their identity (case, rule, person, number) so a row keeps its id while it lives."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import Engine, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from qixian.clocks import Event
from qixian.ingest import Incoming, Rejected
from qixian.localtime import SHANGHAI
from qixian.store.database import connect, database_url, is_current
from qixian.store.tables import CaseRow, ClockRow, EventRow, OfficerRow, PersonRow, QuarantineRow, UnitRow, WatermarkRow

CASE_COLUMNS = ("kind", "title", "unit", "handler")


class StoreError(RuntimeError):
    """The store cannot be used as asked (e.g. its schema is missing); the message says what to run."""


@dataclass
class Recorded:
    accepted: int = 0
    duplicate: int = 0
    quarantined: int = 0
    cases: set[str] = field(default_factory=set)  # cases with new events: their clocks must be replayed
    new_cases: set[str] = field(default_factory=set)  # of those, cases with no events before this batch


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """The store at `url` (--db / $QIXIAN_DB / ./.qixian/qixian.db). Raises StoreError if not migrated."""
        url = database_url(url)
        engine = connect(url)
        if not is_current(engine):
            raise StoreError(f"数据库 {engine.url.render_as_string(hide_password=True)} 尚未建表：请先运行 qixian db upgrade")
        return cls(engine)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # -- events in ------------------------------------------------------------------------------

    def record(self, accepted: list[Incoming], rejected: list[Rejected], source: str, now: datetime) -> Recorded:
        """Append new events (duplicates of (source, id) change nothing; a duplicate id with other content is
        quarantined), quarantine rejected lines, and merge case information. One transaction."""
        result = Recorded()
        received = utc(now)
        with self.session() as session:
            seen_before = self._cases_with_events(session, {e.case for e in accepted})
            rows = [{"source": source, "source_id": e.id, "case_id": e.case, "type": e.type, "at": utc(e.at),
                     "person": e.person, "data": dict(e.data), "received_at": received} for e in accepted]
            fresh = self._insert_new_events(session, rows)
            taken: dict[str, Incoming] = {}  # the occurrence of each new id that was inserted (the first)
            repeats = []
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
            held = set()  # the same bad line read again is already in quarantine: keep one row for it
            if rejected:
                held = set(session.execute(select(QuarantineRow.raw, QuarantineRow.reason).where(
                    QuarantineRow.resolved_at.is_(None), QuarantineRow.raw.in_({r.raw for r in rejected}))).tuples())
            for r in rejected:
                if (r.raw, r.reason) not in held:
                    held.add((r.raw, r.reason))
                    session.add(QuarantineRow(source=r.origin, line=r.line, source_id=r.id, raw=r.raw, reason=r.reason,
                                              received_at=received))
            result.quarantined = len(rejected)
            result.new_cases = result.cases - seen_before
            self._merge_case_info(session, [e for e in taken.values() if e.case_info], received)
            session.commit()
        return result

    def _cases_with_events(self, session: Session, case_ids: set[str]) -> set[str]:
        ids, found = list(case_ids), set()
        for start in range(0, len(ids), 900):
            found.update(session.execute(select(EventRow.case_id).where(EventRow.case_id.in_(ids[start:start + 900]))
                                         .distinct()).scalars())
        return found

    def _insert_new_events(self, session: Session, rows: list[dict]) -> set[str]:
        """Insert rows whose (source, source_id) is new; returns the ids inserted."""
        fresh: set[str] = set()
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        seen: set[str] = set()
        unique = [r for r in rows if not (r["source_id"] in seen or seen.add(r["source_id"]))]
        table = EventRow.__table__
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=["source", "source_id"])
        connection = session.connection()
        for start in range(0, len(unique), 1000):
            chunk = unique[start:start + 1000]
            fresh.update(connection.execute(statement.returning(table.c.source_id), chunk).scalars())
        return fresh

    def _conflicting(self, session: Session, source: str, repeats: list[Incoming]) -> dict[int, str]:
        """{position in `repeats`: reason} for the repeats whose content differs from what was recorded first."""
        if not repeats:
            return {}
        stored = {row.source_id: row for row in session.exec(
            select(EventRow).where(EventRow.source == source, EventRow.source_id.in_({e.id for e in repeats}))).scalars()}
        first_in_batch: dict[str, Incoming] = {}
        found = {}
        for number, e in enumerate(repeats):
            old = stored.get(e.id)
            if old is None:  # repeated inside this batch: compare with its first occurrence
                first = first_in_batch.setdefault(e.id, e)
                same = first is e or (first.case, first.type, first.at, first.person, dict(first.data)) == \
                    (e.case, e.type, e.at, e.person, dict(e.data))
            else:
                same = (old.case_id, old.type, old.at, old.person, old.data) == (e.case, e.type, utc(e.at), e.person, dict(e.data))
            if not same:
                found[number] = f"事件编号 {e.id} 已记录过，但内容不同（原记录为准，本行未采用）：请核对办案系统是否改写了事件"
        return found

    def _merge_case_info(self, session: Session, events: list[Incoming], now: datetime) -> None:
        """Fold each case's newest case_info into its row (and persons' facts into theirs), with bulk statements."""
        info_by_case: dict[str, dict] = defaultdict(dict)
        for e in sorted(events, key=lambda e: e.at):
            info_by_case[e.case].update(e.case_info)
        if not info_by_case:
            return
        connection = session.connection()
        cases, persons = CaseRow.__table__, PersonRow.__table__
        ids = list(info_by_case)
        stored = {r["id"]: r for start in range(0, len(ids), 900) for r in connection.execute(
            select(cases).where(cases.c.id.in_(ids[start:start + 900]))).mappings()}
        known_persons = {(r["case_id"], r["person"]): r["facts"] for start in range(0, len(ids), 900) for r in connection.execute(
            select(persons).where(persons.c.case_id.in_(ids[start:start + 900]))).mappings()}
        new_cases, changed_cases, new_persons, changed_persons = [], [], [], []
        for case_id, info in info_by_case.items():
            old = stored.get(case_id)
            row = {"id": case_id, **{c: (old[c] if old else None) for c in CASE_COLUMNS},
                   "co_handlers": old["co_handlers"] if old else [], "facts": dict(old["facts"]) if old else {}}
            for column in CASE_COLUMNS:
                if column in info:
                    row[column] = None if info[column] is None else str(info[column])
            if "co_handlers" in info:
                row["co_handlers"] = [str(h) for h in info["co_handlers"] or []]
            row["facts"].update({k: v for k, v in info.items() if k not in ("persons", "co_handlers")})
            row["updated_at"] = now
            (changed_cases if old else new_cases).append(row)
            for person, facts in (info.get("persons") or {}).items():
                key = (case_id, str(person))
                merged = {**known_persons.get(key, {}), **(facts or {})}
                (changed_persons if key in known_persons else new_persons).append(
                    {"case_id": case_id, "person": str(person), "facts": merged})
                known_persons[key] = merged
        if new_cases:
            connection.execute(cases.insert(), new_cases)
        if changed_cases:
            connection.execute(cases.update().where(cases.c.id == bindparam("case_key")),
                               [{**r, "case_key": r.pop("id")} for r in changed_cases])
        if new_persons:
            connection.execute(persons.insert(), new_persons)
        for row in changed_persons:
            connection.execute(persons.update().where(persons.c.case_id == row["case_id"], persons.c.person == row["person"])
                               .values(facts=row["facts"]))

    # -- reading cases back ---------------------------------------------------------------------

    def case_events(self, case_ids: Iterable[str]) -> dict[str, list[Event]]:
        ids = list(case_ids)
        found: dict[str, list[Event]] = defaultdict(list)
        with self.session() as session:
            for start in range(0, len(ids), 900):
                rows = session.execute(select(EventRow.case_id, EventRow.type, EventRow.at, EventRow.person,
                                              EventRow.data, EventRow.source_id)
                                       .where(EventRow.case_id.in_(ids[start:start + 900])).order_by(EventRow.at, EventRow.seq))
                for case_id, kind, at, person, data, ident in rows:
                    found[case_id].append(Event(kind, at.astimezone(SHANGHAI), person, data or {}, ident))
        return found

    def case_facts(self, case_ids: Iterable[str]) -> tuple[dict[str, dict], dict[str, dict[str, dict]]]:
        """({case: facts}, {case: {person: facts}}) for replay's `applies` conditions."""
        ids = list(case_ids)
        facts: dict[str, dict] = {}
        persons: dict[str, dict[str, dict]] = defaultdict(dict)
        with self.session() as session:
            for start in range(0, len(ids), 900):
                chunk = ids[start:start + 900]
                for row in session.exec(select(CaseRow).where(CaseRow.id.in_(chunk))).scalars():
                    facts[row.id] = {**row.facts, **{c: getattr(row, c) for c in CASE_COLUMNS if getattr(row, c) is not None}}
                for row in session.exec(select(PersonRow).where(PersonRow.case_id.in_(chunk))).scalars():
                    persons[row.case_id][row.person] = row.facts
        return facts, persons

    def case_ids(self) -> list[str]:
        with self.session() as session:
            return list(session.execute(select(EventRow.case_id).distinct()).scalars())

    # -- clocks ---------------------------------------------------------------------------------

    def write_clocks(self, rows_by_case: dict[str, list[tuple[str, str, int, dict]]], now: datetime) -> int:
        """Make the stored clocks of these cases equal to the derived rows [(rule, person, number, values)],
        matched by identity so a row keeps its id while it lives. Returns how many rows changed."""
        stamp = utc(now)
        table = ClockRow.__table__
        inserts, updates = [], []
        with self.session() as session:
            connection = session.connection()
            existing: dict[tuple, dict] = {}
            ids = list(rows_by_case)
            for start in range(0, len(ids), 900):
                for row in connection.execute(select(table).where(table.c.case_id.in_(ids[start:start + 900]))).mappings():
                    existing[(row["case_id"], row["rule_id"], row["person"], row["number"])] = row
            for case_id, rows in rows_by_case.items():
                for rule_id, person, number, values in rows:
                    row = existing.pop((case_id, rule_id, person, number), None)
                    if row is None:
                        inserts.append({"case_id": case_id, "rule_id": rule_id, "person": person, "number": number,
                                        "updated_at": stamp, **values})
                    elif any(row[k] != v for k, v in values.items()):
                        updates.append({"row_id": row["id"], "updated_at": stamp, **values})
            deletes = [row["id"] for row in existing.values()]  # clocks the events no longer give
            if inserts:
                connection.execute(table.insert(), inserts)
            if updates:
                connection.execute(table.update().where(table.c.id == bindparam("row_id")), updates)
            for start in range(0, len(deletes), 900):
                connection.execute(table.delete().where(table.c.id.in_(deletes[start:start + 900])))
            session.commit()
        return len(inserts) + len(updates) + len(deletes)

    def clocks_of_cases(self, case_ids: list[str]) -> list[ClockRow]:
        rows: list[ClockRow] = []
        with self.session() as session:
            for start in range(0, len(case_ids), 900):
                rows += session.exec(select(ClockRow).where(ClockRow.case_id.in_(case_ids[start:start + 900]))).scalars()
        return rows

    def clocks(self, *, case: str | None = None, open_only: bool = False, due_before: datetime | None = None,
               due_after: datetime | None = None, limit: int | None = None) -> list[ClockRow]:
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

    def case(self, case_id: str) -> CaseRow | None:
        with self.session() as session:
            return session.get(CaseRow, case_id)

    def events_of(self, case_id: str) -> list[EventRow]:
        with self.session() as session:
            return list(session.exec(select(EventRow).where(EventRow.case_id == case_id).order_by(EventRow.at, EventRow.seq)).scalars())

    # -- quarantine -----------------------------------------------------------------------------

    def quarantined(self, include_resolved: bool = False) -> list[QuarantineRow]:
        query = select(QuarantineRow).order_by(QuarantineRow.id)
        if not include_resolved:
            query = query.where(QuarantineRow.resolved_at.is_(None))
        with self.session() as session:
            return list(session.exec(query).scalars())

    def resolve_quarantined(self, ids: Iterable[int], now: datetime) -> None:
        with self.session() as session:
            for row in session.exec(select(QuarantineRow).where(QuarantineRow.id.in_(list(ids)))).scalars():
                row.resolved_at = utc(now)
                session.add(row)
            session.commit()

    # -- directory ------------------------------------------------------------------------------

    def replace_directory(self, directory) -> None:
        """The directory becomes exactly this one (units and officers not in it are removed)."""
        with self.session() as session:
            session.execute(delete(OfficerRow))
            session.execute(delete(UnitRow))
            for unit in directory.units.values():
                session.add(UnitRow(id=unit.id, name=unit.name, leader=unit.leader, legal_officer=unit.legal_officer,
                                    duty_phone=unit.duty_phone, extra=unit.extra))
            for officer in directory.officers.values():
                session.add(OfficerRow(id=officer.id, name=officer.name, unit=officer.unit, phone=officer.phone,
                                       urls=list(officer.urls), roles=list(officer.roles), extra=officer.extra))
            session.commit()

    def directory(self):
        from qixian.directory import Directory, Officer, Unit

        with self.session() as session:
            units = {u.id: Unit(u.id, u.name, u.leader, u.legal_officer, u.duty_phone, u.extra)
                     for u in session.exec(select(UnitRow)).scalars()}
            officers = {o.id: Officer(o.id, o.name, o.unit, o.phone, tuple(o.urls), tuple(o.roles), o.extra)
                        for o in session.exec(select(OfficerRow)).scalars()}
        return Directory(units, officers)

    # -- watermarks -----------------------------------------------------------------------------

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

    def count(self, table) -> int:
        with self.session() as session:
            return session.execute(select(func.count()).select_from(table)).scalar_one()
