"""A hostile case title from a real feed, through the scan, the real channel plugins and a real local HTTP server:
each robot receives its own flavour, and in none of them is the title a link or does a control character arrive."""

import json
import re
from urllib.parse import quote

from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.casework.directory import read_directory
from qixian.casework.feeds import ingest_path
from qixian.legaltime.localtime import parse_local

TITLE = "张某案[确认收到](http://evil.example/phish)\u202e\x1b[2J\x07"
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_each_robot_gets_its_flavour_and_the_title_stays_inert(store, pack, notify_folder, sink, tmp_path):
    endpoint = quote(f"http://127.0.0.1:{sink.port}", safe="")
    urls = [f"qxdingtalk://dingtoken?endpoint={endpoint}", f"qxwecom://wecomkey?endpoint={endpoint}", f"qxfeishu://feishutoken?endpoint={endpoint}"]
    (notify_folder / "directory.yaml").write_text(
        'units:\n  - {id: chengguan, name: 城关派出所, duty_phone: "13800000000"}\n'
        f'officers:\n  - {{id: officer-1, name: 刘明, unit: chengguan, phone: "13900000001", urls: {json.dumps(urls)}}}\n',
        encoding="utf-8",
    )
    store.replace_directory(read_directory(notify_folder / "directory.yaml"))
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps(
            {
                "id": "X-1",
                "case": "X",
                "type": "emergency_handled",
                "at": "2025-10-10 10:00",
                "case_info": {"kind": "incident", "title": TITLE, "unit": "chengguan", "handler": "officer-1"},
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    ingest_path(store, pack, feed, source="case-system", now=parse_local("2025-10-10 10:00"))
    # DingTalk and WeCom refuse (as a bad token would): the message moves on to Feishu, so all three are seen
    sink.failing = {"/robot/send": (200, {"errcode": 310000}), "/cgi-bin/webhook/send": (200, {"errcode": 93000})}
    scan(store, pack, NotifyConfig.load(notify_folder), parse_local("2025-10-10 22:05"))

    [ding, *_] = sink.to("/robot/send")
    [wecom, *_] = sink.to("/cgi-bin/webhook/send")
    [feishu] = sink.to("/open-apis/bot/v2/hook/feishutoken")
    texts = {"dingtalk": ding["body"]["markdown"]["text"], "wecom": wecom["body"]["markdown"]["content"], "feishu": feishu["body"]["content"]["text"]}
    assert texts["dingtalk"].startswith("### 执法办案期限") and "\n\n- 期限：" in texts["dingtalk"]
    assert texts["wecom"].startswith("### 执法办案期限") and "\n> 期限：" in texts["wecom"]
    assert texts["feishu"].startswith("执法办案期限") and "###" not in texts["feishu"] and "**" not in texts["feishu"]
    for flavour, text in texts.items():
        assert "张某案" in text and "2J）" in text, flavour  # the title is there, as text
        assert "http://evil" not in text, flavour  # no address a client makes a link of
        assert flavour == "feishu" or "](" not in text, flavour  # (Feishu's text has no markdown links)
        assert not CONTROLS.search(text), flavour
