"""Signed tokens (HMAC-SHA256 with the dashboard's secret key, $QIXIAN_WEB_SECRET): the acknowledgement link in a
chat message, and the dashboard's form tokens. The scan signs links and the dashboard checks them, so both read
the same key. A token is `payload.signature`, both base64url; the purpose is signed too, so a token made for one
use is refused for another."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from datetime import datetime, timedelta

SECRET_ENV = "QIXIAN_WEB_SECRET"
MIN_SECRET = 32  # characters: `python -c "import secrets; print(secrets.token_urlsafe(48))"` gives 64
LINK_LIFETIME = timedelta(days=7)  # an acknowledgement link works this long after the message was composed


class SigningError(ValueError):
    """No usable secret key; the message says how to set one."""


class BadToken(ValueError):
    """A token that is forged, altered, made for another purpose or expired; the message says which, in Chinese."""


def web_secret(value: str | None = None) -> bytes:
    """The secret key: `value`, else $QIXIAN_WEB_SECRET. Raises SigningError if missing or too short."""
    secret = value if value is not None else os.environ.get(SECRET_ENV, "")
    if len(secret) < MIN_SECRET:
        raise SigningError(
            f'密钥 {SECRET_ENV} 未设置或少于 {MIN_SECRET} 个字符：请设置为随机字符串，例如 python3 -c "import secrets; print(secrets.token_urlsafe(48))" 的输出'
        )
    return secret.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: str, payload: bytes) -> bytes:
    return hmac.new(secret, purpose.encode() + b"\0" + payload, hashlib.sha256).digest()


def sign(secret: bytes, purpose: str, value) -> str:
    """A token carrying the JSON value `value`, signed for `purpose`."""
    payload = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, purpose, payload))}"


def unsign(secret: bytes, purpose: str, token: str):
    """The value a token carries, if its signature for `purpose` is right; raises BadToken otherwise."""
    try:
        payload_text, mac_text = token.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, TypeError):
        raise BadToken("链接或登录信息不完整") from None
    if not hmac.compare_digest(mac, _mac(secret, purpose, payload)):
        raise BadToken("链接或登录信息无效（签名不符）")
    return json.loads(payload)


def keyed(secret: bytes, purpose: str, text: str) -> str:
    """A short keyed digest of `text` (a CSRF token for a session nonce): hex, 32 characters."""
    return _mac(secret, purpose, text.encode()).hex()[:32]


def ack_token(secret: bytes, outbox_id: int, officer: str, expires: datetime) -> str:
    """The token of an acknowledgement link: reminder `outbox_id`, sent to `officer`, usable until `expires`."""
    return sign(secret, "ack", [outbox_id, officer, int(expires.timestamp())])


def read_ack_token(secret: bytes, token: str, now: datetime) -> tuple[int, str]:
    """(outbox id, officer) of a valid, unexpired acknowledgement token; raises BadToken otherwise."""
    value = unsign(secret, "ack", token)
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], int) and isinstance(value[1], str) and isinstance(value[2], int)):
        raise BadToken("确认链接内容无效")
    if now.timestamp() > value[2]:
        raise BadToken("确认链接已过期：请登录期限看板确认，或使用最新一条提醒中的链接")
    return value[0], value[1]
