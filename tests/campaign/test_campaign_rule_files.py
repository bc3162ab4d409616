"""The campaign keys of the rule language fail loudly and precisely when written wrong, naming file and line, and a
working standard is never explained as law."""

import pytest

from qixian.legaltime.yamlsource import ProblemsFound
from qixian.rulebook import load_pack
from qixian.rulebook.describe import explain

HEAD = """rules:
  - id: campaign.test.rule
    name: 试验
    basis:
      - {cite: 《某工作规范》, kind: working_standard, text: 每周研判。}
    applies: {case.kind: duty}
"""
MISTAKES = {  # rule body after HEAD -> (line, words the reader must see)
    "every_without_due": ("    per: unit\n    start: duties_opened\n    every: {period: week}\n    stop: [duty_done]\n", 9, "every 缺少 due"),
    "every_bad_weekday": (
        '    per: unit\n    start: duties_opened\n    every: {period: week, due: "fryday 18:00"}\n    stop: [duty_done]\n',
        9,
        "周期内的期满时刻 'fryday 18:00' 应写成",
    ),
    "every_with_limit": (
        '    per: unit\n    start: duties_opened\n    every: {period: day, due: "18:00"}\n    limit: 1 day\n    stop: [duty_done]\n',
        2,
        "不要再写 limit",
    ),
    "every_period_and_interval": (
        '    start: case_listed\n    every: {period: month, due: "25 18:00", interval: 15 days}\n    stop: [listing_report_filed]\n',
        8,
        "二者只能写一个",
    ),
    "interval_field_not_a_duration": (
        "    start: case_listed\n    every: {interval: data.level}\n    stop: [listing_report_filed]\n",
        8,
        "周期间隔 data.level 不是事件 case_listed（挂牌督办）的必填期间字段",
    ),
    "assignee_without_field": ("    per: assignee\n    start: clue_closed\n    stop: [clue_verified]\n    limit: 3 days\n", 7, "须有必填字段 data.assignee"),
}
LABEL_ON_A_STATUTE = HEAD.replace("kind: working_standard,", "label: 本单位规定,") + "    start: clue_assigned\n    stop: [clue_verified]\n    limit: 3 days\n"


CASES = {name: (HEAD + body, line, words) for name, (body, line, words) in MISTAKES.items()}
CASES["label_on_a_statute"] = (LABEL_ON_A_STATUTE, 5, "label 只用于工作规范")


@pytest.mark.parametrize("mistake", sorted(CASES))
def test_each_mistake_is_named_with_file_and_line(make_pack, mistake):
    text, line, words = CASES[mistake]
    folder = make_pack(("test.yaml", text))
    with pytest.raises(ProblemsFound) as found:
        load_pack(folder)
    problems = [p for p in found.value.problems if p.source.endswith("test.yaml")]
    assert any(p.line == line and words in p.message for p in problems), [(p.line, p.message) for p in problems]


def test_a_working_standard_is_explained_as_one(make_pack):
    folder = make_pack(("test.yaml", HEAD + '    per: unit\n    start: duties_opened\n    every: {period: week, due: "周五 17:30"}\n    stop: [duty_done]\n'))
    pack = load_pack(folder)
    rule = pack.versions("campaign.test.rule")[0]
    lines = dict(explain(pack, rule))
    assert "依据" not in lines and lines["工作规范"] == "《某工作规范》：每周研判。"
    assert "工作规范（非法律规定）" in lines["分类"] and "按单位计时" in lines["分类"]
    assert lines["期限"].startswith("每周五 17:30 前完成")
    assert pack.name_of("campaign.test.rule") == "试验（工作规范）"


@pytest.mark.parametrize("interval, refused", [("15日", False), ("1日", False), ("1个月", False), ("5个工作日", False), ("24小时", True), ("90分钟", True)])
def test_a_listing_reports_at_days_or_months_and_an_hour_interval_is_refused_in_chinese(pack, interval, refused):
    """A listing's report interval is counted as a day or month limit, and its stored clocks remind by the day: an
    hour interval would be counted to the minute yet reminded by the day, so it is refused at the feed, naming the
    way to write a daily report (rules/README.md says why)."""
    import json

    from qixian.casework.feedlines import check

    line = {"id": "L1", "case": "C1", "type": "case_listed", "at": "2026-03-02 10:00", "data": {"level": "省", "leader": "officer-9", "report_every": interval}}
    item = check("feed", 1, json.dumps(line, ensure_ascii=False), line, pack.events)
    if refused:
        assert "不接受按小时、分钟的间隔" in item.reason and "每日报告写 1日" in item.reason and interval in item.reason
    else:
        assert item.case == "C1", getattr(item, "reason", "")
