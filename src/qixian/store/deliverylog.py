"""The delivery log's hash chain as it is written: the audit key, each row's seal and hash, appending rows at the end
of the chain, and its head. Verifying the chain and its checkpoints is qixian.ops.audit's (which explains the chain);
this part sits below the sending (qixian.alerting.delivery) that writes the log."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import stat
from collections.abc import Iterable, Mapping
from datetime import UTC
from pathlib import Path

from sqlalchemy import select, text
from sqlmodel import Session

from qixian.store.repository import Store
from qixian.store.tables import DeliveryRow

CONTENT = ("at", "recipient", "keys", "attempt", "channel", "url", "ok", "answer", "text_hash", "seal")
KEY_ENV, KEY_FILE_ENV = "QIXIAN_AUDIT_KEY", "QIXIAN_AUDIT_KEY_FILE"
MIN_KEY = 32  # characters: `python3 -c "import secrets; print(secrets.token_urlsafe(48))"` gives 64
LEGACY, PLAIN, KEYED = "", "sha256", "hmac:"  # seals, weakest first
NO_KEY = f"未配置审计密钥（{KEY_ENV} 或 {KEY_FILE_ENV}），链条可被有权写库者重算"
_LOCK = 0x71786175  # PostgreSQL advisory lock: one writer extends the chain at a time
log = logging.getLogger("qixian.ops.audit")  # (where operators look for it)


class AuditKeyError(ValueError):
    """The audit key is set but unusable, or needed and missing; the message says what to do, in Chinese."""


def signing_key() -> bytes | None:
    """The audit key: $QIXIAN_AUDIT_KEY, or the contents of the file $QIXIAN_AUDIT_KEY_FILE (which only its owner
    may read); None when neither is set. Raises AuditKeyError when set but unusable."""
    value, path = os.environ.get(KEY_ENV, ""), os.environ.get(KEY_FILE_ENV, "")
    if value and path:
        raise AuditKeyError(f"{KEY_ENV} 与 {KEY_FILE_ENV} 只能设置一个")
    if path:
        value = _key_file(Path(path))
    elif not value:
        return None
    value = value.strip()
    if len(value) < MIN_KEY:
        raise AuditKeyError(f'审计密钥少于 {MIN_KEY} 个字符：请设置为随机字符串，例如 python3 -c "import secrets; print(secrets.token_urlsafe(48))" 的输出')
    return value.encode()


def _key_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise AuditKeyError(f"审计密钥文件 {path} 不是普通文件")
        if mode & 0o077:
            raise AuditKeyError(
                f"审计密钥文件 {path} 可被同组或其他用户读取（权限 {stat.filemode(mode)}）：请运行 chmod 600 {path}，并确认属主是运行 qixian 的用户"
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditKeyError(f"找不到审计密钥文件 {path}（{KEY_FILE_ENV}）") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyError(f"无法读取审计密钥文件 {path}：{exc}") from None


def key_id(key: bytes) -> str:
    """A short name of the key, safe to store and show: which key sealed a row."""
    return hmac.new(key, b"qixian-audit-key-id", hashlib.sha256).hexdigest()[:8]


def seal_of(key: bytes | None) -> str:
    return f"{KEYED}{key_id(key)}" if key else PLAIN


def _rank(seal: str) -> int:
    return 2 if seal.startswith(KEYED) else 1 if seal == PLAIN else 0


def text_hash(title: str, body: str) -> str:
    """The hash of a message's text as sent: sha256 of UTF-8 "title", two newlines, "body"."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


def row_hash(prev_hash: str, row: Mapping, key: bytes | None = None) -> str:
    """The link of one delivery row: its content (times as UTC text) chained to the previous hash. Rows from
    before migration 0010 (no seal) hash as they did then: sha256 without the message text and seal. A keyed row
    needs the key (AuditKeyError otherwise)."""
    seal = row.get("seal") or LEGACY
    at = row["at"]
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    content = [
        prev_hash,
        at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        row["recipient"],
        list(row["keys"]),
        int(row["attempt"]),
        row["channel"],
        row["url"],
        bool(row["ok"]),
        row["answer"],
    ]
    if seal != LEGACY:
        content += [row["text_hash"], seal]
    data = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if seal in (PLAIN, LEGACY):
        return hashlib.sha256(data).hexdigest()
    if key is None:
        raise AuditKeyError(f"用审计密钥封印的记录需要同一密钥才能核对：{NO_KEY}")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def append(session: Session, rows: Iterable[dict], key: bytes | None) -> None:
    """Add delivery rows (CONTENT fields but the seal) at the end of the chain, in the caller's transaction,
    sealed with `key` (signing_key(), read by the caller before it sends anything)."""
    rows = list(rows)
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    _, head, last_seal = _head(session)
    seal = seal_of(key)
    if key is None and _rank(last_seal) == 2:
        log.error("发送记录此前用审计密钥封印，本次写入时%s：qixian audit verify 将指出这一处", NO_KEY)
    for row in rows:
        row = {**row, "seal": seal}
        chained = row_hash(head, row, key)
        session.add(DeliveryRow(**row, prev_hash=head, hash=chained))
        head = chained


def _head(session: Session) -> tuple[int | None, str, str]:
    """(id, hash, seal) of the last row of the delivery log; (None, "", "") when it is empty."""
    table = DeliveryRow.__table__  # type: ignore[attr-defined]  # SQLModel's stubs do not declare __table__
    last = session.execute(select(table.c.id, table.c.hash, table.c.seal).order_by(table.c.id.desc()).limit(1)).first()
    return tuple(last) if last else (None, "", "")


def head(store: Store) -> tuple[int | None, str]:
    """(id, hash) of the last row of the delivery log; (None, "") when it is empty."""
    with store.session() as session:
        return _head(session)[:2]
