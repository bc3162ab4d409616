"""Reading and writing the case store. Events are appended once per (source, id); clocks are replaced by what a
replay derives, matched by their identity (case, rule, person, number) so a row keeps its id while it lives."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Collection, Iterable, Mapping, Sequence

from sqlalchemy import Engine, delete, func, select
from sqlmodel import Session

from qixian.casework.feedlines import Incoming, Rejected
from qixian.engine.clocks import Event
from qixian.legaltime.localtime import SHANGHAI
from qixian.store.database import (UnusableDatabase, database_url, dump_json, engine_for, is_current, shown,
                                   sqlite_file)
from qixian.store.rows import Codec, encode_time
from qixian.store.tables import (AcknowledgementRow, CaseRow, ClockRow, EventRow, OfficerRow, OutboxRow, PersonRow,
                                 QuarantineRow, ReplayMarkRow, SignInRow, UnitRow, WatermarkRow, WebSessionRow,
                                 WebUserRow)

CASE_COLUMNS = ("kind", "title", "unit", "handler")
ACK_CHANNELS = ("dashboard", "link", "cli")  # where an acknowledgement came from
# A link in a chat message is opened by whoever is in the chat, so it acknowledges only reminders whose
# acknowledgement is a record: an overdue one stops the escalation to leaders and is acknowledged signed in.
LINK_LEVELS = ("notice", "warning")

EVENT_ROWS = Codec(EventRow.__table__, ("source", "source_id", "case_id", "type", "at", "person", "data", "received_at"))
# The stored values of a replayed clock, besides its identity (case, rule, person, number) and update time.
CLOCK_VALUES = Codec(ClockRow.__table__, (
    "rule_version", "lead_of", "open", "outcome", "paused", "provisional", "started_at", "due_at", "due_display",
    "ended_at", "ended_by", "explanation", "anomalies", "next_reminder_at"))
_CLOCK_INSERT = Codec(ClockRow.__table__, ("case_id", "rule_id", "person", "number", *CLOCK_VALUES.columns, "updated_at"))
_CLOCK_UPDATE = Codec(ClockRow.__table__, (*CLOCK_VALUES.columns, "updated_at"))
_CASE_VALUES = (*CASE_COLUMNS, "co_handlers", "facts", "updated_at")
_CASE_INSERT = Codec(CaseRow.__table__, ("id", *_CASE_VALUES))
_CASE_UPDATE = Codec(CaseRow.__table__, _CASE_VALUES)
_PERSON_INSERT = Codec(PersonRow.__table__, ("case_id", "person", "facts"))
_PERSON_UPDATE = Codec(PersonRow.__table__, ("facts",))
_MARK_ROWS = Codec(ReplayMarkRow.__table__, ("case_id", "token", "marked_at"))
_ACK_ROWS = Codec(AcknowledgementRow.__table__, ("outbox_id", "clock_id", "due_at", "step", "level", "officer", "at", "channel"))


class StoreError(RuntimeError):
    """The store cannot be used as asked (e.g. its schema is missing); the message says what to run."""


class AcknowledgeError(ValueError):
    """An acknowledgement that cannot be recorded (no such reminder, not the officer's, the officer no longer on the
    case, an overdue reminder by link); the message says why."""


@dataclass
class Recorded:
    accepted: int = 0
    duplicate: int = 0
    quarantined: int = 0
    cases: set[str] = field(default_factory=set)  # cases with new events: their clocks must be replayed
    new_cases: set[str] = field(default_factory=set)  # of those, cases with no events before this batch
    token: str = ""  # the replay mark this recording left on `cases`


Marks = Mapping[str, str]  # {case: token of its replay mark}


def chunked(items: Sequence, size: int = 900) -> Iterable[Sequence]:
    """`items` in slices small enough for one `IN (...)` (SQLite binds at most 999 values in a statement)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


