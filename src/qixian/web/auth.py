"""Signing in to the dashboard: salted scrypt password hashes, sessions held in the store, CSRF tokens for forms.

A session's cookie is a random id; the store holds its digest, the officer and when it expires (SESSION_HOURS
after signing in). Signing out, a new password or removing the account deletes it there, so the cookie stops
working at once, wherever it was copied to. Every form carries a token keyed on the session's id (before sign-in,
on a nonce cookie), so a page from elsewhere cannot post for the officer. Guessing is held back: repeated failures
for an officer id, or from an address, pause signing in (the limits: qixian.store.signins)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets

from qixian.alerting.signing import keyed

SESSION_COOKIE = "qixian_session"
NONCE_COOKIE = "qixian_nonce"  # before sign-in: what the login form's CSRF token is keyed on
SESSION_HOURS = 12
MIN_PASSWORD = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # about 50 ms per check here; 16 MiB of memory


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` (base64) of the password with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "$".join(["scrypt", str(_SCRYPT["n"]), str(_SCRYPT["r"]), str(_SCRYPT["p"]), base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def check_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches the stored hash; a missing hash costs the same time and is False."""
    if not stored:
        hash_password(password)  # no user: spend the same time, so timing does not say which ids exist
        return False
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), dklen=len(expected), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return kind == "scrypt" and hmac.compare_digest(got, expected)


TRUSTED_PROXIES_ENV = "QIXIAN_TRUSTED_PROXIES"


def trusted_proxies(addresses: list[str] | None = None) -> tuple[str, ...]:
    """The reverse proxies whose X-Forwarded-For names the browser's address: `addresses` (qixian web
    --trusted-proxy), else $QIXIAN_TRUSTED_PROXIES (comma-separated), each an IP address or network such as
    10.0.0.0/24. None by default: then the address connecting is the browser's, whatever headers it sends, so
    nobody (not even a program on this machine) can choose the address the sign-in pauses count. Raises ValueError
    with a Chinese message for an entry that is neither."""
    if addresses is None:
        addresses = os.environ.get(TRUSTED_PROXIES_ENV, "").split(",")
    chosen = tuple(a.strip() for a in addresses if a.strip())
    for address in chosen:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise ValueError(
                f"受信任的反向代理 {address!r} 不是 IP 地址或网段（如 127.0.0.1、10.0.0.0/24）：请检查 --trusted-proxy 或环境变量 {TRUSTED_PROXIES_ENV}"
            ) from None
    return chosen


def password_problem(password: str, again: str | None = None) -> str | None:
    """What is wrong with a new password, in Chinese, or None."""
    if again is not None and password != again:
        return "两次输入的密码不一致"
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 个字符"
    if password.isdigit() or password.isalpha():
        return "密码不能只有数字或只有字母"
    return None


def new_session() -> str:
    """The cookie value of a fresh session: a random id (the store keeps only its `session_key`)."""
    return secrets.token_urlsafe(32)


def session_key(cookie: str) -> str:
    """What the store holds of a session's cookie: its SHA-256, hex."""
    return hashlib.sha256(cookie.encode()).hexdigest()


def csrf_token(secret: bytes, nonce: str) -> str:
    return keyed(secret, "csrf", nonce)


def csrf_ok(secret: bytes, nonce: str | None, token: str | None) -> bool:
    if not nonce or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, nonce), token)
