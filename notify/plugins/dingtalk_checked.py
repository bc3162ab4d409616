"""DingTalk (钉钉) custom group robot, checked delivery (qxdingtalk://).

URL syntax:
    qxdingtalk://TOKEN[/PHONE...]
    qxdingtalk://SECRET@TOKEN[/PHONE...]
        [?endpoint=https://oapi.dingtalk.com][&idem=KEY][&timeout=10]

TOKEN is the access_token of the robot's webhook; SECRET (SEC…) is the robot's signing
secret when its security setting is "加签". Each PHONE is @-mentioned: it goes into
at.atMobiles and, as DingTalk requires for the mention to fire, "@PHONE" is appended
to the text.

The request is POST /robot/send?access_token=TOKEN[&timestamp=…&sign=…] with
    {"msgtype": "markdown", "markdown": {"title": title, "text": body}, "at": {...}}
where sign = base64(HMAC-SHA256(SECRET, f"{timestamp}\\n{SECRET}")), URL-encoded
(see sign()). An empty title becomes the first line of the body (DingTalk needs one).

Success means HTTP 200 AND "errcode": 0. DingTalk answers HTTP 200 for refused
messages too (errcode 310000 and others), which apprise's own dingtalk:// plugin
reports as sent; this plugin does not.

Credentials: TOKEN and SECRET are shown when the robot is added to the group (群设置 →
机器人 → 自定义). They reach this URL from environment variables named in the channel
configuration, never from a file in the repo. Neither is ever logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import unquote

from apprise.decorators import notify

from ._http import checked, code_meaning, guarded, json_of, options, post, redact

SERVICE = "qxdingtalk"
DEFAULT_ENDPOINT = "https://oapi.dingtalk.com"

# https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages  (错误码)
# https://open.dingtalk.com/document/orgapp/customize-robot-security-settings  (加签)
DOCS_URL = "https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages"
ERROR_CODES: dict[int, str] = {
    -1: "系统繁忙，请稍后重试",
    40035: "缺少参数（请求体不是合法 JSON）",
    43004: "无效的 HTTP Content-Type",
    130101: "发送过快：每个机器人每分钟最多 20 条",
    300001: "access_token 无效（机器人已被移除或 token 填错）",
    310000: "消息校验未通过：签名不匹配、时间戳无效、关键词不匹配或 IP 不在白名单",
    400013: "群已被解散",
    400101: "access_token 不存在",
    400102: "机器人已停用",
    400105: "不支持的消息类型",
    400106: "机器人不存在",
    410100: "发送速度太快而被限流",
    430101: "含有不安全的外链",
    430102: "含有不合适的文本",
    430103: "含有不合适的图片",
    430104: "含有不合适的内容",
}

_PHONE = re.compile(r"^\+?\d{5,20}$")


def sign(secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")); the caller URL-encodes it."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def meaning(code: Any) -> str:
    """The Chinese meaning of a DingTalk errcode, or a pointer to the docs."""
    return code_meaning(ERROR_CODES, DOCS_URL, code)


def _send(body: str, title: str, meta: dict, secrets: list[str]) -> bool:
    timeout, endpoint, headers = options(meta)
    secret, token = secrets
    if not token:
        raise ValueError("缺少 access_token：qxdingtalk://[SECRET@]TOKEN[/PHONE...]")
    phones = [p for p in (meta.get("fullpath") or "").split("/") if p]
    bad = [p for p in phones if not _PHONE.match(p)]
    if bad:
        raise ValueError(f"@ 的手机号格式不对：{', '.join(bad)}")

    params = {"access_token": token}
    if secret:
        params["timestamp"] = str(int(time.time() * 1000))
        params["sign"] = sign(secret, params["timestamp"])
    text = body + ("\n\n" + " ".join(f"@{p}" for p in phones) if phones else "")
    heading = title or (body.strip().splitlines() or ["期限提醒"])[0][:60]
    message = {
        "msgtype": "markdown",
        "markdown": {"title": heading, "text": text},
        "at": {"atMobiles": phones, "isAtAll": False},
    }
    headers["Content-Type"] = "application/json; charset=utf-8"
    answer = post(
        SERVICE,
        (endpoint or DEFAULT_ENDPOINT) + "/robot/send",
        timeout=timeout,
        secrets=secrets,
        params=params,
        headers=headers,
        data=json.dumps(message, ensure_ascii=False).encode("utf-8"),
    )
    if answer is None:
        return False
    data = json_of(answer) or {}
    code = data.get("errcode")
    return checked(SERVICE, answer, "errcode", code, meaning(code), redact(str(data.get("errmsg") or ""), secrets))


@notify(on=SERVICE, name="DingTalk robot (Qixian, checked)")
def send(body, title, notify_type, meta, *args, **kwargs):
    """Post a markdown message to the group; True only on errcode 0."""
    secrets = [unquote(meta.get("user") or ""), meta.get("host") or ""]
    return guarded(SERVICE, secrets, lambda: _send(body, title, meta, secrets))
