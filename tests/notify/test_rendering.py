"""What each medium shows an officer, byte for byte: a one-item and a two-item digest in DingTalk markdown, WeCom
markdown, Feishu text and SMS, and the daily overdue digest in each, kept as golden files in tests/notify/golden/. After a deliberate change to a template,
regenerate them with

    QIXIAN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/notify/test_rendering.py

and read every changed file before committing it. The rest proves that text from the case system or the directory
never becomes a link, markup, a mention or a line of its own, whatever it holds."""

import os
import re
from pathlib import Path

import pytest

from qixian.alerting.messages import Item, NotifyConfig, chat_flavour
from qixian.safetext import Trusted
from tests.paths import ROOT

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("QIXIAN_UPDATE_GOLDEN") == "1"
PHISH = "张某案[确认收到](http://evil.example/phish)"
ACK = Trusted("https://qixian.gaj.example/ack/eyJvIjo0Mn0.c2lnbmVk")
HOSTILE = "\u202e张三\u202c\x1b[31m\x07\u2066李\u2069\u200f四\u061c\x85"  # bidi overrides, ESC, BEL, NEL
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def config():
    return NotifyConfig.load(ROOT / "notify")


def item(
    key="c1",
    level="overdue",
    case="（2025）城关刑字第0001号",
    title=PHISH,
    rule="提请批准逮捕期限",
    person="张某",
    due="2025-10-06 24:00",
    left="2小时5分",
    state="overdue",
    late=False,
    ack=ACK,
) -> Item:
    return Item(key, level, case, title, rule, person, due, left, state, late, "超期第1次提醒", ack)


ONE = [item()]
TWO = [item(), item("c2", "warning", "U2", "盗窃案", "刑事拘留期限", "", "2025-10-07 10:00", "1小时55分", "running", True, Trusted(""))]
FLAVOURS = {"dingtalk": "md", "wecom": "md", "feishu": "txt"}


def rendered(config, flavour: str, items: list[Item]) -> str:
    return config.sms(items) if flavour == "sms" else config.chat(items, "刘明", flavour)


@pytest.mark.parametrize("flavour", [*FLAVOURS, "sms"])
@pytest.mark.parametrize("name, items", [("one", ONE), ("two", TWO)])
def test_golden(config, flavour, name, items):
    matches_golden(f"{flavour}-{name}.{FLAVOURS.get(flavour, 'txt')}", rendered(config, flavour, items))


def matches_golden(name: str, text: str) -> None:
    path, text = GOLDEN / name, text + "\n"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{path.name} differs: see the module docstring to regenerate"


# A daily overdue digest of 23 clocks: more than a chat digest lists (DIGEST_LISTED), so it says how many more.
DIGEST = [
    item(
        "digest:2025-10-20:officer-1",
        "overdue",
        f"（2025）城关刑字第{n:04d}号",
        PHISH if n == 1 else "",
        "提请批准逮捕期限",
        "张某" if n % 2 else "",
        f"2025-10-{n % 9 + 1:02d} 24:00",
        f"{20 - n % 9}天",
        ack=Trusted(""),
    )
    for n in range(1, 24)
]


def digest(config, flavour: str, items: list[Item]) -> str:
    return config.digest_sms(items) if flavour == "sms" else config.digest_chat(items, "刘明", flavour)


@pytest.mark.parametrize("flavour", [*FLAVOURS, "sms"])
@pytest.mark.parametrize("name, items", [("one", DIGEST[:1]), ("many", DIGEST)])
def test_golden_digest(config, flavour, name, items):
    matches_golden(f"digest-{flavour}-{name}.{FLAVOURS.get(flavour, 'txt')}", digest(config, flavour, items))


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_digest_lists_at_most_its_share_and_counts_the_rest(config, flavour):
    from qixian.alerting.messages import DIGEST_LISTED

    text = digest(config, flavour, DIGEST)
    assert f"以下 {len(DIGEST)} 项期限已超期" in text
    assert all(f"城关刑字第{n:04d}号" in text for n in range(1, DIGEST_LISTED + 1))
    assert not any(f"城关刑字第{n:04d}号" in text for n in range(DIGEST_LISTED + 1, len(DIGEST) + 1))
    assert f"另有 {len(DIGEST) - DIGEST_LISTED} 项" in text
    assert "http://evil" not in text and (flavour == "feishu" or "](" not in text)  # a title never becomes a link


