"""Every channel plugin passes the same contract against a real local HTTP server.

One table row per plugin. The fake provider checks signatures with
code written here from the providers' documents, not with the plugins' own functions;
the verifiers are themselves checked against the documents' worked examples.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest

from .conftest import Seen, plugin_module

BODY = "案件 A-1 刑事拘留期限 2026-02-28 17:00 届满，请及时提请批准逮捕（A&B+50%*~ /=）"
TITLE = "期限提醒"
IDEM = "clock-12:2026-02-28T17:00:00+08:00:L1:officer-1,clock-19:2026-03-01T09:00:00+08:00:L2:officer-1"
PHONES = ["13800000000", "13900000000"]

SMS_TOKEN = "gwTokenZq81xLk2Qixian"
ALIYUN_ID, ALIYUN_SECRET = "LTAI5tQixianTestKeyId", "aliyunSecretQixian0xYz1AbC2dEf"
TENCENT_ID, TENCENT_KEY = "AKIDqixianTestSecretId0000000", "tencentSecretKeyQixian00000000"
DING_TOKEN = "d1a2b3c4e5f60718293a4b5c6d7e8f90d1a2b3c4e5f60718293a4b5c6d7e8f90"
DING_SECRET = "SEC0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
WECOM_KEY = "5f0c2e1a-9b7d-4c3e-8a21-3d4e5f6a7b8c"
FEISHU_TOKEN, FEISHU_SECRET = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "feishuSignSecretQixian123"


def query(endpoint: str, timeout: float | None = None, idem: str | None = IDEM, **extra: str) -> str:
    args = dict(extra, endpoint=endpoint)
    if idem:
        args["idem"] = idem
    if timeout:
        args["timeout"] = str(timeout)
    return urlencode(args)


# ---------------------------------------------------------------- independent verifiers


def aliyun_signature(params: dict[str, str], secret: str, method: str) -> str:
    """Alibaba Cloud RPC signature, following the docs' Java recipe (URLEncoder, then fix-ups)."""

    def enc(text: str) -> str:
        return quote_plus(text, safe="*").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")

    query_string = "&".join(enc(k) + "=" + enc(params[k]) for k in sorted(params) if k != "Signature")
    to_sign = method + "&" + enc("/") + "&" + enc(query_string)
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), "sha1").digest()
    return base64.b64encode(mac).decode()


def tc3_valid(seen: Seen, secret_id: str, secret_key: str, service: str) -> bool:
    """Recompute a TC3-HMAC-SHA256 Authorization from the request exactly as received."""
    match = re.fullmatch(
        r"TC3-HMAC-SHA256 Credential=(.+?)/(\d{4}-\d\d-\d\d)/(\w+)/tc3_request, "
        r"SignedHeaders=([\w;-]+), Signature=([0-9a-f]{64})",
        seen.headers["authorization"],
    )
    assert match, seen.headers["authorization"]
    got_id, date, got_service, signed, signature = match.groups()
    stamp = int(seen.headers["x-tc-timestamp"])
    assert (got_id, got_service) == (secret_id, service)
    assert date == time.strftime("%Y-%m-%d", time.gmtime(stamp))
    names = signed.split(";")
    assert {"content-type", "host"} <= set(names)
    canonical = (
        "POST\n/\n\n" + "".join(f"{n}:{seen.headers[n].strip().lower()}\n" for n in names) + "\n" + signed + "\n" + hashlib.sha256(seen.body).hexdigest()
    )
    to_sign = f"TC3-HMAC-SHA256\n{stamp}\n{date}/{service}/tc3_request\n" + hashlib.sha256(canonical.encode()).hexdigest()
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature)


def dingtalk_sign(secret: str, stamp: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), "sha256").digest()).decode()


def feishu_sign(secret: str, stamp: str) -> str:
    return base64.b64encode(hmac.new(f"{stamp}\n{secret}".encode(), digestmod="sha256").digest()).decode()


