"""Sending limits per channel (notify/channels.yaml `limits:`): a DingTalk robot takes 20 messages a minute, an
SMS account has quotas a minute and a day. A message whose channel is full is not sent and not dropped: it stays
pending until the moment the channel has room again.

Limits are counted from the delivery log (every attempt, with the moment it was made), so they hold across scans
and across scanners. Keys are a chat URL's scheme (counted per robot, i.e. per URL) or `sms` (the SMS gateway:
officers' and duty phones together). Per minute means any 60 seconds; per day means the Beijing calendar day."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select, text
from sqlmodel import col

from qixian.legaltime.localtime import SHANGHAI
from qixian.store.tables import DeliveryRow

MINUTE = timedelta(minutes=1)


class LimitsError(ValueError):
    """channels.yaml `limits:` is malformed; the message says where and how to fix it."""


@dataclass(frozen=True)
class Limit:
    per_minute: int | None = None
    per_day: int | None = None


def read_limits(data) -> dict[str, Limit]:
    """The `limits:` mapping of channels.yaml: {scheme or sms: {per_minute: N, per_day: N}}."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LimitsError("notify/channels.yaml: limits 应为映射，如 limits: {qxdingtalk: {per_minute: 20}}")
    limits = {}
    for name, spec in data.items():
        if not isinstance(spec, dict) or not spec or set(spec) - {"per_minute", "per_day"}:
            raise LimitsError(f"notify/channels.yaml: limits.{name} 只能写 per_minute（每分钟条数）和 per_day（每天条数），如 {{per_minute: 20}}")
        values = {}
        for key, value in spec.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise LimitsError(f"notify/channels.yaml: limits.{name}.{key} 应为正整数，现为 {value!r}")
            values[key] = value
        limits[str(name).lower()] = Limit(**values)
    return limits


def tag(url: str) -> str:
    """A short fingerprint of a channel URL (secrets included, so two robots differ), safe to log: it tells robots
    apart in the delivery log without revealing their tokens."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def bucket(limits: dict[str, Limit], kind: str, url: str) -> tuple[str, Limit] | None:
    """(the bucket this attempt counts in, its limit), or None when the channel has no limit."""
    if kind in ("sms", "duty"):
        return ("sms", limits["sms"]) if "sms" in limits else None
    scheme = url.split("://", 1)[0].lower()
    return (f"{scheme}#{tag(url)}", limits[scheme]) if scheme in limits else None


def in_bucket(name: str, attempt: dict) -> bool:
    """Whether a delivery-log row (as a dict) counts in the bucket `name`."""
    if name == "sms":
        return attempt["channel"] in ("sms", "duty")
    return attempt["channel"] == "chat" and attempt["url"].endswith(f"#{name.split('#', 1)[1]}")


def room_at(session, name: str, limit: Limit, now: datetime, unlogged: Sequence[datetime] = ()) -> datetime | None:
    """None when the bucket has room at `now`, else the moment it will. Reads the delivery log, so it sees every
    scanner's committed attempts; on PostgreSQL the caller holds `hold(session, name)` so none are in flight.
    `unlogged`: the moments of the caller's own attempts in this bucket not yet in the log."""
    attempts = select(col(DeliveryRow.at))
    if name == "sms":
        attempts = attempts.where(col(DeliveryRow.channel).in_(("sms", "duty")))
    else:
        attempts = attempts.where(col(DeliveryRow.channel) == "chat", col(DeliveryRow.url).like(f"%#{name.split('#', 1)[1]}"))
    if limit.per_minute:
        recent = list(
            session.execute(attempts.where(col(DeliveryRow.at) > now - MINUTE).order_by(col(DeliveryRow.at).desc()).limit(limit.per_minute)).scalars()
        )
        recent = sorted(recent + [at for at in unlogged if at > now - MINUTE], reverse=True)[: limit.per_minute]
        if len(recent) >= limit.per_minute:
            return recent[-1] + MINUTE  # the moment the oldest of the last `per_minute` leaves the window
    if limit.per_day:
        day = datetime.combine(now.astimezone(SHANGHAI).date(), time(), tzinfo=SHANGHAI).astimezone(UTC)
        sent_today = session.execute(select(func.count()).select_from(attempts.where(col(DeliveryRow.at) >= day).subquery())).scalar_one()
        sent_today += sum(at >= day for at in unlogged)
        if sent_today >= limit.per_day:
            return day + timedelta(days=1)
    return None


def hold(session, name: str) -> None:
    """On PostgreSQL, take the bucket's lock until the session's transaction ends, so scanners count and send
    through one bucket one at a time (SQLite has one scanner: nothing to take)."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
