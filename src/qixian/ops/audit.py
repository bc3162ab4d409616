"""The delivery log as evidence: append-only (the database refuses UPDATE and DELETE, migration 0003) and
tamper-evident. Each row's `hash` chains the previous row's hash and the row's own content (including the hash of
the message text it sent), in id order, so changing, removing or reordering a row breaks the chain from that row
on; `verify` names the first such row.

Someone who can write to the database can drop the guard, change a row and recompute every hash after it. Against
that the chain is keyed: with the audit key ($QIXIAN_AUDIT_KEY, or the file named by $QIXIAN_AUDIT_KEY_FILE), kept
outside the database, each link is an HMAC, which cannot be recomputed without the key. Each row says how it was
hashed (`seal`): "" rows come from before migration 0010 (sha256, no message text), "sha256" rows were written
without a key, "hmac:<key id>" rows with one. A weaker seal after a stronger one is itself a break.

Cutting rows off the end (or deleting them all) leaves a valid chain; the end is made verifiable from outside by a
checkpoint: the count and the hash of the last row, tagged with the key, sent to ops every day and kept by them.
`verify` against kept checkpoints finds a log that is shorter, or whose row at that count hashes otherwise. The last
row a scan saw is also recorded with the scan (scan_runs), a weaker check inside the database."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from qixian.legaltime.localtime import SHANGHAI, display
from qixian.store.deliverylog import (
    KEY_ENV,
    KEY_FILE_ENV,
    KEYED,
    LEGACY,
    NO_KEY,
    AuditKeyError,
    _rank,
    append,
    key_id,
    row_hash,
    signing_key,
    text_hash,
)
from qixian.store.repository import Store
from qixian.store.tables import DeliveryRow, ScanRunRow

_TAG = 32  # hex characters of a checkpoint's tag (128 bits)
# The chain as written (qixian.store.deliverylog), read by ops and its commands through this module too:
__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "NO_KEY",
    "AuditKeyError",
    "Broken",
    "Checkpoint",
    "Verified",
    "append",
    "checkpoint",
    "checkpoint_text",
    "described",
    "key_id",
    "read_checkpoints",
    "send_checkpoint",
    "signing_key",
    "text_hash",
    "verify",
]

if TYPE_CHECKING:
    from qixian.alerting.delivery import Told


@dataclass(frozen=True)
class Checkpoint:
    """The end of the log at one moment: `count` rows, the last hashing to `head` ("" when empty), tagged with
    the audit key so a forged or altered one is refused. Kept outside the database, as one line of text."""

    count: int
    head: str
    at: datetime
    tag: str

    @classmethod
    def make(cls, key: bytes, count: int, head: str, at: datetime) -> Checkpoint:
        at = at.astimezone(SHANGHAI).replace(microsecond=0)
        return cls(count, head, at, _checkpoint_tag(key, count, head, at))

    @property
    def line(self) -> str:
        return f"QXAUDIT1 count={self.count} head={self.head or '-'} at={self.at.isoformat()} tag={self.tag}"


def _checkpoint_tag(key: bytes, count: int, head: str, at: datetime) -> str:
    data = f"checkpoint\0{count}\0{head}\0{at.isoformat()}".encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:_TAG]


_CHECKPOINT = re.compile(rf"QXAUDIT1 count=(\d{{1,15}}) head=([0-9a-f]{{64}}|-) at=(\S{{1,40}}) tag=([0-9a-f]{{{_TAG}}})\b")


def read_checkpoints(found_in: str, key: bytes | None) -> list[Checkpoint]:
    """Every checkpoint line in `found_in` (a line, or a file of kept messages), each checked against the key.
    Raises AuditKeyError for a missing key, ValueError (in Chinese) for none found or one whose tag is wrong."""
    lines = [line for line in found_in.splitlines() if "QXAUDIT1" in line]
    if not lines:
        raise ValueError("没有找到检查点（形如 QXAUDIT1 count=... head=... at=... tag=... 的一行）")
    if key is None:
        raise AuditKeyError(f"核对检查点需要签发它的审计密钥：{NO_KEY}")
    kept = []
    for line in lines:
        match = _CHECKPOINT.search(line)
        try:
            at = datetime.fromisoformat(match[3]) if match else None
        except ValueError:
            at = None
        if match is None or at is None or at.tzinfo is None:
            raise ValueError(f"检查点格式不对：{line.strip()[:200]}")
        point = Checkpoint(int(match[1]), "" if match[2] == "-" else match[2], at, match[4])
        if not hmac.compare_digest(point.tag, _checkpoint_tag(key, point.count, point.head, point.at)):
            raise ValueError(f"检查点签名不符（伪造、被改动，或由另一把审计密钥签发）：{line.strip()[:200]}")
        kept.append(point)
    return kept


@dataclass(frozen=True)
class Broken:
    id: int | None  # the row's id; None when the break is the log's end (rows cut off)
    at: datetime | None
    recipient: str
    reason: str


@dataclass(frozen=True)
class Verified:
    rows: int
    broken: Broken | None
    head: str = ""  # the last row's hash ("" when empty)
    last_at: datetime | None = None
    sealed: int = 0  # rows sealed with the audit key
    unchecked: int = 0  # sealed rows not checked: no key given
    checkpoints: int = 0  # kept checkpoints the log was checked against
    key: str = ""  # the id of the key verified with


def verify(store: Store, key: bytes | None = None, checkpoints: Iterable[Checkpoint] = ()) -> Verified:
    """Recompute the chain from the first row; the first row whose link, seal or content does not match, or the
    first recorded end of the log (a kept checkpoint, then a scan's record) that is gone or hashes otherwise.
    Rows sealed with a key are only linked, not checked, when `key` is None (counted as `unchecked`)."""
    table, runs = DeliveryRow.__table__, ScanRunRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs omit __table__
    checkpoints = sorted(checkpoints, key=lambda point: point.count)
    count, prev, strongest, sealed, unchecked, last_at, seen, at_count = 0, "", 0, 0, 0, None, {}, {}
    positions = {point.count for point in checkpoints}
    mine = key_id(key) if key else ""

    def done(broken: Broken | None) -> Verified:
        return Verified(count, broken, prev, last_at, sealed, unchecked, len(checkpoints), mine)

    with store.engine.connect() as connection:
        recorded = connection.execute(
            select(runs.c.audit_id, runs.c.audit_hash, runs.c.finished_at).where(runs.c.audit_id.is_not(None)).order_by(runs.c.audit_id)
        ).all()
        wanted = {audit_id for audit_id, _, _ in recorded}
        result = connection.execution_options(yield_per=2000).execute(select(table).order_by(table.c.id)).mappings()
        for row in result:
            count += 1
            problem = _row_problem(row, prev, strongest, key, mine)
            if problem:
                return done(Broken(row["id"], row["at"], row["recipient"], problem))
            rank = _rank(row["seal"])
            strongest, sealed = max(strongest, rank), sealed + (rank == 2)
            unchecked += rank == 2 and key is None
            prev, last_at = row["hash"], row["at"]
            if row["id"] in wanted:
                seen[row["id"]] = prev
            if count in positions:
                at_count[count] = prev
    for point in checkpoints:
        if point.count > count:
            return done(Broken(None, None, "", f"检查点（{display(point.at)}）时有 {point.count} 条记录，现只有 {count} 条：记录被截断或删除"))
        if at_count.get(point.count, "") != point.head:
            return done(Broken(None, None, "", f"第 {point.count} 条记录的哈希与检查点（{display(point.at)}）不符：此前的记录被改动、删除或重算"))
    for audit_id, audit_hash, finished_at in recorded:
        if seen.get(audit_id) != audit_hash:
            return done(Broken(audit_id, None, "", f"扫描（{display(finished_at)}）结束时记录的末条已不存在或被改动（记录被截断）"))
    return done(None)


def _row_problem(row: Mapping, prev: str, strongest: int, key: bytes | None, mine: str) -> str:
    """Why one row breaks the chain, in Chinese; "" when it holds."""
    if row["prev_hash"] != prev:
        return "与前一条记录的链接不符（前一条被改动、删除，或本条被插入）"
    seal = row["seal"]
    if _rank(seal) < strongest or (seal == LEGACY and row["text_hash"]):
        return "本条的封印弱于前面的记录（写入时未配置审计密钥，或本条起的记录被改写后重算）"
    if _rank(seal) == 2:
        if key is None:
            return ""
        if seal != f"{KEYED}{mine}":
            return f"本条用另一把审计密钥（编号 {seal[len(KEYED) :]}）封印，当前密钥编号 {mine}：密钥未更换的，本条被改动"
    if not hmac.compare_digest(row_hash(prev, row, key), row["hash"]):
        return "内容与其哈希不符（本条被改动）"
    return ""


def checkpoint(store: Store, key: bytes, now: datetime) -> tuple[Verified, Checkpoint | None]:
    """Verify the whole log with the key and, if it holds, a checkpoint of its end as of `now` (none otherwise:
    a checkpoint must never vouch for a broken log)."""
    verified = verify(store, key)
    return verified, None if verified.broken else Checkpoint.make(key, verified.rows, verified.head, now)


def checkpoint_text(point: Checkpoint) -> str:
    """The message that carries a checkpoint to the people who keep it."""
    return (
        f"{display(point.at)} 发送记录共 {point.count} 条，哈希链核对无误。请把下面一行保存在数据库之外（保留本消息即可）；"
        f'核对时运行 qixian audit verify --checkpoint "这一行"，可发现此后被删去的记录或被重算的链条：\n{point.line}'
    )


def described(broken: Broken) -> str:
    """Where the chain breaks and why, in one Chinese sentence."""
    where = f"发送记录第 {broken.id} 条" if broken.id is not None else "发送记录"
    when = f"（{display(broken.at)}，{broken.recipient}）" if broken.at else ""
    return f"{where}{when}：{broken.reason}。"


def send_checkpoint(verified: Verified, point: Checkpoint | None, config, send=None) -> list[Told]:
    """Send the checkpoint, or where the log breaks if it could not be made, to ops and the audit channels of
    notify/channels.yaml (`ops:`, `audit:`); nothing is sent when neither is configured."""
    from qixian.alerting.delivery import tell

    if point is not None:
        title, body = "发送记录检查点", checkpoint_text(point)
    else:
        assert verified.broken is not None, "checkpoint() withholds a checkpoint only from a log that breaks"
        title, body = "发送记录核对失败", f"{described(verified.broken)}请运行 qixian audit verify，并从备份核对。"
    return tell(dict.fromkeys(config.ops + config.audit), title, body, config.plugins, send)