def fresh(stamp: str, unit: float) -> bool:
    return abs(time.time() - int(stamp) / unit) < 3600


# ---------------------------------------------------------------- what each provider must receive


def check_sms(seen: Seen) -> None:
    assert seen.path == "/api/v1/sms/send"
    assert seen.headers["authorization"] == f"Bearer {SMS_TOKEN}"
    assert seen.headers["content-type"].startswith("application/json")
    assert seen.json == {"phones": PHONES, "text": BODY}


def check_aliyun(seen: Seen) -> None:
    form = seen.form
    assert seen.path == "/"
    assert form["Signature"] == aliyun_signature(form, ALIYUN_SECRET, "POST")
    assert {
        k: form[k]
        for k in ("AccessKeyId", "Action", "Format", "RegionId", "SignatureMethod", "SignatureVersion", "Version", "PhoneNumbers", "SignName", "TemplateCode")
    } == {
        "AccessKeyId": ALIYUN_ID,
        "Action": "SendSms",
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "Version": "2017-05-25",
        "PhoneNumbers": ",".join(PHONES),
        "SignName": "某市公安局",
        "TemplateCode": "SMS_123456789",
    }
    assert json.loads(form["TemplateParam"]) == {"text": BODY}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", form["Timestamp"])
    assert form["SignatureNonce"]


def check_tencent(seen: Seen) -> None:
    assert seen.path == "/"
    assert tc3_valid(seen, TENCENT_ID, TENCENT_KEY, "sms")
    assert seen.headers["host"] == "sms.tencentcloudapi.com"
    assert (seen.headers["x-tc-action"], seen.headers["x-tc-version"], seen.headers["x-tc-region"]) == ("SendSms", "2021-01-11", "ap-guangzhou")
    assert fresh(seen.headers["x-tc-timestamp"], 1)
    assert seen.json == {
        "PhoneNumberSet": ["+8613800000000", "+8613900000000"],
        "SmsSdkAppId": "1400000000",
        "SignName": "某市公安局",
        "TemplateId": "123456",
        "TemplateParamSet": [BODY],
    }


def check_dingtalk(seen: Seen) -> None:
    assert seen.path == "/robot/send"
    q = seen.query
    assert q["access_token"] == DING_TOKEN
    assert fresh(q["timestamp"], 1000)
    assert q["sign"] == dingtalk_sign(DING_SECRET, q["timestamp"])
    message = seen.json
    assert message["msgtype"] == "markdown"
    assert message["markdown"]["title"] == TITLE
    assert message["markdown"]["text"].startswith(BODY) and "@13800000000" in message["markdown"]["text"]
    assert message["at"]["atMobiles"] == ["13800000000"]


def check_wecom(seen: Seen) -> None:
    assert seen.path == "/cgi-bin/webhook/send"
    assert seen.query == {"key": WECOM_KEY}
    assert seen.json == {"msgtype": "markdown", "markdown": {"content": BODY}}


def check_feishu(seen: Seen) -> None:
    assert seen.path == f"/open-apis/bot/v2/hook/{FEISHU_TOKEN}"
    message = seen.json
    assert fresh(message["timestamp"], 1)
    assert message["sign"] == feishu_sign(FEISHU_SECRET, message["timestamp"])
    assert (message["msg_type"], message["content"]) == ("text", {"text": BODY})


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Channel:
    schema: str
    url: Callable[..., str]  # (endpoint, timeout=None, idem=IDEM) -> apprise URL
    check: Callable[[Seen], None]
    ok: Any  # the provider's "sent" answer, HTTP 200
    refused: Any  # a provider error code inside an HTTP 200 answer
    code: str  # how that code must appear in the log
    meaning: str  # part of its Chinese meaning that must appear in the log
    bad_url: Callable[[str], str]  # (endpoint) -> a URL with a configuration mistake; nothing is sent
    bad_reason: str
    secrets: tuple[str, ...]  # never sent in clear, never in any log line
    url_credentials: tuple[str, ...] = ()  # sent in the request URL; never in our or apprise's logs
    unreadable_200_ok: bool = False  # HTTP 200 with a non-JSON body counts as sent


