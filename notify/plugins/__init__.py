"""Qixian's custom apprise plugins: one file per service, each checks the provider's own answer.

    qxsms://       sms_gateway.py       the bureau's internal HTTP SMS platform
    aliyunsms://   aliyun_sms.py        Alibaba Cloud SMS SendSms (HMAC-SHA1 RPC signature)
    tencentsms://  tencent_sms.py       Tencent Cloud SMS SendSms (TC3-HMAC-SHA256)
    qxdingtalk://  dingtalk_checked.py  DingTalk custom robot (errcode checked)
    qxwecom://     wecom_checked.py     WeCom group robot (errcode checked)
    qxfeishu://    feishu_checked.py    Feishu custom robot (code checked)

Load them with
    apprise.Apprise(asset=apprise.AppriseAsset(plugin_paths=["/path/to/notify/plugins"]))

Because this folder has an __init__.py, apprise imports only this file (as a package) and
does not scan the folder; the imports below are what registers the six schemas. The
@notify decorator registers a schema once per process: a second import of the same file
under another module name is refused by apprise with a warning and changes nothing.

The plugins need only apprise and requests (their shared HTTP and logging habits are in _http.py).
Nothing here imports qixian.
"""

from . import aliyun_sms, dingtalk_checked, feishu_checked, sms_gateway, tencent_sms, wecom_checked

__all__ = ["aliyun_sms", "dingtalk_checked", "feishu_checked", "sms_gateway", "tencent_sms", "wecom_checked"]
