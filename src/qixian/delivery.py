"""Sending what the outbox owes: one message per recipient (a digest, most urgent first), through apprise, each
channel tried `tries` times, then the next channel (chat → SMS → the unit's duty phone). Every attempt is recorded
(URL with secrets masked, the provider's answer); a row is marked sent only after a channel accepted it. What no
channel accepts is tried again later with backoff, and after the last try marked undeliverable for ops.
Every request carries the idempotency keys (clock:due:step:recipient) of the reminders in it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import apprise
from sqlalchemy import select

from qixian import audit
from qixian.directory import DUTY, Directory
from qixian.localtime import display, span
from qixian.messages import SEVERITY, Item, NotifyConfig, NotifyConfigError, expand
from qixian.rulebook.model import RulePack
from qixian.store.repository import Store
from qixian.store.tables import CaseRow, ClockRow, DeliveryRow, OutboxRow

IDEMPOTENCY_HEADER = "X-Qixian-Idempotency-Key"
Sender = Callable[[str, str, str], tuple[bool, str]]  # (url, title, body) -> (accepted, provider answer)


@dataclass
class Message:
    recipient: str
    name: str
    keys: list[str]
    level: str
    text: str  # the SMS text (what --dry-run and --json show)
    chat: str
    items: list[Item] = field(default_factory=list)
    channel: str | None = None  # the kind of channel that accepted it (chat / sms / duty); None if none did or not sent
    ids: list[int | None] = field(default_factory=list)  # the outbox rows, as the items (None in a dry run)


@dataclass
class Delivered:
    messages: list[Message] = field(default_factory=list)
    sent: int = 0
    failed: int = 0  # messages no channel accepted this time (tried again later)
    undeliverable: int = 0
    attempts: int = 0


def apprise_sender(plugins: Path) -> Sender:
    """Send through apprise with the project's plugins; the answer is what apprise logged about the request."""

    def send(url: str, title: str, body: str) -> tuple[bool, str]:
        client = apprise.Apprise(asset=apprise.AppriseAsset(plugin_paths=[str(plugins)]))
        quiet = logging.getLogger("apprise")
        quiet.propagate = False  # the answer goes to the delivery log, not to whatever console the host process has
        with apprise.LogCapture(level=logging.INFO) as logs:
            if not client.add(url):
                return False, "渠道地址无法识别（检查格式与插件）"
            logger = logging.getLogger("qixian.notify")
            logger.addHandler(handler := logging.StreamHandler(logs))
            try:
                ok = bool(client.notify(title=title, body=body))
            finally:
                logger.removeHandler(handler)
        return ok, logs.getvalue()[-2000:]

    return send


def masked(url: str) -> str:
    """The URL with its secrets hidden (apprise's privacy form), for the delivery log."""
    try:
        instance = apprise.Apprise.instantiate(url)
        return instance.url(privacy=True) if instance else url.split("://", 1)[0] + "://****"
    except Exception:  # noqa: BLE001 - a URL apprise cannot read is logged by its scheme only
        return url.split("://", 1)[0] + "://****"


def with_keys(url: str, keys: list[str]) -> str:
    """The URL carrying the idempotency keys: as an HTTP header for apprise's json:// and form://, as `idem=`
    for the project's plugins (which send it as the same header)."""
    value = ",".join(keys)
    joiner = "&" if "?" in url else "?"
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("json", "jsons", "form", "forms", "xml", "xmls"):
        return f"{url}{joiner}+{IDEMPOTENCY_HEADER}={value}"
    return f"{url}{joiner}idem={value}"


def deliver(store: Store, pack: RulePack, config: NotifyConfig, now: datetime, *, send: Sender | None = None) -> Delivered:
    """Send the pending outbox rows whose time has come."""
    send = send or apprise_sender(config.plugins)
    result = Delivered()
    utc_now = now.astimezone(timezone.utc)
    with store.session() as session:
        pending = list(session.exec(select(OutboxRow).where(OutboxRow.status == "pending",
                                                            OutboxRow.next_attempt_at <= utc_now)
                                    .order_by(OutboxRow.recipient, OutboxRow.id)).scalars())
    directory = store.directory()
    for rows, message in compose(store, pack, config, directory, pending, now):
        result.messages.append(message)
        channel, log = _send(send, config, directory, message.recipient, message.level,
                             f"执法办案期限{message.items[0].level_label}", message.chat, message.text, message.keys)
        message.channel = channel
        result.attempts += len(log)
        _record(store, rows, log, channel, config, utc_now, result)
    return result


def compose(store: Store, pack: RulePack, config: NotifyConfig, directory: Directory, rows: list[OutboxRow],
            now: datetime) -> list[tuple[list[OutboxRow], Message]]:
    """One message per recipient: its rows most urgent first, rendered for SMS and for chat."""
    with store.session() as session:
        clocks = {c.id: c for c in session.exec(select(ClockRow).where(ClockRow.id.in_({r.clock_id for r in rows}))).scalars()}
        cases = {c.id: c for c in session.exec(select(CaseRow).where(CaseRow.id.in_({r.case_id for r in rows}))).scalars()}
    by_recipient: dict[str, list[OutboxRow]] = {}
    for row in rows:
        by_recipient.setdefault(row.recipient, []).append(row)
    composed = []
    for recipient, mine in by_recipient.items():
        mine.sort(key=lambda r: (-SEVERITY[r.level], r.due_at))
        link = not recipient.startswith(DUTY)  # a duty room has no dashboard login: no link for it
        items = [_item(pack, row, clocks.get(row.clock_id), cases.get(row.case_id), now,
                       config.ack_url(row.id, recipient, now) if link else "") for row in mine]
        name = directory.name_of(recipient)
        composed.append((mine, Message(recipient, name, [r.key for r in mine], mine[0].level,
                                       config.sms(items), config.chat(items, name), items, ids=[r.id for r in mine])))
    return composed