def tencent_answer(*codes: str) -> dict:
    return {
        "Response": {
            "RequestId": "a0b1c2d3",
            "SendStatusSet": [
                {
                    "SerialNo": f"2028:{n}",
                    "PhoneNumber": f"+86{p}",
                    "Fee": 1,
                    "SessionContext": IDEM,
                    "Code": c,
                    "Message": "send success" if c == "Ok" else "daily limit",
                    "IsoCode": "CN",
                }
                for n, (p, c) in enumerate(zip(PHONES, codes, strict=False))
            ],
        }
    }


CHANNELS = [
    Channel(
        "qxsms",
        lambda ep, timeout=None, idem=IDEM: "qxsms://sms.gw.example/api/v1/sms/send?" + query(ep, timeout, idem, phones=",".join(PHONES), token=SMS_TOKEN),
        check_sms,
        ok={"code": 0, "msg": "ok", "data": {"accepted": 2}},
        refused={"code": 500, "msg": "gateway internal error"},
        code="code=500",
        meaning="短信平台内部错误",
        bad_url=lambda ep: f"qxsms://sms.gw.example/api/v1/sms/send?token={SMS_TOKEN}&endpoint={ep}",
        bad_reason="缺少接收号码",
        secrets=(SMS_TOKEN,),
        unreadable_200_ok=True,
    ),
    Channel(
        "aliyunsms",
        lambda ep, timeout=None, idem=IDEM: (
            f"aliyunsms://{ALIYUN_ID}:{ALIYUN_SECRET}@cn-hangzhou/"
            + "/".join(PHONES)
            + "?"
            + query(ep, timeout, idem, sign="某市公安局", template="SMS_123456789", param="text")
        ),
        check_aliyun,
        ok={"Message": "OK", "RequestId": "F655A8D5", "Code": "OK", "BizId": "900619746936498440^0"},
        refused={"Message": "触发分钟级流控Permits:1", "RequestId": "F655A8D5", "Code": "isv.BUSINESS_LIMIT_CONTROL"},
        code="isv.BUSINESS_LIMIT_CONTROL",
        meaning="业务限流",
        bad_url=lambda ep: f"aliyunsms://{ALIYUN_ID}:{ALIYUN_SECRET}@cn-hangzhou/13800000000?sign=x&endpoint={ep}",
        bad_reason="template",
        secrets=(ALIYUN_SECRET,),
    ),
    Channel(
        "tencentsms",
        lambda ep, timeout=None, idem=IDEM: (
            f"tencentsms://{TENCENT_ID}:{TENCENT_KEY}@ap-guangzhou/"
            + "/".join(PHONES)
            + "?"
            + query(ep, timeout, idem, sdkappid="1400000000", sign="某市公安局", template="123456")
        ),
        check_tencent,
        ok=tencent_answer("Ok", "Ok"),
        refused=tencent_answer("LimitExceeded.PhoneNumberDailyLimit", "Ok"),
        code="LimitExceeded.PhoneNumberDailyLimit",
        meaning="当日下发条数超过上限",
        bad_url=lambda ep: f"tencentsms://{TENCENT_ID}:{TENCENT_KEY}@ap-guangzhou/13800000000?sign=x&template=1&endpoint={ep}",
        bad_reason="sdkappid",
        secrets=(TENCENT_KEY,),
    ),
    Channel(
        "qxdingtalk",
        lambda ep, timeout=None, idem=IDEM: f"qxdingtalk://{DING_SECRET}@{DING_TOKEN}/13800000000?" + query(ep, timeout, idem),
        check_dingtalk,
        ok={"errcode": 0, "errmsg": "ok"},
        refused={"errcode": 310000, "errmsg": "keywords not in content, more: [helpLink]"},
        code="errcode=310000",
        meaning="签名不匹配",
        bad_url=lambda ep: f"qxdingtalk://{DING_SECRET}@{DING_TOKEN}/not-a-phone?endpoint={ep}",
        bad_reason="手机号格式不对",
        secrets=(DING_SECRET,),
        url_credentials=(DING_TOKEN,),
    ),
    Channel(
        "qxwecom",
        lambda ep, timeout=None, idem=IDEM: f"qxwecom://{WECOM_KEY}?" + query(ep, timeout, idem),
        check_wecom,
        ok={"errcode": 0, "errmsg": "ok"},
        refused={"errcode": 93000, "errmsg": "invalid webhook url, hint: [1755605200056773468916791]"},
        code="errcode=93000",
        meaning="key 无效",
        bad_url=lambda ep: f"qxwecom://{WECOM_KEY}?timeout=soon&endpoint={ep}",
        bad_reason="timeout",
        secrets=(),
        url_credentials=(WECOM_KEY,),
    ),
    Channel(
        "qxfeishu",
        lambda ep, timeout=None, idem=IDEM: f"qxfeishu://{FEISHU_TOKEN}?" + query(ep, timeout, idem, secret=FEISHU_SECRET),
        check_feishu,
        ok={"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"},
        refused={"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour from current time"},
        code="code=19021",
        meaning="签名校验失败",
        bad_url=lambda ep: f"qxfeishu://{FEISHU_TOKEN}?endpoint=ftp://gateway.local",
        bad_reason="endpoint",
        secrets=(FEISHU_SECRET,),
        url_credentials=(FEISHU_TOKEN,),
    ),
]


