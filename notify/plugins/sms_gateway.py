"""Generic HTTP SMS gateway, checked delivery (qxsms://).

URL syntax:
    qxsms://HOST[:PORT]/PATH?phones=13800000000,13900000000[&scheme=http|https][&token=TOKEN]
        [&endpoint=http://127.0.0.1:8080][&idem=KEY][&timeout=10]

Most bureaus run an internal SMS platform. This plugin POSTs
    {"phones": ["13800000000", ...], "text": <body>}
as UTF-8 JSON to scheme://HOST[:PORT]/PATH (scheme defaults to https), with
"Authorization: Bearer TOKEN" when token= is given. ?endpoint= replaces
scheme://HOST[:PORT] and keeps PATH. The title is not sent; an SMS is its body.

Success means HTTP 2xx and, when the JSON answer has a "code", that code is one of
0, "0", 200 or "OK". A 2xx answer without a code (or without JSON) counts as accepted.

Credentials: TOKEN is issued by the bureau's SMS platform. It reaches this URL from an
environment variable named in the channel configuration, never from a file in the repo.
The token is never logged.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests
from apprise.decorators import notify

from ._http import LOG_BODY_CHARS, code_meaning, guarded, log, options, post, redact

SERVICE = "qxsms"
OK_CODES = (0, "0", 200, "OK")

# There is no public documentation: every bureau's platform has its own interface
# document. These are the HTTP-style codes such platforms conventionally put in "code";
# add the local platform's codes here when it documents others.
DOCS_URL = "（各单位短信平台接口文档）"
ERROR_CODES: dict[int, str] = {
    400: "请求参数错误（号码或短信内容不合法）",
    401: "未认证：令牌缺失、错误或已过期",
    403: "无权限：令牌无权调用该接口，或来源 IP 不在白名单",
    404: "接口路径不存在，请核对 URL 中的 PATH",
    409: "重复请求：该幂等键已处理过，请核对是否已送达",
    413: "短信内容过长",
    429: "发送频率超限，请稍后重试",
    500: "短信平台内部错误",
    502: "短信平台的上游（运营商通道）出错",
    503: "短信平台暂不可用",
}

_PHONE = re.compile(r"^\+?\d{5,20}$")


def meaning(code: Any) -> str:
    """The Chinese meaning of a gateway code (500 or "500"), or a pointer to the docs for unknown ones."""
    return code_meaning(ERROR_CODES, DOCS_URL, code)


def _json(answer: requests.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _send(body: str, meta: dict) -> bool:
    timeout, endpoint, headers = options(meta)
    qsd = meta.get("qsd") or {}
    token = qsd.get("token") or ""
    phones = [p for p in re.split(r"[\s,;]+", qsd.get("phones") or "") if p]
    if not phones:
        raise ValueError("缺少接收号码：phones=13800000000,13900000000")
    bad = [p for p in phones if not _PHONE.match(p)]
    if bad:
        raise ValueError(f"号码格式不对：{', '.join(bad)}")
    path = meta.get("fullpath") or "/"
    if endpoint:
        url = endpoint + path
    else:
        scheme = (qsd.get("scheme") or "https").lower()
        if scheme not in ("http", "https"):
            raise ValueError("scheme 只能是 http 或 https")
        if not meta.get("host"):
            raise ValueError("缺少短信平台主机名：qxsms://HOST[:PORT]/PATH")
        port = f":{meta['port']}" if meta.get("port") else ""
        url = f"{scheme}://{meta['host']}{port}{path}"
    headers["Content-Type"] = "application/json; charset=utf-8"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = json.dumps({"phones": phones, "text": body}, ensure_ascii=False).encode("utf-8")

    answer = post(SERVICE, url, timeout=timeout, secrets=[token], data=payload, headers=headers)
    if answer is None:
        return False
    data = _json(answer)
    code = data.get("code") if isinstance(data, dict) else None
    message = ""
    if isinstance(data, dict):
        message = str(data.get("msg") or data.get("message") or data.get("errmsg") or "")
    if not 200 <= answer.status_code < 300:
        shown = code if code is not None else answer.status_code
        detail = f", code={code}" if code is not None else ""
        detail += f"（{meaning(shown)}）"
        log.warning("%s failed: HTTP %s%s %s", SERVICE, answer.status_code, detail, redact(message, [token])[:LOG_BODY_CHARS])
        return False
    if isinstance(data, dict) and "code" in data and code not in OK_CODES:
        log.warning("%s failed: HTTP %s, code=%s（%s）%s", SERVICE, answer.status_code, code, meaning(code), redact(message, [token])[:LOG_BODY_CHARS])
        return False
    return True


@notify(on=SERVICE, name="Qixian SMS gateway (checked)")
def send(body, title, notify_type, meta, *args, **kwargs):
    """Send one SMS through the bureau gateway; True only when the gateway confirms it."""
    token = (meta.get("qsd") or {}).get("token") or ""
    return guarded(SERVICE, [token], lambda: _send(body, meta))
