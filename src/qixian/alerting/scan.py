"""One scan: owe the reminders whose time has come (`owe`), send what is owed (`deliver`), record the run
(`record_run`). `scan` does all three; the scan flow runs them as its tasks. Safe to run twice, late or
concurrently: the outbox key makes owing idempotent, and a row is marked sent only after a channel accepted it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from qixian.alerting.delivery import Delivered, Message, Sender, compose, deliver
from qixian.alerting.digest import owe_digest
from qixian.alerting.messages import NotifyConfig
from qixian.alerting.outbox import Late, Scanned, _outbox_values, enqueue
from qixian.rulebook.model import RulePack
from qixian.store import deliverylog
from qixian.store.repository import Store
from qixian.store.scanlock import single_scanner
from qixian.store.tables import OutboxRow, ScanRunRow

LATE_KEPT = 1000  # clocks listed per scan run (all are counted)


@dataclass
class ScanReport:
    scanned: Scanned
    delivered: Delivered
    dry_run: bool

    @property
    def messages(self) -> list[Message]:
        return self.delivered.messages


def scan(store: Store, pack: RulePack, config: NotifyConfig, now: datetime, *, dry_run: bool = False, send: Sender | None = None) -> ScanReport:
    """Enqueue and deliver as of `now`; with `dry_run`, compose the messages that would go, writing and sending nothing."""
    started = time.time()
    if not dry_run:
        with single_scanner(store.engine):  # held across owing and sending: another SQLite scanner stops at once
            scanned = owe(store, pack, now)
            delivered = deliver(store, pack, config, now, send=send)
        record_run(
            store,
            now,
            time.time() - started,
            clocks=scanned.clocks,
            owed=len(scanned.owed),
            sent=delivered.sent,
            failed=delivered.failed,
            undeliverable=delivered.undeliverable,
            caught_up=scanned.caught_up,
            late=listed(scanned.late, pack),
        )
        return ScanReport(scanned, delivered, False)
    scanned = enqueue(store, pack, now, dry_run=True)
    utc_now = now.astimezone(UTC)
    digests = owe_digest(store, pack, now, dry_run=True)
    scanned.digests = len(digests)
    rows = [OutboxRow(id=None, **_outbox_values(owed, utc_now)) for owed in scanned.owed] + [OutboxRow(id=None, **values) for values in digests]
    preview = Delivered(messages=[message for _, message in compose(store, pack, config, store.directory(), rows, now)])
    return ScanReport(scanned, preview, True)


def owe(store: Store, pack: RulePack, now: datetime) -> Scanned:
    """The first step of a scan: the reminders owed as of `now` written to the outbox, each clock advanced in the same
    transaction, and the daily overdue digests owed."""
    scanned = enqueue(store, pack, now)
    scanned.digests = len(owe_digest(store, pack, now))
    return scanned


def record_run(
    store: Store, as_of: datetime, took_seconds: float, *, clocks: int, owed: int, sent: int, failed: int, undeliverable: int, caught_up: int, late: list[dict]
) -> None:
    """Record a completed scan (for `qixian health` and the dead-man's switch), with the clocks it caught up and
    the delivery log's last row as it ended."""
    audit_id, audit_hash = deliverylog.head(store)
    with store.session() as session:
        session.add(
            ScanRunRow(
                as_of=as_of,
                finished_at=as_of + timedelta(seconds=took_seconds),
                clocks=clocks,
                owed=owed,
                sent=sent,
                failed=failed,
                undeliverable=undeliverable,
                caught_up=caught_up,
                late=late[:LATE_KEPT],
                audit_id=audit_id,
                audit_hash=audit_hash,
            )
        )
        session.commit()


def listed(late: list[Late], pack: RulePack) -> list[dict]:
    """The caught-up clocks as stored and shown (the first LATE_KEPT of them), each with its rule's name."""
    return [{**item.as_dict(), "rule_name": pack.name_of(item.rule_id)} for item in late[:LATE_KEPT]]
