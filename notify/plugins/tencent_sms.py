"""Tencent Cloud SMS (腾讯云短信) SendSms API 3.0, checked delivery (tencentsms://).

URL syntax:
    tencentsms://SECRET_ID:SECRET_KEY@REGION/PHONE[/PHONE...]
        ?sdkappid=1400000000&sign=签名&template=123456
        [&endpoint=https://sms.tencentcloudapi.com][&idem=KEY][&timeout=10]

REGION is ap-guangzhou, ap-beijing or ap-nanjing. Mainland numbers may be written as
13800000000, 8613800000000 or +8613800000000; they are sent in E.164 (+86…). Other
countries need the leading '+'. The body fills the template's only variable
(TemplateParamSet = [body]).

The request is POST / with a JSON body, action SendSms, version 2021-01-11, signed with
TC3-HMAC-SHA256 over content-type, host and x-tc-action (see tc3_authorization()). The
signed Host header is always sms.tencentcloudapi.com, also when ?endpoint= points at
a bureau gateway or a test server: a forwarding gateway must pass it on unchanged.

Success means HTTP 200, no Response.Error, one SendStatusSet entry per number and every
entry's Code == "Ok". One refused number makes the whole send a failure.

Credentials: a SecretId/SecretKey of a CAM sub-user limited to sms:SendSms. Both reach
this URL from environment variables named in the channel configuration, never from a
file in the repo. The SecretKey is never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import unquote

import requests
from apprise.decorators import notify

from ._http import LOG_BODY_CHARS, code_meaning, guarded, log, options, post, redact

SERVICE = "tencentsms"
API_HOST = "sms.tencentcloudapi.com"
API_SERVICE = "sms"
API_ACTION = "SendSms"
API_VERSION = "2021-01-11"
DEFAULT_ENDPOINT = f"https://{API_HOST}"

# https://cloud.tencent.com/document/api/382/55981  (SendSms 发送短信，含错误码)
# https://cloud.tencent.com/document/api/382/52075  (API 3.0 公共错误码)
DOCS_URL = "https://cloud.tencent.com/document/api/382/55981"
ERROR_CODES: dict[str, str] = {
    "FailedOperation.InsufficientBalanceInSmsPackage": "套餐包余量不足，请购买短信套餐包",
    "FailedOperation.SignatureIncorrectOrUnapproved": "签名未审批或格式错误",
    "FailedOperation.TemplateIncorrectOrUnapproved": "模板未审批或内容不匹配",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": "模板变量个数与审核通过的模板不一致",
    "FailedOperation.PhoneNumberInBlacklist": "手机号在免打扰名单中（用户退订）",
    "FailedOperation.ContainSensitiveWord": "短信内容含有敏感词",
    "FailedOperation.MarketingSendTimeConstraint": "营销短信发送时间限制",
    "LimitExceeded.PhoneNumberDailyLimit": "单个手机号当日下发条数超过上限",
    "LimitExceeded.PhoneNumberOneHourLimit": "单个手机号 1 小时内下发条数超过上限",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "单个手机号 30 秒内下发条数超过上限",
    "LimitExceeded.PhoneNumberSameContentDailyLimit": "单个手机号当日相同内容下发条数超过上限",
    "LimitExceeded.DeliveryFrequencyLimit": "命中频率限制策略",
    "LimitExceeded.PhoneNumberCountLimit": "单次提交的号码超过 200 个",
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号格式错误",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": "模板变量中禁止使用 URL",
    "InvalidParameterValue.TemplateParameterLengthLimit": "单个模板变量字符数超过上限",
    "InvalidParameterValue.TemplateParameterFormatError": "模板变量格式错误（验证码模板只能是数字）",
    "InvalidParameterValue.ContentLengthLimit": "短信内容过长",
    "InvalidParameterValue.SdkAppIdNotExist": "SdkAppId 不存在",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "SdkAppId 校验失败：与密钥所属账号不符",
    "UnauthorizedOperation.SerivceSuspendDueToArrears": "账号欠费停服",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber": "同一请求里混有国内和国际号码",
    "AuthFailure.SignatureFailure": "签名错误：SecretKey 错误或 TC3 签名计算有误",
    "AuthFailure.SignatureExpire": "签名过期：本机时钟与腾讯云相差超过 5 分钟",
    "AuthFailure.SecretIdNotFound": "SecretId 不存在或已被禁用",
    "AuthFailure.UnauthorizedOperation": "CAM 未授权：该密钥无权调用 SendSms",
    "RequestLimitExceeded": "接口请求频率超过限制",
    "InternalError.Timeout": "腾讯云内部超时，请稍后重试",
}

_PHONE = re.compile(r"^\+\d{6,20}$")


def tc3_authorization(secret_id: str, secret_key: str, *, service: str, timestamp: int, payload: bytes, headers: dict[str, str], method: str = "POST") -> str:
    """The Authorization header value for a TC3-HMAC-SHA256 request to path "/" without a query.

    headers holds every signed header (at least content-type and host), any case; the
    canonical form lower-cases names and values. Returns "TC3-HMAC-SHA256 Credential=…".
    """
    signed = sorted((k.strip().lower(), v.strip().lower()) for k, v in headers.items())
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in signed)
    signed_headers = ";".join(k for k, _ in signed)
    canonical_request = "\n".join([method.upper(), "/", "", canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()])
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])

    def _hmac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

    signing_key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"


def e164(phone: str) -> str:
    """+86 E.164 form of a mainland number; other numbers must already start with '+'."""
    digits = phone.strip()
    if re.fullmatch(r"1\d{10}", digits):
        return "+86" + digits
    if re.fullmatch(r"(0086|86)1\d{10}", digits):
        return "+86" + digits[-11:]
    return digits


def meaning(code: Any) -> str:
    """The Chinese meaning of a Tencent Cloud error code, or a pointer to the docs."""
    return code_meaning(ERROR_CODES, DOCS_URL, code)


def _check(answer: requests.Response, phones: list[str], secret: str) -> bool:
    """True only if the answer confirms every number; logs each refusal with its meaning."""
    try:
        data = answer.json()
    except ValueError:
        data = None
    response = data.get("Response") if isinstance(data, dict) else None
    if not isinstance(response, dict):
        log.warning("%s failed: HTTP %s, no Response object in the answer", SERVICE, answer.status_code)
        return False
    request_id = response.get("RequestId")
    error = response.get("Error")
    if isinstance(error, dict):
        code = error.get("Code")
        log.warning(
            "%s failed: HTTP %s, Error.Code=%s（%s）%s RequestId=%s",
            SERVICE,
            answer.status_code,
            code,
            meaning(code),
            redact(str(error.get("Message") or ""), [secret])[:LOG_BODY_CHARS],
            request_id,
        )
        return False
    if answer.status_code != 200:
        log.warning("%s failed: HTTP %s RequestId=%s", SERVICE, answer.status_code, request_id)
        return False
    statuses = response.get("SendStatusSet")
    if not isinstance(statuses, list) or len(statuses) != len(phones):
        log.warning(
            "%s failed: SendStatusSet has %s entries for %s numbers RequestId=%s",
            SERVICE,
            len(statuses) if isinstance(statuses, list) else "no",
            len(phones),
            request_id,
        )
        return False
    ok = True
    for status in statuses:
        code = status.get("Code") if isinstance(status, dict) else None
        if code != "Ok":
            ok = False
            log.warning(
                "%s failed: %s Code=%s（%s）%s RequestId=%s",
                SERVICE,
                status.get("PhoneNumber") if isinstance(status, dict) else "?",
                code,
                meaning(code),
                str(status.get("Message") or "") if isinstance(status, dict) else "",
                request_id,
            )
    return ok


def _send(body: str, meta: dict, secret_key: str) -> bool:
    timeout, endpoint, headers = options(meta)
    qsd = meta.get("qsd") or {}
    secret_id = unquote(meta.get("user") or "")
    region = meta.get("host") or ""
    if not (secret_id and secret_key and region):
        raise ValueError("URL 应为 tencentsms://SECRET_ID:SECRET_KEY@REGION/PHONE")
    phones = [e164(p) for p in (meta.get("fullpath") or "").split("/") if p]
    if not phones:
        raise ValueError("缺少接收号码：tencentsms://…@REGION/13800000000/13900000000")
    bad = [p for p in phones if not _PHONE.match(p)]
    if bad:
        raise ValueError(f"号码格式不对（境外号码须带 +国家码）：{', '.join(bad)}")
    missing = [k for k in ("sdkappid", "sign", "template") if not qsd.get(k)]
    if missing:
        raise ValueError(f"缺少参数：{', '.join(missing)}")

    request = {
        "PhoneNumberSet": phones,
        "SmsSdkAppId": qsd["sdkappid"],
        "SignName": qsd["sign"],
        "TemplateId": qsd["template"],
        "TemplateParamSet": [body],
    }
    payload = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = int(time.time())
    signed = {"Content-Type": "application/json; charset=utf-8", "Host": API_HOST, "X-TC-Action": API_ACTION}
    headers.update(signed)
    headers.update(
        {
            "Authorization": tc3_authorization(secret_id, secret_key, service=API_SERVICE, timestamp=timestamp, payload=payload, headers=signed),
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": region,
            "X-TC-Language": "zh-CN",
        }
    )

    url = (endpoint or DEFAULT_ENDPOINT) + "/"
    answer = post(SERVICE, url, timeout=timeout, secrets=[secret_key], data=payload, headers=headers)
    if answer is None:
        return False
    return _check(answer, phones, secret_key)


@notify(on=SERVICE, name="Tencent Cloud SMS (Qixian, checked)")
def send(body, title, notify_type, meta, *args, **kwargs):
    """Send the body through an approved SMS template; True only if every number is "Ok"."""
    secret_key = unquote(meta.get("password") or "")
    return guarded(SERVICE, [secret_key], lambda: _send(body, meta, secret_key))