def lines(logs, name: str | None = "qixian.notify") -> str:
    return "\n".join(r.getMessage() for r in logs.records if name is None or r.name == name)


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.schema)
class TestChannelContract:
    """The same cases for every plugin; the teardown also checks that no secret reached a log line."""

    @pytest.fixture(autouse=True)
    def _secrets_stay_out_of_logs(self, channel, logs):
        yield
        for record in logs.get_records("setup") + logs.get_records("call"):
            text = record.getMessage()
            for secret in channel.secrets:
                assert secret not in text, f"{record.name} logged a secret"
            if not record.name.startswith("urllib3"):
                for credential in channel.url_credentials:
                    assert credential not in text, f"{record.name} logged a webhook credential"

    def test_good_answer_is_sent_with_the_right_request(self, channel, provider, make_apprise, logs):
        provider.reply(200, channel.ok)
        assert make_apprise(channel.url(provider.url)).notify(body=BODY, title=TITLE) is True
        [seen] = provider.seen
        assert seen.method == "POST"
        assert seen.headers["x-qixian-idempotency-key"] == IDEM
        channel.check(seen)
        assert f"{channel.schema} answer: HTTP 200 " in lines(logs)

    def test_provider_error_code_in_http_200_is_a_failure_named_in_the_log(self, channel, provider, make_apprise, logs):
        provider.reply(200, channel.refused)
        assert make_apprise(channel.url(provider.url)).notify(body=BODY, title=TITLE) is False
        warnings = [r.getMessage() for r in logs.records if r.name == "qixian.notify" and r.levelname == "WARNING"]
        assert any(channel.code in w and channel.meaning in w for w in warnings), warnings

    def test_http_500_is_a_failure(self, channel, provider, make_apprise, logs):
        provider.reply(500, {"message": "internal error"})
        assert make_apprise(channel.url(provider.url)).notify(body=BODY, title=TITLE) is False
        assert f"{channel.schema} answer: HTTP 500 " in lines(logs)
        assert f"{channel.schema} failed: HTTP 500" in lines(logs)

    def test_connection_refused_is_a_failure(self, channel, closed_port, make_apprise, logs):
        url = channel.url(f"http://127.0.0.1:{closed_port}")
        assert make_apprise(url).notify(body=BODY, title=TITLE) is False
        assert f"{channel.schema} failed: ConnectionError" in lines(logs)

    def test_slow_answer_beyond_the_timeout_is_a_failure(self, channel, provider, make_apprise, logs):
        provider.reply(200, channel.ok, delay=1.5)
        started = time.monotonic()
        assert make_apprise(channel.url(provider.url, timeout=1)).notify(body=BODY, title=TITLE) is False
        assert time.monotonic() - started < 5, "?timeout= was not honoured"
        assert f"{channel.schema} failed: ReadTimeout" in lines(logs)

    def test_unreadable_http_200_counts_only_where_documented(self, channel, provider, make_apprise):
        provider.reply(200, b"<html>accepted</html>")
        result = make_apprise(channel.url(provider.url)).notify(body=BODY, title=TITLE)
        assert result is channel.unreadable_200_ok

    def test_configuration_mistake_sends_nothing(self, channel, provider, make_apprise, logs):
        assert make_apprise(channel.bad_url(provider.url)).notify(body=BODY, title=TITLE) is False
        assert provider.seen == []
        assert f"{channel.schema} failed: 配置错误" in lines(logs)
        assert channel.bad_reason in lines(logs)

    def test_no_idempotency_key_means_no_header(self, channel, provider, make_apprise):
        provider.reply(200, channel.ok)
        assert make_apprise(channel.url(provider.url, idem=None)).notify(body=BODY, title=TITLE) is True
        assert "x-qixian-idempotency-key" not in provider.seen[0].headers


