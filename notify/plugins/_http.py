"""What every Qixian channel plugin does the same way: read the common URL options (timeout, endpoint, idem),
POST once and log the provider's answer with secrets hidden, never raise on a network error."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

import requests

log = logging.getLogger("qixian.notify")
# urllib3 logs each request line at DEBUG, query string included: DingTalk's access_token and WeCom's key are in
# it (Feishu's token in the path). Keep that logger above DEBUG whatever level the host process runs at.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

DEFAULT_TIMEOUT = 10.0
LOG_BODY_CHARS = 2000
IDEM_HEADER = "X-Qixian-Idempotency-Key"
# Printable ASCII except "%": anything else in an idempotency key is percent-encoded (UTF-8).
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def code_meaning(codes: dict, docs_url: str, code) -> str:
    """The Chinese meaning of a provider's code, written as the table writes it (DingTalk 310000 or "310000",
    Aliyun "isv.MOBILE_NUMBER_ILLEGAL"), or a pointer to the provider's docs for a code not in the table."""
    for key in (code, str(code)):
        try:
            if key in codes:
                return codes[key]
            if int(key) in codes:
                return codes[int(key)]
        except (TypeError, ValueError):
            continue
    return f"未收录的错误码，见 {docs_url}"


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    return text


def options(meta: dict) -> tuple[float, str | None, dict[str, str]]:
    """(timeout, endpoint override, extra headers) from the URL query; ValueError if invalid."""
    qsd = meta.get("qsd") or {}
    try:
        timeout = float(qsd.get("timeout") or DEFAULT_TIMEOUT)
    except ValueError:
        raise ValueError("timeout 必须是秒数，例如 timeout=10") from None
    if not timeout > 0:
        raise ValueError("timeout 必须大于 0")
    endpoint = qsd.get("endpoint") or None
    if endpoint and not re.match(r"^https?://[^/?#]+", endpoint):
        raise ValueError("endpoint 必须以 http:// 或 https:// 开头，例如 endpoint=http://10.0.0.8:8080")
    headers = {}
    idem = (qsd.get("idem") or "").strip()
    if idem:
        headers[IDEM_HEADER] = quote(idem, safe=_HEADER_SAFE)
    return timeout, endpoint.rstrip("/") if endpoint else None, headers


def post(service: str, url: str, *, timeout: float, secrets: list[str], **kwargs) -> requests.Response | None:
    """POST once and log the answer; None after a network error (logged, never raised)."""
    try:
        answer = requests.post(url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        log.warning("%s failed: %s %s", service, type(exc).__name__, redact(str(exc), secrets)[:500])
        return None
    log.info("%s answer: HTTP %s %s", service, answer.status_code, redact(answer.text, secrets)[:LOG_BODY_CHARS])
    return answer


def json_of(answer: requests.Response) -> dict | None:
    """The provider's JSON answer as a dict, or None when it is not one."""
    try:
        data = answer.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def checked(service: str, answer: requests.Response, field: str, code, meaning: str, detail: str = "") -> bool:
    """True when the provider accepted (HTTP 200 and code 0); otherwise log its refusal — the code under its own
    field name and the code's Chinese meaning — and return False."""
    if answer.status_code == 200 and code == 0:
        return True
    if code is None:
        log.warning("%s failed: HTTP %s, no %s in the answer", service, answer.status_code, field)
    else:
        log.warning("%s failed: HTTP %s, %s=%s（%s）%s", service, answer.status_code, field, code, meaning, detail[:LOG_BODY_CHARS])
    return False


def guarded(service: str, secrets: list[str], send) -> bool:
    """Run a plugin's send(): a configuration mistake (ValueError) or anything unexpected is logged with the
    secrets hidden and counts as not sent — a plugin never raises into apprise."""
    try:
        return bool(send())
    except ValueError as exc:
        log.warning("%s failed: 配置错误：%s", service, redact(str(exc), secrets))
    except Exception as exc:
        log.warning("%s failed: unexpected %s %s", service, type(exc).__name__, redact(str(exc), secrets)[:500])
    return False
