"""Feishu (飞书) custom group robot, checked delivery (qxfeishu://).

URL syntax:
    qxfeishu://TOKEN
    qxfeishu://TOKEN?secret=SECRET
        [&endpoint=https://open.feishu.cn][&idem=KEY][&timeout=10]

TOKEN is the last part of the webhook address
(https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN). SECRET is the robot's signing
secret when its security setting is "签名校验".

The request is POST /open-apis/bot/v2/hook/TOKEN with
    {"msg_type": "text", "content": {"text": body}}
plus "timestamp" (seconds) and "sign" when a secret is set, where
sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{SECRET}", message=b"")) (see sign()).
The title is not sent (a text message has no title field).

Success means HTTP 200 AND a zero code: "code" in current answers, "StatusCode" in
older ones; when both are present, "code" decides. Feishu answers HTTP 200 for refused
messages too (code 19021 and others), which apprise's own feishu:// plugin reports as
sent; this plugin does not.

Credentials: the webhook address and secret are shown when the robot is added to the
group (群设置 → 群机器人 → 自定义机器人). Both reach this URL from environment variables
named in the channel configuration, never from a file in the repo. Neither is logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from apprise.decorators import notify

from ._http import checked, code_meaning, guarded, json_of, options, post, redact

SERVICE = "qxfeishu"
DEFAULT_ENDPOINT = "https://open.feishu.cn"

# https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot  (自定义机器人使用指南，含常见错误码)
DOCS_URL = "https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot"
ERROR_CODES: dict[int, str] = {
    9499: "请求参数错误（Bad Request）：JSON 格式或 msg_type 不对",
    11232: "触发频率限制：自定义机器人每分钟最多 100 次、每秒最多 5 次",
    19001: "webhook 地址无效：token 填错或机器人已被删除",
    19021: "签名校验失败：secret 错误，或时间戳与飞书服务器相差超过 1 小时",
    19022: "IP 不在机器人设置的白名单内",
    19024: "关键词校验失败：消息中不含机器人设置的关键词",
}


def sign(secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256 keyed with "<timestamp>\\n<secret>" over an empty message)."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def meaning(code: Any) -> str:
    """The Chinese meaning of a Feishu code, or a pointer to the docs."""
    return code_meaning(ERROR_CODES, DOCS_URL, code)


def _send(body: str, meta: dict, secrets: list[str]) -> bool:
    timeout, endpoint, headers = options(meta)
    token, secret = secrets
    if not token:
        raise ValueError("缺少机器人 token：qxfeishu://TOKEN[?secret=SECRET]")
    message: dict[str, Any] = {"msg_type": "text", "content": {"text": body}}
    if secret:
        timestamp = str(int(time.time()))
        message = {"timestamp": timestamp, "sign": sign(secret, timestamp), **message}
    headers["Content-Type"] = "application/json; charset=utf-8"
    answer = post(
        SERVICE,
        f"{endpoint or DEFAULT_ENDPOINT}/open-apis/bot/v2/hook/{token}",
        timeout=timeout,
        secrets=secrets,
        headers=headers,
        data=json.dumps(message, ensure_ascii=False).encode("utf-8"),
    )
    if answer is None:
        return False
    data = json_of(answer) or {}
    code = data["code"] if "code" in data else data.get("StatusCode")  # both present: code decides
    detail = redact(str(data.get("msg") or data.get("StatusMessage") or ""), secrets)
    return checked(SERVICE, answer, "code", code, meaning(code), detail)


@notify(on=SERVICE, name="Feishu robot (Qixian, checked)")
def send(body, title, notify_type, meta, *args, **kwargs):
    """Post a text message to the group; True only on code 0."""
    secrets = [meta.get("host") or "", (meta.get("qsd") or {}).get("secret") or ""]
    return guarded(SERVICE, secrets, lambda: _send(body, meta, secrets))