class Store:
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

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # -- events in ------------------------------------------------------------------------------

    def record(self, accepted: list[Incoming], rejected: list[Rejected], source: str, now: datetime) -> Recorded:
        """Append new events (duplicates of (source, id) change nothing; a duplicate id with other content is
        quarantined), quarantine rejected lines, merge case information, and mark the cases with new events for
        replay (`Recorded.token`; `write_clocks` clears a mark with the clocks). One transaction."""
        result = Recorded(token=uuid.uuid4().hex)
        received = utc(now)
        with self.session() as session:
            seen_before = self._cases_with_events(session, {e.case for e in accepted})
            stamp = encode_time(received)
            rows = [(source, e.id, e.case, e.type, encode_time(e.at), e.person, dump_json(dict(e.data)) if e.data else "{}",
                     stamp) for e in accepted]  # most events have no data
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
            self._merge_case_info(session, [e for e in taken.values() if e.case_info], received, result.new_cases)
            if result.cases:
                _MARK_ROWS.insert(session.connection(), [(case, result.token, stamp) for case in sorted(result.cases)],
                                  unique=("case_id",), replace=("token", "marked_at"))
            session.commit()
        return result

    def _cases_with_events(self, session: Session, case_ids: set[str]) -> set[str]:
        ids, found = list(case_ids), set()
        for start in range(0, len(ids), 900):
            found.update(session.execute(select(EventRow.case_id).where(EventRow.case_id.in_(ids[start:start + 900]))
                                         .distinct()).scalars())
        return found

    def _insert_new_events(self, session: Session, rows: list[tuple]) -> set[str]:
        """Insert encoded event rows whose (source, source_id) is new; returns the ids inserted."""
        seen: set[str] = set()
        unique = [r for r in rows if not (r[1] in seen or seen.add(r[1]))]
        return set(EVENT_ROWS.insert(session.connection(), unique, unique=("source", "source_id"), returning="source_id"))

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

    def _merge_case_info(self, session: Session, events: list[Incoming], now: datetime, new_cases: set[str]) -> None:
        """Fold each case's newest case_info into its row (and persons' facts into theirs), with bulk statements.
        Case and person rows are written only here, with the case's events: `new_cases` (no events before) have none."""
        info_by_case: dict[str, dict] = defaultdict(dict)
        for e in sorted(events, key=lambda e: e.at):
            info_by_case[e.case].update(e.case_info)
        if not info_by_case:
            return
        connection = session.connection()
        cases, persons = CaseRow.__table__, PersonRow.__table__
        ids = [case_id for case_id in info_by_case if case_id not in new_cases]
        stored = {r["id"]: r for start in range(0, len(ids), 900) for r in connection.execute(
            select(cases).where(cases.c.id.in_(ids[start:start + 900]))).mappings()}
        known_persons = {(r["case_id"], r["person"]): r["facts"] for start in range(0, len(ids), 900) for r in connection.execute(
            select(persons).where(persons.c.case_id.in_(ids[start:start + 900]))).mappings()}
        case_inserts, case_updates, person_inserts, person_updates = [], [], [], []
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
            (case_updates if old else case_inserts).append(row)
            for person, facts in (info.get("persons") or {}).items():
                key = (case_id, str(person))
                merged = {**known_persons.get(key, {}), **(facts or {})}
                (person_updates if key in known_persons else person_inserts).append(
                    {"case_id": case_id, "person": str(person), "facts": merged})
                known_persons[key] = merged
        if case_inserts:
            _CASE_INSERT.insert(connection, [_CASE_INSERT.encode(row) for row in case_inserts])
        if case_updates:
            _CASE_UPDATE.update(connection, [(*_CASE_UPDATE.encode(row), row["id"]) for row in case_updates], key=("id",))
        if person_inserts:
            _PERSON_INSERT.insert(connection, [_PERSON_INSERT.encode(row) for row in person_inserts])
        if person_updates:
            _PERSON_UPDATE.update(connection, [(*_PERSON_UPDATE.encode(row), row["case_id"], row["person"])
                                               for row in person_updates], key=("case_id", "person"))

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

    def write_clocks(self, rows_by_case: dict[str, list[tuple[str, str, int, tuple]]], now: datetime, *,
                     new_cases: Collection[str] = (), marks: Marks | None = None) -> int:
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
            for start in range(0, len(ids), 900):
                for row in connection.execute(select(table).where(table.c.case_id.in_(ids[start:start + 900]))).mappings():
                    identity = (row["case_id"], row["rule_id"], row["person"], row["number"])
                    existing[identity] = (row["id"], CLOCK_VALUES.encode(row))
            for case_id, rows in rows_by_case.items():
                for rule_id, person, number, values in rows:
                    old = existing.pop((case_id, rule_id, person, number), None)
                    if old is None:
                        inserts.append((case_id, rule_id, person, number, *values, stamp))
                    elif old[1] != values:
                        updates.append((*values, stamp, old[0]))
            deletes = [row_id for row_id, _ in existing.values()]  # clocks the events no longer give
            if inserts:
                _CLOCK_INSERT.insert(connection, inserts)
            if updates:
                _CLOCK_UPDATE.update(connection, updates, key=("id",))
            for start in range(0, len(deletes), 900):
                connection.execute(table.delete().where(table.c.id.in_(deletes[start:start + 900])))
            session.commit()
        return len(inserts) + len(updates) + len(deletes)

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
                cleared.update(connection.execute(table.delete().where(table.c.token == token, table.c.case_id.in_(chunk))
                                                  .returning(table.c.case_id)).scalars())
        return cleared

    def replay_marks(self, case_ids: Sequence[str] | None = None) -> dict[str, str]:
        """{case: token} of the cases whose clocks are older than their events (all, or of these cases)."""
        table = ReplayMarkRow.__table__
        with self.engine.connect() as connection:
            if case_ids is None:
                return dict(connection.execute(select(table.c.case_id, table.c.token).order_by(table.c.case_id)).tuples().all())
            return {case: token for chunk in chunked(case_ids) for case, token in connection.execute(
                select(table.c.case_id, table.c.token).where(table.c.case_id.in_(chunk))).tuples()}

    def dues_of_cases(self, case_ids: list[str]) -> dict[tuple[str, str, str, int], tuple[datetime | None, str | None]]:
        """{(case, rule, person, number): (due, due as shown)} of the stored clocks of these cases: what a recompute
        compares, read without the rest of each row."""
        table = ClockRow.__table__
        found = {}
        with self.engine.connect() as connection:
            for start in range(0, len(case_ids), 900):
                found.update({(r.case_id, r.rule_id, r.person, r.number): (r.due_at, r.due_display) for r in connection.execute(
                    select(table.c.case_id, table.c.rule_id, table.c.person, table.c.number, table.c.due_at, table.c.due_display)
                    .where(table.c.case_id.in_(case_ids[start:start + 900])))})
        return found

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
        from qixian.casework.directory import Directory, Officer, Unit

        units_, officers_ = UnitRow.__table__.c, OfficerRow.__table__.c  # plain rows: a province has 5,000 officers
        with self.engine.connect() as connection:
            units = {u.id: Unit(u.id, u.name, u.leader, u.legal_officer, u.duty_phone, u.extra)
                     for u in connection.execute(select(units_.id, units_.name, units_.leader, units_.legal_officer,
                                                        units_.duty_phone, units_.extra))}
            officers = {o.id: Officer(o.id, o.name, o.unit, o.phone, tuple(o.urls), tuple(o.roles), o.extra)
                        for o in connection.execute(select(officers_.id, officers_.name, officers_.unit, officers_.phone,
                                                           officers_.urls, officers_.roles, officers_.extra))}
        return Directory(units, officers)

    # -- acknowledgements -----------------------------------------------------------------------

    def acknowledge(self, outbox_id: int, officer: str, channel: str, now: datetime) -> tuple[AcknowledgementRow, bool]:
        """Record that `officer` acknowledged reminder `outbox_id` via `channel`; (the record, whether it is new).
        The first acknowledgement of a row stands: repeating it (a double click, a link opened twice) changes
        nothing. Raises AcknowledgeError for an unknown channel, a reminder `acknowledgeable` refuses, or an overdue
        reminder by link (LINK_LEVELS)."""
        if channel not in ACK_CHANNELS:
            raise AcknowledgeError(f"确认渠道 {channel!r} 未知，应为 {'、'.join(ACK_CHANNELS)} 之一")
        row = self.acknowledgeable(outbox_id, officer)
        if channel == "link" and row.level not in LINK_LEVELS:
            raise AcknowledgeError("超期提醒须本人登录期限看板确认（确认后不再告知单位负责人等）：工作群中的链接谁都能点开")
        with self.session() as session:
            inserted = _ACK_ROWS.insert(session.connection(), [_ACK_ROWS.encode({
                "outbox_id": row.id, "clock_id": row.clock_id, "due_at": row.due_at, "step": row.step, "level": row.level,
                "officer": officer, "at": utc(now), "channel": channel})], unique=("outbox_id",), returning="id")
            session.commit()
            found = session.exec(select(AcknowledgementRow).where(AcknowledgementRow.outbox_id == outbox_id)).scalars().one()
        return found, bool(inserted)

    def acknowledgeable(self, outbox_id: int, officer: str) -> OutboxRow:
        """Reminder `outbox_id`, if `officer` may acknowledge it: it was sent to the officer, who is still in the
        directory and still one of the case's people (Directory.on_case). Raises AcknowledgeError otherwise, naming
        nobody: who else a reminder went to is not the asker's business."""
        with self.session() as session:
            row = session.get(OutboxRow, outbox_id)
            case = session.get(CaseRow, row.case_id) if row is not None else None
        if row is None:
            raise AcknowledgeError(f"没有编号为 {outbox_id} 的提醒：请核对提醒编号（qixian scan --json 或消息中的链接）")
        if row.recipient != officer:
            raise AcknowledgeError(f"提醒 {outbox_id} 不是发给您的：只能确认发给自己的提醒")
        if row.clocks is not None:
            raise AcknowledgeError(f"提醒 {outbox_id} 是每日超期汇总，不能整体确认：请在看板上逐个案件办理")
        if case is None or not self.directory().on_case(officer, unit=case.unit, handler=case.handler,
                                                        co_handlers=list(case.co_handlers or [])):
            raise AcknowledgeError(f"提醒 {outbox_id} 所属案件已不由您负责（您已不在民警名录中，或已不是该案的主办、协办民警"
                                   "或所在单位的负责人、法制员）：不能再确认")
        return row

    # -- dashboard sign-in ----------------------------------------------------------------------

    def set_password_hash(self, officer: str, password_hash: str, now: datetime) -> None:
        """Set the officer's password; the officer's open sessions end with the old one."""
        with self.session() as session:
            row = session.get(WebUserRow, officer) or WebUserRow(officer=officer, password_hash=password_hash, updated_at=utc(now))
            row.password_hash, row.updated_at = password_hash, utc(now)
            session.add(row)
            session.execute(delete(WebSessionRow).where(WebSessionRow.officer == officer))
            session.commit()

    def password_hash(self, officer: str) -> str | None:
        with self.session() as session:
            row = session.get(WebUserRow, officer)
            return row.password_hash if row else None

    def remove_web_user(self, officer: str) -> bool:
        """Whether the officer had a password (now removed: signing in and open sessions stop working)."""
        with self.session() as session:
            removed = session.execute(delete(WebUserRow).where(WebUserRow.officer == officer)).rowcount
            session.execute(delete(WebSessionRow).where(WebSessionRow.officer == officer))
            session.commit()
        return bool(removed)

    def open_web_session(self, key: str, officer: str, now: datetime, expires: datetime) -> None:
        """Hold a new dashboard session (`key`: the digest of the cookie's id), dropping the sessions that expired."""
        with self.session() as session:
            session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= utc(now)))
            session.add(WebSessionRow(id=key, officer=officer, created_at=utc(now), expires_at=utc(expires)))
            session.commit()

    def web_session(self, key: str, now: datetime) -> str | None:
        """The officer of the dashboard session `key` if it is held and has not expired, else None."""
        with self.session() as session:
            row = session.get(WebSessionRow, key)
        return row.officer if row is not None and row.expires_at > utc(now) else None

    def end_web_session(self, key: str) -> None:
        with self.session() as session:
            session.execute(delete(WebSessionRow).where(WebSessionRow.id == key))
            session.commit()

    def web_users(self) -> list[WebUserRow]:
        with self.session() as session:
            return list(session.exec(select(WebUserRow).order_by(WebUserRow.officer)).scalars())

    def record_sign_in(self, officer: str, client: str, ok: bool, now: datetime) -> None:
        with self.session() as session:
            session.add(SignInRow(officer=officer, client=client[:64], at=utc(now), ok=ok))
            session.commit()

    def last_sign_ins(self) -> dict[str, datetime]:
        """Each officer's last successful sign-in."""
        with self.session() as session:
            return {officer: at for officer, at in session.execute(
                select(SignInRow.officer, func.max(SignInRow.at)).where(SignInRow.ok.is_(True)).group_by(SignInRow.officer))}

    def sign_ins(self) -> list[SignInRow]:
        with self.session() as session:
            return list(session.exec(select(SignInRow).order_by(SignInRow.id)).scalars())

    def failed_sign_ins(self, since: datetime, *, officer: str | None = None,
                        client: str | None = None) -> list[tuple[datetime, str]]:
        """(time, address) of the failed sign-ins after `since`, oldest first: for an officer id (only those after its
        last success and after its password was last set), or from an address."""
        since = utc(since)
        with self.session() as session:
            if officer is not None:
                user = session.get(WebUserRow, officer)
                last_ok = session.execute(select(func.max(SignInRow.at)).where(SignInRow.officer == officer,
                                                                               SignInRow.ok.is_(True))).scalar()
                since = max([since] + [t for t in (user.updated_at if user else None, last_ok) if t is not None])
                whose = SignInRow.officer == officer
            else:
                whose = SignInRow.client == client
            return list(session.execute(select(SignInRow.at, SignInRow.client)
                                        .where(whose, SignInRow.ok.is_(False), SignInRow.at > since)
                                        .order_by(SignInRow.at)).tuples())

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
