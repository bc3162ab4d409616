"""WeCom (企业微信) group robot, checked delivery (qxwecom://).

URL syntax:
    qxwecom://KEY
        [?endpoint=https://qyapi.weixin.qq.com][&idem=KEY][&timeout=10]

KEY is the key= part of the robot's webhook address
(https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY), not the whole address.

The request is POST /cgi-bin/webhook/send?key=KEY with
    {"msgtype": "markdown", "markdown": {"content": body}}
The title is not sent (a WeCom markdown message has no title field); put what the
reader needs into the body. WeCom caps markdown content at 4096 bytes.

Success means HTTP 200 AND "errcode": 0. WeCom answers HTTP 200 for refused messages
too (errcode 93000 and others), which apprise's own wecombot:// plugin reports as sent;
this plugin does not.

Credentials: the webhook address is shown when the robot is added to the group (群设置
→ 群机器人). KEY reaches this URL from an environment variable named in the channel
configuration, never from a file in the repo. It is never logged.
"""

from __future__ import annotations

import json
from typing import Any

from apprise.decorators import notify

from ._http import checked, code_meaning, guarded, json_of, options, post, redact

SERVICE = "qxwecom"
DEFAULT_ENDPOINT = "https://qyapi.weixin.qq.com"

# https://developer.work.weixin.qq.com/document/path/90313  (全局错误码)
# https://developer.work.weixin.qq.com/document/path/91770  (群机器人配置说明)
DOCS_URL = "https://developer.work.weixin.qq.com/document/path/90313"
ERROR_CODES: dict[int, str] = {
    -1: "系统繁忙，请稍后重试",
    40008: "不合法的消息类型",
    40058: "不合法的参数：请求缺少必填字段或内容为空",
    44004: "消息内容为空",
    45002: "消息内容超过长度限制（markdown 最长 4096 字节）",
    45009: "接口调用频率超限：每个机器人每分钟最多 20 条",
    93000: "webhook key 无效：机器人已被移除或 key 填错",
}


def meaning(code: Any) -> str:
    """The Chinese meaning of a WeCom errcode, or a pointer to the docs."""
    return code_meaning(ERROR_CODES, DOCS_URL, code)


def _send(body: str, meta: dict, key: str) -> bool:
    timeout, endpoint, headers = options(meta)
    if not key:
        raise ValueError("缺少机器人 key：qxwecom://KEY")
    headers["Content-Type"] = "application/json; charset=utf-8"
    message = {"msgtype": "markdown", "markdown": {"content": body}}
    answer = post(
        SERVICE,
        (endpoint or DEFAULT_ENDPOINT) + "/cgi-bin/webhook/send",
        timeout=timeout,
        secrets=[key],
        params={"key": key},
        headers=headers,
        data=json.dumps(message, ensure_ascii=False).encode("utf-8"),
    )
    if answer is None:
        return False
    data = json_of(answer) or {}
    code = data.get("errcode")
    return checked(SERVICE, answer, "errcode", code, meaning(code), redact(str(data.get("errmsg") or ""), [key]))


@notify(on=SERVICE, name="WeCom robot (Qixian, checked)")
def send(body, title, notify_type, meta, *args, **kwargs):
    """Post a markdown message to the group; True only on errcode 0."""
    key = meta.get("host") or ""
    return guarded(SERVICE, [key], lambda: _send(body, meta, key))