def test_a_digest_sms_fits_its_segments_and_counts_the_rest(config):
    from qixian.alerting.messages import sms_segments

    text = config.digest_sms(DIGEST)
    assert sms_segments(text) <= config.sms_max_segments
    assert text.startswith(f"【执法期限超期汇总】{len(DIGEST)}项期限仍超期") and "另有" in text and "张某" not in text


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_each_reminder_and_each_detail_is_a_line_of_its_own(config, flavour):
    """trim_blocks once glued "剩余 1小时55分" to the next reminder's "2." on one line."""
    lines = rendered(config, flavour, TWO).splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"^(\*\*)?[12]\. ", line)]
    assert len(starts) == 2
    for start in starts:
        details = [line for line in lines[start + 1 : start + 5] if "期限：" in line or "期满：" in line]
        assert len(details) == 2 and all(line.count("期满") <= 1 for line in details)
    assert lines[-1] == "请在期限内办理，办结后在办案系统中登记。"


@pytest.mark.parametrize("flavour", ["dingtalk", "wecom"])
def test_a_phishing_title_is_no_link_in_markdown(config, flavour):
    text = rendered(config, flavour, ONE)
    links = re.findall(r"\[([^\]]*)\]\(([^)]*)\)", text)
    assert links == [("登录看板确认", ACK)]  # ours (an overdue item: sign in to acknowledge), and only ours
    assert "http://evil" not in text and "evil.example" in text  # still readable, no longer an address
    assert "张某案［确认收到］（http：//evil.example/phish）" in text


def test_a_phishing_title_is_no_link_or_mention_in_feishu_text(config):
    title = PHISH + '<at user_id="all">所有人</at>'
    text = rendered(config, "feishu", [item(title=title)])
    assert re.findall(r"https?://\S+", text) == [ACK]  # the only address Feishu would make a link of
    assert "<at" not in text and '＜at user_id="all"＞所有人＜/at＞' in text


@pytest.mark.parametrize("flavour", ["dingtalk", "wecom"])
def test_markup_in_every_outside_field_stays_text(config, flavour):
    """Case id, title, rule name, person, recipient: nothing from outside opens a heading, a list, bold, an image,
    code, a quote, a font tag, a mention or a new line."""
    evil = '**粗**_斜_`码`![图](http://x/i.png)<font color="warning">红</font><@all>\n# 标题\n- 列表\n> 引用'
    text = config.chat([item(case=evil, title=evil, rule=evil, person=evil, state="running")], evil, flavour)
    ours = config.chat([item(case="案", title="题", rule="则", person="人", state="running")], "刘明", flavour)
    assert len(text.splitlines()) == len(ours.splitlines())
    for mark in ("![", "`", "<font", "<@", "_斜_", "**粗**", "http://"):
        assert mark not in text, mark


@pytest.mark.parametrize("flavour", [*FLAVOURS, "sms"])
def test_bidi_and_control_characters_never_reach_a_message(config, flavour):
    text = rendered(config, flavour, [item(case=HOSTILE, title=HOSTILE, rule=HOSTILE, person=HOSTILE)])
    assert not CONTROLS.search(text)
    assert "张三" in text and ("李 四" in text or "李四" in text or flavour == "sms")


def test_sms_cannot_forge_a_signature(config):
    text = rendered(config, "sms", [item(case="【公安局】请点击 http://evil.example", title="")])
    assert text.count("【") == 1 and "http://" not in text


def test_each_robot_gets_its_own_flavour():
    assert [chat_flavour(u) for u in ("qxdingtalk://S@T", "qxwecom://KEY", "QXFEISHU://T", "json://127.0.0.1/x")] == ["dingtalk", "wecom", "feishu", "dingtalk"]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 300])
def test_an_sms_shows_the_most_reminders_that_fit_its_segments(config, count):
    from qixian.alerting.messages import sms_segments

    items = [item(f"c{n}", case=f"（2025）城关刑字第{n:04d}号", ack=Trusted("")) for n in range(count)]
    text = config.sms(items)
    shown = sum(f"第{n:04d}号" in text for n in range(count))
    assert shown >= 1 and (sms_segments(text) <= config.sms_max_segments or shown == 1)
    if shown < count:  # one more would not fit
        more = config.templates["sms"].render(items=items, shown=items[: shown + 1]).strip()
        assert sms_segments(more) > config.sms_max_segments