# ---------------------------------------------------------------- outside the table


def test_the_verifiers_reproduce_the_documented_examples():
    """So a green contract test means the plugins match the providers, not just each other."""
    sms_example = {  # Alibaba Cloud SMS signature document, worked example (GET)
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_signature(sms_example, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert plugin_module("aliyun_sms").sign_params(sms_example, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    rpc_example = {  # Alibaba Cloud RPC signature document (DescribeRegions)
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Version": "2014-05-26",
        "Timestamp": "2016-02-23T12:46:24Z",
    }
    assert aliyun_signature(rpc_example, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="

    # Tencent Cloud API 3.0 signature v3 document, worked example (cvm DescribeInstances)
    payload = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    headers = {"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"}
    authorization = plugin_module("tencent_sms").tc3_authorization(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", service="cvm", timestamp=1551113065, payload=payload, headers=headers
    )
    assert authorization.endswith("Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168")
    example = Seen("POST", "/", dict(headers, authorization=authorization, **{"x-tc-timestamp": "1551113065"}), payload)
    assert tc3_valid(example, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm")


def test_all_six_schemas_load_from_the_plugin_folder(make_apprise):
    urls = [c.url("http://127.0.0.1:9") for c in CHANNELS]
    assert len(make_apprise(*urls)) == 6
    assert len(make_apprise(*urls)) == 6  # a second Apprise with the same plugin_paths is fine


def test_apprise_notify_is_false_when_any_channel_refuses(make_apprise, provider, logs):
    """How a refusal surfaces through Apprise.notify: one bool for all, reasons only in the logs."""
    other = type(provider)().start()
    try:
        provider.reply(200, CHANNELS[4].ok)
        other.reply(200, CHANNELS[3].refused)
        notifier = make_apprise(CHANNELS[4].url(provider.url), CHANNELS[3].url(other.url))
        assert notifier.notify(body=BODY, title=TITLE) is False
        assert len(provider.seen) == len(other.seen) == 1
        assert "Failed to send DingTalk robot (Qixian, checked) notification" in lines(logs, "apprise")
        assert "errcode=310000" in lines(logs)
    finally:
        other.stop()


def test_dingtalk_and_feishu_without_a_secret_send_no_signature(provider, make_apprise):
    provider.reply(200, {"errcode": 0, "code": 0})
    assert make_apprise(f"qxdingtalk://{DING_TOKEN}?" + query(provider.url)).notify(body=BODY) is True
    assert make_apprise(f"qxfeishu://{FEISHU_TOKEN}?" + query(provider.url)).notify(body=BODY) is True
    dingtalk, feishu = provider.seen
    assert dingtalk.query == {"access_token": DING_TOKEN}
    assert dingtalk.json["markdown"]["title"] == BODY.splitlines()[0][:60]  # no title given
    assert dingtalk.json["at"]["atMobiles"] == []
    assert feishu.json == {"msg_type": "text", "content": {"text": BODY}}


def test_feishu_old_style_answer_and_code_precedence(provider, make_apprise):
    url = f"qxfeishu://{FEISHU_TOKEN}?" + query(provider.url)
    provider.reply(200, {"Extra": None, "StatusCode": 0, "StatusMessage": "success"})
    assert make_apprise(url).notify(body=BODY) is True
    provider.reply(200, {"StatusCode": 0, "code": 19024, "msg": "Key Words Not Found"})
    assert make_apprise(url).notify(body=BODY) is False


def test_tencent_request_level_error_is_named(provider, make_apprise, logs):
    provider.reply(
        200,
        {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "The provided credentials could not be validated."}, "RequestId": "r-1"}},
    )
    assert make_apprise(CHANNELS[2].url(provider.url)).notify(body=BODY) is False
    assert "AuthFailure.SignatureFailure（签名错误" in lines(logs)


def test_tencent_missing_receipts_are_a_failure(provider, make_apprise, logs):
    provider.reply(200, tencent_answer("Ok"))  # one receipt for two numbers
    assert make_apprise(CHANNELS[2].url(provider.url)).notify(body=BODY) is False
    assert "SendStatusSet has 1 entries for 2 numbers" in lines(logs)


def test_sms_gateway_answer_without_code_is_accepted(provider, make_apprise):
    provider.reply(202, {"accepted": True})
    assert make_apprise(CHANNELS[0].url(provider.url)).notify(body=BODY) is True


@pytest.mark.parametrize(
    "key, header",
    [
        ("a" * 3000, "a" * 3000),  # a digest of many reminders: sent whole, never cut
        ("案件(2026)京0105刑初1号:L1", "%E6%A1%88%E4%BB%B6(2026)%E4%BA%AC0105%E5%88%91%E5%88%9D1%E5%8F%B7:L1"),
        ("k1%20\r\nX-Evil: 1", "k1%2520%0D%0AX-Evil: 1"),  # no header injection; '%' itself is encoded
    ],
    ids=["long", "non-ascii", "crlf"],
)
def test_idempotency_key_is_sent_as_one_ascii_header(provider, make_apprise, key, header):
    provider.reply(200, {"errcode": 0})
    url = f"qxwecom://{WECOM_KEY}?" + urlencode({"endpoint": provider.url, "idem": key}, quote_via=quote)
    assert make_apprise(url).notify(body=BODY) is True
    assert provider.seen[0].headers["x-qixian-idempotency-key"] == header
    assert "x-evil" not in provider.seen[0].headers


@pytest.mark.parametrize("name", ["sms_gateway", "aliyun_sms", "tencent_sms", "dingtalk_checked", "wecom_checked", "feishu_checked"])
@pytest.mark.parametrize(
    "meta",
    [
        {},
        {"host": "h", "user": "u", "password": "p", "fullpath": "/1/2", "qsd": {"timeout": "-1", "phones": "x"}},
        {"host": "h", "qsd": {"endpoint": "http://127.0.0.1:1", "phones": "13800000000"}},
    ],
    ids=["empty", "nonsense", "unreachable"],
)
def test_the_plugin_function_itself_returns_false_instead_of_raising(name, meta, logs):
    """apprise would swallow an exception anyway; the plugins must not rely on that."""
    assert plugin_module(name).send("正文", "", "info", meta=meta) is False
    assert f"{plugin_module(name).SERVICE} failed: " in lines(logs)
