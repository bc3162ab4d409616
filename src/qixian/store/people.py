"""People in the store: the directory of units and officers, and acknowledgements of reminders."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlmodel import col

from qixian.engine.directory import Directory, Officer, Unit
from qixian.store.part import StorePart
from qixian.store.rows import Codec, utc
from qixian.store.tables import AcknowledgementRow, CaseRow, OfficerRow, OutboxRow, UnitRow, WatermarkRow

ACK_CHANNELS = ("dashboard", "link", "cli")  # where an acknowledgement came from
# A link in a chat message is opened by whoever is in the chat, so it acknowledges only reminders whose
# acknowledgement is a record: an overdue one stops the escalation to leaders and is acknowledged signed in.
LINK_LEVELS = ("notice", "warning")
# The directory's revision, a new one with every replace_directory, in the same transaction: kept as a watermark
# (whose sources are otherwise named sql:...), so a Store reads the 5,000 officers of a province again only when
# they changed, not on every dashboard request (measured: 66 ms of a 100 ms page).
DIRECTORY_REVISION = "directory"
_ACK_ROWS = Codec(
    AcknowledgementRow.__table__,  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    ("outbox_id", "clock_id", "due_at", "step", "level", "officer", "at", "channel"),
)


class AcknowledgeError(ValueError):
    """An acknowledgement that cannot be recorded (no such reminder, not the officer's, the officer no longer on the
    case, an overdue reminder by link); the message says why."""


class People(StorePart):
    """The directory and acknowledgements (a part of Store)."""

    _read_directory: tuple[str, Directory] | None = None  # the directory as last read, and its revision

    def replace_directory(self, directory: Directory) -> None:
        """The directory becomes exactly this one (units and officers not in it are removed), under a new revision."""
        with self.session() as session:
            session.execute(delete(OfficerRow))
            session.execute(delete(UnitRow))
            session.merge(WatermarkRow(source=DIRECTORY_REVISION, value=uuid.uuid4().hex, updated_at=datetime.now(UTC)))
            for unit in directory.units.values():
                session.add(
                    UnitRow(id=unit.id, name=unit.name, leader=unit.leader, legal_officer=unit.legal_officer, duty_phone=unit.duty_phone, extra=unit.extra)
                )
            for officer in directory.officers.values():
                session.add(
                    OfficerRow(
                        id=officer.id,
                        name=officer.name,
                        unit=officer.unit,
                        phone=officer.phone,
                        urls=list(officer.urls),
                        roles=list(officer.roles),
                        extra=officer.extra,
                    )
                )
            session.commit()

    def directory(self) -> Directory:
        """The directory as stored now: read again only when its revision changed since this Store last read it
        (the revision is read first, so a directory replaced meanwhile is never kept under the older revision)."""
        units_, officers_ = UnitRow.__table__.c, OfficerRow.__table__.c  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__; plain rows: a province has 5,000 officers
        marks = WatermarkRow.__table__.c  # type: ignore[attr-defined]
        with self.engine.connect() as connection:
            revision = connection.execute(select(marks.value).where(marks.source == DIRECTORY_REVISION)).scalar_one_or_none()
            last = self._read_directory
            if revision is not None and last is not None and last[0] == revision:
                return last[1]
            units = {
                u.id: Unit(u.id, u.name, u.leader, u.legal_officer, u.duty_phone, u.extra)
                for u in connection.execute(select(units_.id, units_.name, units_.leader, units_.legal_officer, units_.duty_phone, units_.extra))
            }
            officers = {
                o.id: Officer(o.id, o.name, o.unit, o.phone, tuple(o.urls), tuple(o.roles), o.extra)
                for o in connection.execute(
                    select(officers_.id, officers_.name, officers_.unit, officers_.phone, officers_.urls, officers_.roles, officers_.extra)
                )
            }
        directory = Directory(units, officers)
        if revision is not None:  # (a store whose directory was never replaced has none: read each time)
            self._read_directory = (revision, directory)
        return directory

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
            inserted = _ACK_ROWS.insert(
                session.connection(),
                [
                    _ACK_ROWS.encode(
                        {
                            "outbox_id": row.id,
                            "clock_id": row.clock_id,
                            "due_at": row.due_at,
                            "step": row.step,
                            "level": row.level,
                            "officer": officer,
                            "at": utc(now),
                            "channel": channel,
                        }
                    )
                ],
                unique=("outbox_id",),
                returning="id",
            )
            session.commit()
            found = session.execute(select(AcknowledgementRow).where(col(AcknowledgementRow.outbox_id) == outbox_id)).scalars().one()
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
        if case is None or not self.directory().on_case(officer, unit=case.unit, handler=case.handler, co_handlers=list(case.co_handlers or [])):
            raise AcknowledgeError(
                f"提醒 {outbox_id} 所属案件已不由您负责（您已不在民警名录中，或已不是该案的主办、协办民警或所在单位的负责人、法制员）：不能再确认"
            )
        return row
