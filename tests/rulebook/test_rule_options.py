"""Options legal staff asked for while writing the default pack."""

import pytest

from qixian.engine.examples import run_examples
from qixian.legaltime.yamlsource import ProblemsFound
from qixian.rulebook import load_pack
from tests.paths import DATA

BASE = (DATA / "family_notice.good.yaml").read_text(encoding="utf-8")


def test_examples_of_a_disabled_rule_still_run(make_pack):
    pack = load_pack(make_pack(("f.yaml", BASE.replace("    custody: true\n", "    custody: true\n    enabled: false\n    note: 待确认\n"))))
    assert [r.passed for r in run_examples(pack)] == [True]


def test_an_extension_in_another_unit_family_is_a_load_error(make_pack):
    text = BASE.replace("    custody: true\n", "    custody: true\n    extend: [{on: custody_extended, to: 3 days}]\n")
    with pytest.raises(ProblemsFound, match=r"f.yaml:13:.*延长 3日 与期限 24小时 的计算单位不一致"):
        load_pack(make_pack(("f.yaml", text)))


def test_overdue_repeats_can_be_switched_off_and_party_windows_have_none(make_pack):
    quiet = BASE.replace("    custody: true\n", "    custody: true\n    overdue: {every: null, escalate: []}\n")
    party = BASE.replace("    custody: true\n", "    custody: true\n    party_window: true\n")
    default = load_pack(make_pack(("f.yaml", BASE), name="a")).rules[0].overdue
    assert default.every is not None and default.escalate
    for text, name in ((quiet, "b"), (party, "c")):
        overdue = load_pack(make_pack(("f.yaml", text), name=name)).rules[0].overdue
        assert overdue.every is None and overdue.escalate == ()


HEARING = """rules:
  - id: admin.hearing.notice_test
    name: 听证通知送达
    group: 案件结案
    basis:
      - cite: 《公安机关办理行政案件程序规定》第一百三十六条
        text: 公安机关受理听证后，应当在举行听证的七日前将举行听证通知书送达听证申请人
    start: hearing_scheduled
    before: {moment: data.hearing_at, by: 7 days}
    stop: [hearing_notice_delivered]
    examples:
      # 03-16 不计入，其前七日 03-09 至 03-15，最后一日 03-08（星期日）→ 提前至 03-06（星期五）
      - name: 最后一日为星期日，提前
        events: [{type: hearing_scheduled, at: "2026-03-02 10:00", data: {hearing_at: "2026-03-16 09:00"}}]
        due: "2026-03-06 24:00"
"""


def test_a_backward_limit_is_counted_from_the_moment_its_start_event_carries(make_pack):
    pack = load_pack(make_pack(("f.yaml", HEARING)))
    assert [r.passed for r in run_examples(pack)] == [True]
    from qixian.rulebook.describe import explain

    text = dict(explain(pack, pack.rules[0]))["期限"]
    assert "data.hearing_at" in text and "提前至其前最后一个工作日" in text


@pytest.mark.parametrize(
    "change, message",
    [
        (("by: 7 days}", "by: 7 days}\n    limit: 3 days"), "不要再写 limit 或 lead"),
        (("moment: data.hearing_at", "moment: hearing_at"), "应写成起算事件的时间字段"),
        (("moment: data.hearing_at", "moment: data.hearing_on"), r"f.yaml:9:.*data.hearing_on 不是事件 hearing_scheduled（确定听证日期）的必填时间字段"),
        (("start: hearing_scheduled", "start: hearing_requested"), "不是事件 hearing_requested"),
        (("by: 7 days}", "by: 7 days}\n    pause: [{from: appraisal_started, until: appraisal_done}]"), "不能写 extend、pause 或 defer"),
    ],
)
def test_a_backward_limit_written_wrong_is_a_load_error(make_pack, change, message):
    with pytest.raises(ProblemsFound, match=message):
        load_pack(make_pack(("f.yaml", HEARING.replace(*change))))
