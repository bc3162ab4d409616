"""Sending what the outbox owes: one message per recipient (a digest, most urgent first), through apprise, each
channel tried `tries` times, then the next channel (chat → SMS → the unit's duty phone). Every attempt is recorded
(URL with secrets masked, the provider's answer); a row is marked sent only after a channel accepted it. What no
channel accepts is tried again later with backoff, and after the last try marked undeliverable for ops. A channel
at its sending limit (qixian.alerting.ratelimits) holds the message back until it has room: queued, not dropped.
Every request carries the idempotency keys (clock:due:step:recipient) of the reminders in it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apprise
from sqlalchemy import and_, select
from sqlmodel import Session, col

from qixian.alerting.messages import SEVERITY, Item, NotifyConfig, NotifyConfigError, chat_flavour, expand
from qixian.alerting.ratelimits import bucket, hold, in_bucket, room_at, tag
from qixian.engine.clocks import ClockState
from qixian.engine.directory import DUTY, Directory
from qixian.faults import crash_point
from qixian.legaltime.localtime import display, span
from qixian.rulebook.model import RulePack
from qixian.store import deliverylog
from qixian.store.repository import Store
from qixian.store.scanlock import single_scanner
from qixian.store.tables import CaseRow, ClockRow, DeliveryRow, OutboxRow, OutboxStatus

IDEMPOTENCY_HEADER = "X-Qixian-Idempotency-Key"
Sender = Callable[[str, str, str], tuple[bool, str]]  # (url, title, body) -> (accepted, provider answer)
# how long a claimed message is left to the scanner that claimed it: longer than trying every channel of a message
# takes; a scanner that dies sending leaves it to be sent again once this has passed
CLAIMED = timedelta(minutes=10)


@dataclass
class Message:
    recipient: str
    name: str
    keys: list[str]
    level: str
    text: str  # the SMS text (what --dry-run and --json show)
    chat: str  # the chat text in DingTalk's flavour (what --json shows); each channel gets its own (chat_in)
    items: list[Item] = field(default_factory=list)
    channel: str | None = None  # the kind of channel that accepted it (chat / sms / duty); None if none did or not sent
    ids: list[int | None] = field(default_factory=list)  # the outbox rows, as the items (None in a dry run)
    config: NotifyConfig | None = field(default=None, repr=False)
    digest: bool = False  # the daily overdue digest (qixian.alerting.digest), not a clock's own reminders

    def chat_in(self, flavour: str) -> str:
        """The chat text as a channel of this flavour shows it (dingtalk, wecom, feishu)."""
        if flavour == "dingtalk" or self.config is None:
            return self.chat
        render = self.config.digest_chat if self.digest else self.config.chat
        return render(self.items, self.name, flavour)

    @property
    def title(self) -> str:
        return "执法办案每日超期汇总" if self.digest else f"执法办案期限{self.items[0].level_label}"


@dataclass
class Delivered:
    messages: list[Message] = field(default_factory=list)
    sent: int = 0
    failed: int = 0  # messages no channel accepted this time (tried again later)
    undeliverable: int = 0
    deferred: int = 0  # messages held back by a channel's sending limit (sent when it has room; never dropped)
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


@dataclass(frozen=True)
class Told:
    """One message to a channel address outside the directory (ops alerts, audit checkpoints)."""

    url: str  # masked
    ok: bool
    answer: str


def tell(urls: Iterable[str], title: str, body: str, plugins: Path, send: Sender | None = None) -> list[Told]:
    """Send one message to each channel address (${VAR} taken from the environment), with the reminders' channel
    plugins but neither the outbox nor the delivery log."""
    send = send or apprise_sender(plugins)
    told = []
    for url in urls:
        try:
            target = expand(url)
        except NotifyConfigError as exc:
            told.append(Told(masked(url), False, str(exc)))
            continue
        ok, answer = send(target, title, body)
        told.append(Told(masked(target), ok, answer))
    return told


def masked(url: str) -> str:
    """The URL with its secrets hidden (apprise's privacy form), for the delivery log."""
    try:
        instance = apprise.Apprise.instantiate(url)
        return instance.url(privacy=True) if instance else url.split("://", 1)[0] + "://****"
    except Exception:  # a URL apprise cannot read is logged by its scheme only
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
    """Send the pending outbox rows whose time has come, one recipient's message at a time: claim its rows (a
    commit of their own, so scanners running at once each take the next recipient), send, then record the attempts
    and the rows' status in one transaction. A scanner that dies after claiming leaves its rows claimed for CLAIMED,
    then any scanner sends them again (the idempotency keys let the provider see a repeat); on SQLite one scanner
    runs at a time (qixian.store.scanlock). The audit key is read first: an unusable one (deliverylog.AuditKeyError)
    stops the scan before anything is sent."""
    audit_key = deliverylog.signing_key()
    send = send or apprise_sender(config.plugins)
    result = Delivered()
    utc_now = now.astimezone(UTC)
    began = time.monotonic()

    def moment() -> datetime:  # when an attempt is made: sending limits count real seconds, not the scan's start
        return utc_now + timedelta(seconds=time.monotonic() - began)

    with single_scanner(store.engine):
        directory = store.directory()
        while claimed := _claim(store, utc_now, moment() + CLAIMED):
            with store.session() as session:
                rows = list(session.execute(select(OutboxRow).where(col(OutboxRow.id).in_(claimed)).order_by(col(OutboxRow.id))).scalars())
                log = []
                for mine, message in compose(store, pack, config, directory, rows, now):  # reminders, then a digest
                    result.messages.append(message)
                    channel, tried, wait = _send(send, config, directory, session, Letter.of(message), moment)
                    crash_point("delivery.sent")
                    message.channel = channel
                    result.attempts += len(tried)
                    log += tried
                    _settle(mine, channel, wait, config, utc_now, result)
                deliverylog.append(session, log, audit_key)  # last: the chain's lock is held only from here to the commit
                session.commit()
    return result


def _claim(store: Store, now: datetime, until: datetime) -> list[int]:
    """Claim the pending rows, due by `now`, of the recipient whose row has waited longest: they are not due again
    before `until` (settling them sets their next time), committed at once. On PostgreSQL rows another scanner is
    claiming are skipped (SKIP LOCKED). Returns the claimed rows' ids; none when nothing is left to send."""
    outbox = OutboxRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    due = and_(outbox.c.status == OutboxStatus.PENDING, outbox.c.next_attempt_at <= now)
    with store.session() as session:
        recipient = session.execute(
            select(outbox.c.recipient).where(due).order_by(outbox.c.next_attempt_at, outbox.c.id).limit(1).with_for_update(skip_locked=True)
        ).scalar()
        if recipient is None:
            return []
        ids = list(session.execute(select(outbox.c.id).where(due, outbox.c.recipient == recipient).with_for_update(skip_locked=True)).scalars())
        session.execute(outbox.update().where(outbox.c.id.in_(ids)).values(next_attempt_at=until))
        session.commit()
    return ids


def compose(
    store: Store, pack: RulePack, config: NotifyConfig, directory: Directory, rows: list[OutboxRow], now: datetime
) -> list[tuple[list[OutboxRow], Message]]:
    """One message per recipient: its rows most urgent first, rendered for SMS and for chat; a daily overdue digest
    owed to the recipient is a message of its own (qixian.alerting.digest)."""
    with store.session() as session:
        wanted = {r.clock_id for r in rows} | {c for r in rows for c in r.clocks or ()}
        clocks = {c.id: c for c in session.execute(select(ClockRow).where(col(ClockRow.id).in_(wanted))).scalars()}
        case_ids = {c.case_id for c in clocks.values()} | {r.case_id for r in rows}
        cases = {c.id: c for c in session.execute(select(CaseRow).where(col(CaseRow.id).in_(case_ids))).scalars()}
    by_recipient: dict[str, list[OutboxRow]] = {}
    composed = []
    for row in rows:
        if row.clocks is not None:
            items = [item for c in row.clocks if c in clocks and (item := _digest_item(pack, row, clocks[c], cases.get(clocks[c].case_id), now)) is not None]
            name = directory.name_of(row.recipient)
            composed.append(
                (
                    [row],
                    Message(
                        row.recipient,
                        name,
                        [row.key],
                        "overdue",
                        config.digest_sms(items),
                        config.digest_chat(items, name),
                        items,
                        ids=[row.id],
                        config=config,
                        digest=True,
                    ),
                )
            )
        else:
            by_recipient.setdefault(row.recipient, []).append(row)
    for recipient, mine in by_recipient.items():
        mine.sort(key=lambda r: (-SEVERITY[r.level], r.due_at))
        link = not recipient.startswith(DUTY)  # a duty room has no dashboard login: no link for it
        items = [
            _item(pack, row, clocks.get(row.clock_id), cases.get(row.case_id), now, config.ack_url(row.id, recipient, now) if link else "") for row in mine
        ]
        name = directory.name_of(recipient)
        composed.append(
            (
                mine,
                Message(
                    recipient,
                    name,
                    [r.key for r in mine],
                    mine[0].level,
                    config.sms(items),
                    config.chat(items, name),
                    items,
                    ids=[r.id for r in mine],
                    config=config,
                ),
            )
        )
    return sorted(composed, key=lambda c: (c[1].recipient, c[1].digest))


def _digest_item(pack: RulePack, row: OutboxRow, clock: ClockRow, case: CaseRow | None, now: datetime) -> Item | None:
    """One clock listed in a daily overdue digest; None for one paused since the digest was owed (it has no due while
    paused, so it is not overdue now)."""
    if clock.due_at is None:
        return None
    return Item(
        row.key,
        "overdue",
        clock.case_id,
        case.title if case and case.title else "",
        pack.name_of(clock.rule_id),
        clock.person,
        clock.due_display or display(clock.due_at),
        span(clock.due_at - now),
        ClockState.OVERDUE,
        False,
        row.label,
    )


def _item(pack: RulePack, row: OutboxRow, clock: ClockRow | None, case: CaseRow | None, now: datetime, ack_url: str = "") -> Item:
    due = clock.due_display if clock and clock.due_display else display(row.due_at)
    return Item(
        row.key,
        row.level,
        row.case_id,
        case.title if case and case.title else "",
        pack.name_of(row.rule_id),
        row.person,
        due,
        span(row.due_at - now),
        ClockState.OVERDUE if int((row.due_at - now).total_seconds()) <= 0 else ClockState.RUNNING,
        row.late,
        row.label,
        ack_url,
    )


def _channels(config: NotifyConfig, directory: Directory, recipient: str, level: str) -> list[tuple[str, str]]:
    """(kind, url) in the order to try them for this recipient and level."""
    chain: list[tuple[str, str]] = []
    officer = directory.officers.get(recipient)
    unit = directory.units.get(recipient[len(DUTY) :] if recipient.startswith(DUTY) else (officer.unit or "" if officer else ""))
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


@dataclass(frozen=True)
class Letter:
    """What one send carries, whether a digest of reminders or a note (a report summary)."""

    recipient: str
    name: str
    level: str
    title: str
    chat: Callable[[str], str]  # the chat text in a flavour (dingtalk, wecom, feishu)
    sms: str
    keys: list[str]

    @classmethod
    def of(cls, message: Message) -> Letter:
        return cls(message.recipient, message.name, message.level, message.title, message.chat_in, message.text, message.keys)


def _send(
    send: Sender, config: NotifyConfig, directory: Directory, session: Session, letter: Letter, moment: Callable[[], datetime]
) -> tuple[str | None, list[dict], datetime | None]:
    """Try the channels in order. Returns (the kind that accepted or None, the attempts as delivery-log rows (URL
    masked, with its fingerprint), when to try again if a channel's sending limit stopped it). The caller appends
    the attempts to the log in its transaction."""
    log: list[dict] = []

    def attempt(kind: str, url: str, ok: bool, answer: str, sent: str = "") -> None:
        log.append(
            {
                "at": moment(),
                "recipient": letter.recipient,
                "keys": list(letter.keys),
                "attempt": len(log) + 1,
                "channel": kind,
                "url": url,
                "ok": ok,
                "answer": answer[-2000:],
                "text_hash": deliverylog.text_hash(letter.title, sent) if sent else "",
            }
        )

    try:
        chain = _channels(config, directory, letter.recipient, letter.level)
    except NotifyConfigError as exc:
        attempt("config", "", False, str(exc))
        return None, log, None
    if not chain:
        attempt("none", "", False, f"{letter.name} 没有可用的提醒渠道（名录中无 urls、手机号，单位无值班电话）")
        return None, log, None
    for kind, url in chain:
        limited = bucket(config.limits, kind, url)
        if limited:
            hold(session, limited[0])
        text = letter.chat(chat_flavour(url)) if kind == "chat" else letter.sms
        for _ in range(config.tries):
            # this send's own attempts are not in the log yet: they count against the limit too
            wait = room_at(session, *limited, moment(), [a["at"] for a in log if in_bucket(limited[0], a)]) if limited else None
            if wait:  # the channel is full: the message waits for it rather than moving to a costlier one
                return None, log, wait
            ok, answer = send(with_keys(url, letter.keys), letter.title, text)
            attempt(kind, f"{masked(url)}#{tag(url)}", ok, answer, text)
            if ok:
                return kind, log, None
    return None, log, None


def send_note(store: Store, config: NotifyConfig, recipient: str, title: str, text: str, key: str, now: datetime, *, send: Sender | None = None) -> str | None:
    """Send one message that is not a clock's reminder (a report summary) to `recipient` through the same channels,
    fallbacks, sending limits and delivery log as reminders. `key` makes it idempotent: a note already delivered
    under that key is not sent again. Returns the kind of channel that accepted it (or had), None if none did
    (or a sending limit held it back: the next run sends it). Raises deliverylog.AuditKeyError, before sending, for an
    unusable audit key."""
    audit_key = deliverylog.signing_key()
    utc_now = now.astimezone(UTC)
    with store.session() as session:
        earlier = session.execute(
            select(DeliveryRow).where(
                col(DeliveryRow.recipient) == recipient, col(DeliveryRow.ok).is_(True), col(DeliveryRow.at) >= utc_now - timedelta(days=62)
            )
        ).scalars()
        done = next((row.channel for row in earlier if key in row.keys), None)
        if done is not None:
            return done
        directory = store.directory()
        letter = Letter(recipient, directory.name_of(recipient), "notice", title, lambda _: text, text, [key])
        channel, log, _ = _send(send or apprise_sender(config.plugins), config, directory, session, letter, lambda: utc_now)
        deliverylog.append(session, log, audit_key)
        session.commit()
    return channel


def _settle(rows: list[OutboxRow], channel: str | None, wait: datetime | None, config: NotifyConfig, now: datetime, result: Delivered) -> None:
    """The claimed rows' new status, in the claiming transaction, after the sending is over."""
    for row in rows:
        if channel is not None:
            row.status, row.sent_at, row.channel = OutboxStatus.SENT, now, channel
        elif wait is not None:
            row.next_attempt_at = wait  # not an attempt: no backoff, nothing counted against the row
        else:
            row.attempts += 1
            if row.attempts > len(config.backoff_minutes):
                row.status = OutboxStatus.UNDELIVERABLE
            else:
                row.next_attempt_at = now + timedelta(minutes=config.backoff_minutes[row.attempts - 1])
    if channel is not None:
        result.sent += 1
    elif wait is not None:
        result.deferred += 1
    elif rows[0].status == OutboxStatus.UNDELIVERABLE:
        result.undeliverable += 1
    else:
        result.failed += 1