def _item(pack: RulePack, row: OutboxRow, clock: ClockRow | None, case: CaseRow | None, now: datetime,
          ack_url: str = "") -> Item:
    versions = pack.versions(row.rule_id)
    due = clock.due_display if clock and clock.due_display else display(row.due_at)
    return Item(row.key, row.level, row.case_id, case.title if case and case.title else "",
                versions[0].name if versions else row.rule_id, row.person, due, span(row.due_at - now),
                "overdue" if int((row.due_at - now).total_seconds()) <= 0 else "running", row.late, row.label, ack_url)


def _channels(config: NotifyConfig, directory: Directory, recipient: str, level: str) -> list[tuple[str, str]]:
    """(kind, url) in the order to try them for this recipient and level."""
    chain: list[tuple[str, str]] = []
    officer = directory.officers.get(recipient)
    unit = directory.units.get(recipient[len(DUTY):] if recipient.startswith(DUTY) else (officer.unit if officer else ""))
    for kind in config.levels[level]:
        if kind == "chat" and officer:
            chain += [("chat", expand(url)) for url in officer.urls]
        elif kind == "sms" and officer and officer.phone and config.sms_url:
            chain.append(("sms", expand(config.sms_url, phone=officer.phone)))
        elif kind == "duty" and unit and unit.duty_phone and config.sms_url:
            chain.append(("duty", expand(config.sms_url, phone=unit.duty_phone)))
    if recipient.startswith(DUTY) and unit and unit.duty_phone and config.sms_url and not any(k == "duty" for k, _ in chain):
        chain.append(("duty", expand(config.sms_url, phone=unit.duty_phone)))
    return chain


def _send(send: Sender, config: NotifyConfig, directory: Directory, recipient: str, level: str, title: str, chat: str,
          sms: str, keys: list[str]) -> tuple[str | None, list[tuple[str, str, bool, str]]]:
    """Try the channels in order; returns (the kind that accepted or None, [(kind, masked url, ok, answer)])."""
    log: list[tuple[str, str, bool, str]] = []
    try:
        chain = _channels(config, directory, recipient, level)
    except NotifyConfigError as exc:
        return None, [("config", "", False, str(exc))]
    if not chain:
        return None, [("none", "", False, f"{directory.name_of(recipient)} 没有可用的提醒渠道（名录中无 urls、手机号，单位无值班电话）")]
    for kind, url in chain:
        text = chat if kind == "chat" else sms
        for _ in range(config.tries):
            ok, answer = send(with_keys(url, keys), title, text)
            log.append((kind, masked(url), ok, answer[-2000:]))
            if ok:
                return kind, log
    return None, log


def send_note(store: Store, config: NotifyConfig, recipient: str, title: str, text: str, key: str, now: datetime, *,
              send: Sender | None = None) -> str | None:
    """Send one message that is not a clock's reminder (a report summary) to `recipient` through the same channels,
    fallbacks and delivery log as reminders. `key` makes it idempotent: a note already delivered under that key is
    not sent again. Returns the kind of channel that accepted it (or had), None if none did."""
    utc_now = now.astimezone(timezone.utc)
    with store.session() as session:
        earlier = session.exec(select(DeliveryRow).where(DeliveryRow.recipient == recipient, DeliveryRow.ok.is_(True),
                                                         DeliveryRow.at >= utc_now - timedelta(days=62))).scalars()
        done = next((row.channel for row in earlier if key in row.keys), None)
    if done is not None:
        return done
    channel, log = _send(send or apprise_sender(config.plugins), config, store.directory(), recipient, "notice", title,
                         text, text, [key])
    with store.session() as session:
        _log_attempts(session, recipient, [key], log, utc_now)
        session.commit()
    return channel


def _log_attempts(session, recipient: str, keys: list[str], log, now: datetime) -> None:
    """Append the attempts to the hash-chained delivery log (qixian.audit)."""
    audit.append(session, [{"at": now, "recipient": recipient, "keys": keys, "attempt": number, "channel": kind,
                            "url": url, "ok": ok, "answer": answer}
                           for number, (kind, url, ok, answer) in enumerate(log, start=1)])


def _record(store: Store, rows: list[OutboxRow], log, channel: str | None, config: NotifyConfig, now: datetime,
            result: Delivered) -> None:
    """Write the attempts and the rows' new status in one transaction, after the sending is over."""
    status = "sent" if channel is not None else "pending"
    with store.session() as session:
        _log_attempts(session, rows[0].recipient, [r.key for r in rows], log, now)
        for row in rows:
            row = session.get(OutboxRow, row.id)
            if channel is not None:
                row.status, row.sent_at, row.channel = "sent", now, channel
            else:
                row.attempts += 1
                if row.attempts > len(config.backoff_minutes):
                    row.status = status = "undeliverable"
                else:
                    row.next_attempt_at = now + timedelta(minutes=config.backoff_minutes[row.attempts - 1])
            session.add(row)
        session.commit()
    if status == "sent":
        result.sent += 1
    elif status == "undeliverable":
        result.undeliverable += 1
    else:
        result.failed += 1
