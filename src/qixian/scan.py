"""One scan: owe the reminders whose time has come, then send what is owed. Safe to run twice, late or
concurrently: the outbox key makes owing idempotent, and a row is marked sent only after a channel accepted it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from qixian.delivery import Delivered, Message, Sender, compose, deliver
from qixian.messages import NotifyConfig
from qixian.outbox import Scanned, _outbox_values, enqueue
from qixian.rulebook.model import RulePack
from qixian.store.repository import Store
from qixian.store.scanlock import single_scanner
from qixian.store.tables import OutboxRow


@dataclass
class ScanReport:
    scanned: Scanned
    delivered: Delivered
    dry_run: bool

    @property
    def messages(self) -> list[Message]:
        return self.delivered.messages


def scan(store: Store, pack: RulePack, config: NotifyConfig, now: datetime, *, dry_run: bool = False,
         send: Sender | None = None) -> ScanReport:
    """Enqueue and deliver as of `now`; with `dry_run`, compose the messages that would go, writing and sending nothing."""
    if not dry_run:
        with single_scanner(store.engine):  # held across owing and sending: another SQLite scanner stops at once
            scanned = enqueue(store, pack, now)
            return ScanReport(scanned, deliver(store, pack, config, now, send=send), False)
    scanned = enqueue(store, pack, now, dry_run=True)
    utc_now = now.astimezone(timezone.utc)
    rows = [OutboxRow(id=None, **_outbox_values(owed, utc_now)) for owed in scanned.owed]
    preview = Delivered(messages=[message for _, message in compose(store, pack, config, store.directory(), rows, now)])
    return ScanReport(scanned, preview, True)
