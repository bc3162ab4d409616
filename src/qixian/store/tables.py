"""The case store's tables. Clocks are derived (replayed from events), stored only to be scanned fast."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class OutboxStatus(StrEnum):
    """Where a reminder in the outbox stands."""

    PENDING = "pending"  # to be sent (again, after a failed attempt)
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"  # every attempt the backoff allows failed


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"

    id: str = Field(primary_key=True, max_length=200)
    kind: str | None = Field(default=None, max_length=40)
    title: str | None = None
    unit: str | None = Field(default=None, index=True, max_length=100)
    handler: str | None = Field(default=None, index=True, max_length=100)
    co_handlers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class CoHandlerRow(SQLModel, table=True):
    """One co-handler of a case, as the case's `co_handlers` list says (written with it): an officer's cases are
    found by index."""

    __tablename__ = "case_co_handlers"

    case_id: str = Field(primary_key=True, max_length=200)
    officer: str = Field(primary_key=True, index=True, max_length=100)


class PersonRow(SQLModel, table=True):
    __tablename__ = "persons"

    case_id: str = Field(primary_key=True, max_length=200)
    person: str = Field(primary_key=True, max_length=200)
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class EventRow(SQLModel, table=True):
    """The append-only event log. (source, source_id) is unique: the same event twice changes nothing."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_events_source"),
        Index("ix_events_type_at", "type", "at"),
    )  # reports: pauses and extensions by type

    seq: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=200)
    source_id: str = Field(max_length=200)
    case_id: str = Field(index=True, max_length=200)
    type: str = Field(max_length=100)
    at: datetime
    person: str | None = Field(default=None, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime


class QuarantineRow(SQLModel, table=True):
    """Input that could not be accepted, kept whole with the reason; nothing is dropped."""

    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=200)
    line: int = 0
    source_id: str | None = Field(default=None, max_length=200)
    raw: str
    reason: str
    received_at: datetime
    resolved_at: datetime | None = Field(default=None, index=True)


# Partial indexes on clocks, each as its WHERE reads on SQLite and on PostgreSQL
_OPEN_ONLY = ("open IS 1", "open IS true")  # open clocks
# open clocks that are not paused, as SQLAlchemy writes `open.is_(True), paused.is_(False)`
_RUNNING = ("open IS 1 AND paused IS 0", "open IS true AND paused IS false")
# clocks whose replay recorded an anomaly, as the dashboard's anomaly list asks for them
_ANOMALOUS = ("CAST(anomalies AS VARCHAR) != '[]'", "CAST(anomalies AS VARCHAR) != '[]'")


def _partial(name: str, *columns: str, where: tuple[str, str]) -> Index:
    """An index of `columns` holding only the rows `where` (SQLite's condition, PostgreSQL's) selects."""
    sqlite, postgresql = where
    return Index(name, *columns, sqlite_where=text(sqlite), postgresql_where=text(postgresql))


