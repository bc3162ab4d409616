"""Alibaba Cloud SMS (阿里云短信服务) SendSms, checked delivery (aliyunsms://).

URL syntax:
    aliyunsms://ACCESS_KEY_ID:ACCESS_KEY_SECRET@REGION/PHONE[/PHONE...]
        ?sign=签名&template=SMS_123[&param=text]
        [&endpoint=https://dysmsapi.aliyuncs.com/][&idem=KEY][&timeout=10]

REGION is the RegionId (usually cn-hangzhou). sign= is the approved signature name
(签名), template= the approved template code, param= the template variable that
receives the message body (TemplateParam = {"<param>": body}; default "text").
Percent-encode any '@', ':' or '/' inside the key pair.

The request is the RPC-style SendSms (Version 2017-05-25, Format JSON), POSTed as a
form to the endpoint and signed with HMAC-SHA1 over the sorted, percent-encoded
parameters (SignatureVersion 1.0); see sign_params().

Success means HTTP 200 and "Code": "OK" in the JSON answer.

Credentials: an AccessKey pair of a RAM user that may only call dysms:SendSms, created
in the RAM console. Both halves reach this URL from environment variables named in the
channel configuration, never from a file in the repo. The secret is never logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import uuid
from typing import Any
from urllib.parse import quote, unquote

from apprise.decorators import notify

from ._http import LOG_BODY_CHARS, code_meaning, guarded, log, options, post, redact

SERVICE = "aliyunsms"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"

# https://help.aliyun.com/zh/sms/developer-reference/api-error-codes  (短信服务 API 错误码)
# https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms
DOCS_URL = "https://help.aliyun.com/zh/sms/developer-reference/api-error-codes"
ERROR_CODES: dict[str, str] = {
    "isv.BUSINESS_LIMIT_CONTROL": "业务限流：同一号码发送过于频繁（默认每分钟 1 条、每小时 5 条、每天 10 条）",
    "isv.DAY_LIMIT_CONTROL": "触发日发送限额",
    "isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
    "isv.MOBILE_COUNT_OVER_LIMIT": "手机号码数量超过限制（单次最多 1000 个）",
    "isv.SMS_TEMPLATE_ILLEGAL": "短信模板不合法：模板不存在、未审核通过或不属于本账号",
    "isv.SMS_SIGNATURE_ILLEGAL": "短信签名不合法：签名不存在或未审核通过",
    "isv.SMS_SIGN_ILLEGAL": "签名禁止使用",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板缺少变量：param 与模板变量名不一致",
    "isv.TEMPLATE_PARAMS_ILLEGAL": "模板变量中含有违禁内容",
    "isv.INVALID_JSON_PARAM": "TemplateParam 不是合法 JSON，或变量值不是字符串",
    "isv.INVALID_PARAMETERS": "参数异常",
    "isv.PARAM_LENGTH_LIMIT": "参数超出长度限制（模板变量值过长）",
    "isv.PARAM_NOT_SUPPORT_URL": "模板变量中不支持 URL",
    "isv.BLACK_KEY_CONTROL_LIMIT": "黑名单管控：内容含有禁止发送的关键字",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足",
    "isv.OUT_OF_SERVICE": "业务停机（余额不足）",
    "isv.PRODUCT_UN_SUBSCRIPT": "账号未开通短信服务",
    "isv.ACCOUNT_NOT_EXISTS": "账户不存在",
    "isv.ACCOUNT_ABNORMAL": "账户异常",
    "isv.DENY_IP_RANGE": "来源 IP 所在地区被禁用",
    "isp.RAM_PERMISSION_DENY": "RAM 权限不足：该 AccessKey 无权调用 SendSms",
    "isp.SYSTEM_ERROR": "阿里云系统错误，请稍后重试",
    "SignatureDoesNotMatch": "签名不匹配：AccessKeySecret 错误或签名计算有误",
    "InvalidAccessKeyId.NotFound": "AccessKeyId 不存在",
    "InvalidAccessKeyId.Inactive": "AccessKeyId 已被禁用",
    "InvalidTimeStamp.Expired": "时间戳过期：本机时钟与阿里云相差超过 15 分钟",
    "SignatureNonceUsed": "SignatureNonce 重复使用",
    "MissingPhoneNumbers": "缺少手机号码",
    "Throttling.User": "请求被流控：调用过于频繁",
}

_PHONE = re.compile(r"^\+?\d{5,20}$")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud requires: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return quote(value, safe="~")


def sign_params(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """The Signature of an RPC request (SignatureMethod HMAC-SHA1, SignatureVersion 1.0).

    Accepts every request parameter except Signature (ignored if present) and the
    AccessKeySecret; returns the base64 signature, not yet URL-encoded.
    """
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature")
    string_to_sign = f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode("ascii")


def meaning(code: Any) -> str:
    """The Chinese meaning of an Alibaba Cloud error code, or a pointer to the docs."""
    return code_meaning(ERROR_CODES, DOCS_URL, code)


def _send(body: str, meta: dict, secret: str) -> bool:
    timeout, endpoint, headers = options(meta)
    qsd = meta.get("qsd") or {}
    key_id = unquote(meta.get("user") or "")
    region = meta.get("host") or ""
    phones = [p for p in (meta.get("fullpath") or "").split("/") if p]
    if not (key_id and secret and region):
        raise ValueError("URL 应为 aliyunsms://ACCESS_KEY_ID:ACCESS_KEY_SECRET@REGION/PHONE")
    if not phones:
        raise ValueError("缺少接收号码：aliyunsms://…@REGION/13800000000/13900000000")
    bad = [p for p in phones if not _PHONE.match(p)]
    if bad:
        raise ValueError(f"号码格式不对：{', '.join(bad)}")
    if not qsd.get("sign") or not qsd.get("template"):
        raise ValueError("缺少 sign=（短信签名）或 template=（模板 CODE）")

    params = {
        "AccessKeyId": key_id,
        "Action": "SendSms",
        "Format": "JSON",
        "RegionId": region,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": uuid.uuid4().hex,
        "SignatureVersion": "1.0",
        "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": "2017-05-25",
        "PhoneNumbers": ",".join(phones),
        "SignName": qsd["sign"],
        "TemplateCode": qsd["template"],
        "TemplateParam": json.dumps({qsd.get("param") or "text": body}, ensure_ascii=False),
    }
    params["Signature"] = sign_params(params, secret, "POST")
    form = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())
    headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"

    url = (endpoint + "/") if endpoint else DEFAULT_ENDPOINT
    answer = post(SERVICE, url, timeout=timeout, secrets=[secret], data=form.encode("ascii"), headers=headers)
    if answer is None:
        return False
    try:
        data = answer.json()
    except ValueError:
        data = None
    code = data.get("Code") if isinstance(data, dict) else None
    if answer.status_code == 200 and code == "OK":
        return True
    message = str(data.get("Message") or "") if isinstance(data, dict) else ""
    request_id = data.get("RequestId") if isinstance(data, dict) else None
    if code is None:
        log.warning("%s failed: HTTP %s, no Code in the answer", SERVICE, answer.status_code)
    else:
        log.warning(
            "%s failed: HTTP %s, Code=%s（%s）%s RequestId=%s",
            SERVICE,
            answer.status_code,
            code,
            meaning(code),
            redact(message, [secret])[:LOG_BODY_CHARS],
            request_id,
        )
    return False


@notify(on=SERVICE, name="Aliyun SMS (Qixian, checked)")
def send(body, title, notify_type, meta, *args, **kwargs):
    """Send the body through an approved SMS template; True only on Code == "OK"."""
    secret = unquote(meta.get("password") or "")
    return guarded(SERVICE, [secret], lambda: _send(body, meta, secret))
