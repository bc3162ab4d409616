"""Why sending fails, read from the delivery log in one place for the scan's output, the scan flow's log,
`qixian health` (the channels check) and the case page: each kind of channel whose last attempt failed, with the
provider's (or the configuration's) reason, when, and what to do; and the reason a pending reminder is waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import col

from qixian.legaltime.localtime import SHANGHAI, display
from qixian.store.repository import Store
from qixian.store.tables import DeliveryRow, OutboxRow, OutboxStatus

LOOKED_BACK = timedelta(days=7)  # attempts older than this say nothing about a channel now
CHANNELS = {"chat": "工作群", "sms": "短信", "duty": "值班电话", "config": "渠道配置", "none": "提醒渠道"}
TO_DO = {
    "chat": "核对名录中该民警的工作群地址（urls）与机器人密钥，或工作群机器人是否被停用",
    "sms": "核对 notify/channels.yaml 的短信网关地址（sms）与短信平台账户",
    "duty": "核对单位的值班电话与 notify/channels.yaml 的短信网关地址",
    "config": "按原因设置所缺的环境变量或改正 notify/channels.yaml，下一次扫描会补发",
    "none": "在名录中为该民警补充工作群地址（urls）或手机号，或为单位补充值班电话（qixian directory load）",
}


@dataclass(frozen=True)
class Failure:
    channel: str  # chat | sms | duty | config | none
    reason: str
    at: datetime
    recipient: str

    @property
    def label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def to_do(self) -> str:
        return TO_DO.get(self.channel, "查看发送记录（qixian audit）")

    def line(self) -> str:
        """One line for people: which channel, since when, why, and what to do."""
        return f"{self.label}发送失败（{display(self.at)}，{self.recipient}）：{self.reason}。处理：{self.to_do}"

    def as_dict(self) -> dict:
        return {
            "channel": self.channel,
            "label": self.label,
            "reason": self.reason,
            "at": self.at.astimezone(SHANGHAI).isoformat(),
            "recipient": self.recipient,
            "to_do": self.to_do,
        }


def reason(answer: str) -> str:
    """The provider's answer, or the configuration's message, as one short line."""
    lines = [line.strip() for line in (answer or "").splitlines() if line.strip()]
    return (lines[-1] if lines else "渠道没有给出原因")[:300]


def failing(store: Store, now: datetime) -> list[Failure]:
    """Each kind of channel whose last attempt (within LOOKED_BACK of `now`) failed. An attempt that found no
    usable channel or configuration (config, none) counts until its recipient was later reached some other way."""
    since = (now - LOOKED_BACK).astimezone(UTC)
    with store.session() as session:
        last = select(func.max(DeliveryRow.id)).where(col(DeliveryRow.at) >= since).group_by(DeliveryRow.channel)
        failed = select(DeliveryRow).where(col(DeliveryRow.id).in_(last), col(DeliveryRow.ok).is_(False)).order_by(DeliveryRow.channel)
        rows = list(session.execute(failed).scalars())
        found = []
        for row in rows:
            if (
                row.channel in ("config", "none")
                and session.execute(
                    select(col(DeliveryRow.id))
                    .where(col(DeliveryRow.id) > row.id, col(DeliveryRow.recipient) == row.recipient)
                    .where(col(DeliveryRow.ok).is_(True))
                    .limit(1)
                ).first()
            ):
                continue
            found.append(Failure(row.channel, reason(row.answer), _aware(row.at), row.recipient))
    directory = store.directory()
    return [Failure(f.channel, f.reason, f.at, directory.name_of(f.recipient)) for f in found]


def waiting_because(store: Store, rows: list[OutboxRow]) -> dict[int, Failure]:
    """{outbox id: its last failed attempt} for the pending reminders among `rows` that were tried and failed."""
    pending = [r for r in rows if r.status == OutboxStatus.PENDING and r.attempts]
    if not pending:
        return {}
    wanted: dict[str, int] = {}
    for r in pending:
        assert r.id is not None, "a reminder read from the store has its id"
        wanted[r.key] = r.id
    found: dict[int, Failure] = {}
    with store.session() as session:
        attempts = session.execute(
            select(DeliveryRow)
            .where(col(DeliveryRow.recipient).in_({r.recipient for r in pending}), col(DeliveryRow.ok).is_(False))
            .order_by(col(DeliveryRow.id).desc())
            .limit(50 * len(pending))
        ).scalars()
        for attempt in attempts:
            for key in attempt.keys:
                if key in wanted and wanted[key] not in found:
                    found[wanted[key]] = Failure(attempt.channel, reason(attempt.answer), _aware(attempt.at), attempt.recipient)
            if len(found) == len(wanted):
                break
    return found


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