class ClockRow(SQLModel, table=True):
    """One clock as last replayed. `open` rows are what the scan reads, by due and by next reminder."""

    __tablename__ = "clocks"
    __table_args__ = (
        UniqueConstraint("case_id", "rule_id", "person", "number", name="uq_clocks_identity"),
        # Partial: the scan, the board and health read open clocks only, and most clocks of a bureau's years are
        # closed; a closed clock is then written to neither index. A partial index serves a query that says the same
        # as its WHERE: `open IS 1` / `open IS true` is how SQLAlchemy writes `open.is_(True)` on each database.
        _partial("ix_clocks_open_due", "due_at", where=_OPEN_ONLY),
        _partial("ix_clocks_open_next_reminder", "next_reminder_at", where=_OPEN_ONLY),
        # The dashboard's pages in due order (ties by id), the anomaly list, and reports by the due of a period.
        _partial("ix_clocks_open_due_id", "due_at", "id", where=_OPEN_ONLY),
        _partial("ix_clocks_anomalous", "due_at", "id", where=_ANOMALOUS),
        Index("ix_clocks_due", "due_at"),
        # The board's unit filter and a leader's list, in due order; its 橙 filter by the stored warning time
        _partial("ix_clocks_open_unit_due", "unit", "due_at", "id", where=_OPEN_ONLY),
        _partial("ix_clocks_running_warning", "warning_at", "due_at", where=_RUNNING),
        # Reports: the clocks whose life reaches into a period (ended in or after it, or still open)
        Index("ix_clocks_ended", "ended_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=200)  # looked up through uq_clocks_identity, which starts with it
    person: str = Field(default="", max_length=200)  # "" for a clock per case
    rule_id: str = Field(index=True, max_length=200)
    number: int = 1
    rule_version: str = Field(default="", max_length=40)  # the effective-from date of the bound version
    lead_of: str | None = Field(default=None, max_length=200)
    open: bool = True
    outcome: str | None = Field(default=None, max_length=20)  # met | met_late | cancelled
    paused: bool = False
    provisional: bool = False
    started_at: datetime
    due_at: datetime | None = None
    due_display: str | None = Field(default=None, max_length=20)
    ended_at: datetime | None = None
    ended_by: str | None = Field(default=None, max_length=100)
    explanation: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    anomalies: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    next_reminder_at: datetime | None = None
    # when the warning window opens (the rule's last reminder before the due; None: no such reminder): 橙 from then
    warning_at: datetime | None = None
    unit: str | None = Field(default=None, max_length=100)  # the case's unit, copied when the clock is written
    updated_at: datetime


class UnitRow(SQLModel, table=True):
    __tablename__ = "units"

    id: str = Field(primary_key=True, max_length=100)
    name: str
    leader: str | None = Field(default=None, max_length=100)
    legal_officer: str | None = Field(default=None, max_length=100)
    duty_phone: str | None = Field(default=None, max_length=40)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OfficerRow(SQLModel, table=True):
    __tablename__ = "officers"

    id: str = Field(primary_key=True, max_length=100)
    name: str
    unit: str | None = Field(default=None, index=True, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    urls: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class WatermarkRow(SQLModel, table=True):
    """How far a polled source (a view in the case system's database) has been read."""

    __tablename__ = "watermarks"

    source: str = Field(primary_key=True, max_length=200)
    value: str
    updated_at: datetime


class OutboxRow(SQLModel, table=True):
    """One reminder owed to one recipient: written in the transaction that advances the clock's next reminder, so
    a scan that runs twice, late or concurrently cannot owe it twice (the key is unique)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_key"),
        Index("ix_outbox_pending", "status", "next_attempt_at"),
        Index("ix_outbox_digest", "step", "step_at"),  # has today's digest been owed? (qixian.alerting.digest)
        Index("ix_outbox_recipient_step", "recipient", "step_at", "id"),  # 我的提醒, latest first
        Index("ix_outbox_case", "case_id"),  # the case page
        Index("ix_outbox_step", "step_at"),  # reports: reminders by their step time
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400)  # clock : due : step : recipient — the idempotency key the sink sees
    clock_id: int = Field(index=True)
    case_id: str = Field(max_length=200)
    person: str = Field(default="", max_length=200)
    rule_id: str = Field(max_length=200)
    step: int
    level: str = Field(max_length=20)  # notice | warning | overdue
    label: str = Field(max_length=100)
    due_at: datetime
    step_at: datetime
    recipient: str = Field(max_length=200)  # an officer id, or duty:<unit>
    late: bool = False  # the step's time had passed while nothing scanned (one message at the most severe step)
    status: str = Field(default=OutboxStatus.PENDING, max_length=20)  # an OutboxStatus
    attempts: int = 0
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None = None
    channel: str | None = Field(default=None, max_length=40)
    # a daily overdue digest (key digest:<day>:<recipient>) lists these clocks; None for a clock's own reminder
    clocks: list[int] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))


class DeliveryRow(SQLModel, table=True):
    """Every attempt to send, kept as evidence: when, to whom, through which channel (URL with secrets masked),
    what the provider answered, whether it counted as delivered, and the hash of the text sent. Append-only (the
    database refuses UPDATE and DELETE) and chained: `hash` covers the row's content and the previous row's hash,
    keyed with the audit key when there is one (`seal` says how; see qixian.ops.audit)."""

    __tablename__ = "deliveries"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    recipient: str = Field(max_length=200)
    keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attempt: int
    channel: str = Field(max_length=40)
    url: str  # masked
    ok: bool
    answer: str = ""
    text_hash: str = Field(default="", max_length=64)  # sha256 of the title and text sent ("" when nothing was)
    seal: str = Field(default="", max_length=24)  # "" before migration 0010, "sha256" without a key, "hmac:<key id>"
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


class ScanRunRow(SQLModel, table=True):
    """One completed scan, for `qixian health`: when, what it owed and sent, and the clocks it caught up after
    downtime (steps crossed while nothing scanned). `finished_at` is on the scan's clock: its `as_of` plus the
    time the scan took, so a scan run for a given moment reads the same in tests as in production."""

    __tablename__ = "scan_runs"

    id: int | None = Field(default=None, primary_key=True)
    as_of: datetime
    finished_at: datetime = Field(index=True)
    clocks: int = 0
    owed: int = 0
    sent: int = 0
    failed: int = 0
    undeliverable: int = 0
    caught_up: int = 0  # clocks whose reminder went out late (补发)
    late: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    audit_id: int | None = None  # the delivery log's last row when the scan finished: a truncated log shows
    audit_hash: str = Field(default="", max_length=64)


class RolloutRow(SQLModel, table=True):
    """A rule pack put in force: who, when, which files (content hashes), and which dues the recompute moved."""

    __tablename__ = "rollouts"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    by: str = Field(max_length=100)
    directory: str
    pack_hash: str = Field(max_length=64)
    files: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    cases: int = 0
    clocks: int = 0
    changed: int = 0
    moved: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class AcknowledgementRow(SQLModel, table=True):
    """An officer saying "received, I am on it" to one reminder (one outbox row), from the dashboard or the signed
    link in a chat message. Recorded once per row; an acknowledged overdue reminder stops the escalation copies of
    the clock's later repeats at that due (the clock itself runs on)."""

    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("outbox_id", name="uq_acknowledgements_outbox"),)

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int
    clock_id: int = Field(index=True)
    due_at: datetime  # the due the reminder was about: a later extension gives a new due, escalated afresh
    step: int
    level: str = Field(max_length=20)
    officer: str = Field(max_length=100)
    at: datetime
    channel: str = Field(max_length=20)  # dashboard | link | cli


class WebUserRow(SQLModel, table=True):
    """An officer of the directory who may sign in to the dashboard: the salted password hash only. What the officer
    may see (own cases, the unit, everything) follows from the directory, so it changes with it."""

    __tablename__ = "web_users"

    officer: str = Field(primary_key=True, max_length=100)
    password_hash: str = Field(max_length=300)  # scrypt$n$r$p$salt$hash (qixian.web.passwords)
    updated_at: datetime


class SignInRow(SQLModel, table=True):
    """One attempt to sign in to the dashboard, kept: who signs in when, and the count that holds back guessing
    (repeated failures for one officer id, or from one address, pause signing in for a while)."""

    __tablename__ = "sign_ins"
    __table_args__ = (
        Index("ix_sign_ins_officer_at", "officer", "at"),
        Index("ix_sign_ins_client_at", "client", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    officer: str = Field(max_length=100)  # as typed: unknown ids are counted too, and answered alike
    client: str = Field(max_length=64)  # the browser's address (behind the proxy, from X-Forwarded-For)
    at: datetime
    ok: bool


class ReplayMarkRow(SQLModel, table=True):
    """A case whose clocks are older than its events: written in the transaction that records the events, removed
    in the one that writes the clocks replayed from them. What a killed ingest leaves here, the next ingest, scan
    or `qixian recompute --pending` replays; `qixian health` reports marks that stay."""

    __tablename__ = "replay_marks"

    case_id: str = Field(primary_key=True, max_length=200)
    token: str = Field(max_length=32)  # which recording set the mark: only a replay that read it may clear it
    marked_at: datetime


class WebSessionRow(SQLModel, table=True):
    """A signed-in dashboard session, held here so that it can be ended: the browser's cookie carries a random id,
    this table only the id's SHA-256 (reading the table gives no session away). Signing out deletes the row; a new
    password or removing the account deletes all of the officer's rows; a row past `expires_at` counts for nothing."""

    __tablename__ = "web_sessions"

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie's random id
    officer: str = Field(index=True, max_length=100)
    created_at: datetime
    expires_at: datetime = Field(index=True)


class RulePackRow(SQLModel, table=True):
    """The files of a rule pack a roll-out put in force ({path inside the pack: text}), kept once per pack hash so
    that every command on every machine computes and shows clocks with exactly that pack (qixian.casework.rollout.in_force)
    and `qixian rules rollback` can put an earlier one back."""

    __tablename__ = "rule_packs"

    pack_hash: str = Field(primary_key=True, max_length=64)
    files: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    kept_at: datetime


class ReportSnapshotRow(SQLModel, table=True):
    """An assessment report computed ahead (qixian.supervision.snapshots), so the dashboard's reports page reads it
    instead of counting a province's clocks on every request: one row per view (period, unit, officer), the hash of
    the rule pack and calendar it was computed with, when, and the report as JSON."""

    __tablename__ = "report_snapshots"

    view: str = Field(primary_key=True, max_length=200)  # qixian.supervision.snapshots.View.key
    pack_hash: str = Field(max_length=64)
    computed_at: datetime = Field(index=True)  # the report's "now": how old the figures are
    body: str  # the report as JSON (snapshots.to_json), with its format number
