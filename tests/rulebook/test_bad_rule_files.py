"""Each mistake a legal officer can make is a fixture named by its outcome, paired with where and what is said
(tests/data/rules/<mistake>.bad.yaml). A bad file loads nothing; a good file loads cleanly."""

import pytest

from qixian.legaltime.yamlsource import ProblemsFound
from qixian.rulebook import load_pack
from tests.paths import DATA

EXPECTED = {  # fixture -> (line, words every reader needs to see)
    "unknown_key": (12, "未知的键 'custdy'。是否应为 custody？"),
    "unknown_event": (9, "未知的事件类型 'detaind'。是否应为 detained？若是新的事件类型，先在规则包的 events.yaml 中添加"),
    "bad_duration": (11, "单位 'hrs' 无法识别"),
    "unquoted_number": (11, "请给这个值加引号"),
    "yes_is_not_a_boolean": (12, "custody 应为 true 或 false，收到 'yes'"),
    "missing_limit": (2, "缺少 limit"),
    "missing_basis": (2, "缺少必填项 basis"),
    "bad_group": (4, "未知的分组 '强制措失'"),
    "bad_role": (13, "未知的角色 'handlr'。是否应为 handler？"),
    "reminder_before_start": (13, "提醒时间 期满前2日 早于起算"),
    "extend_by_and_to": (13, "二者只能写一个"),
    "applies_without_root": (8, "应以 case.、person. 或 event. 开头"),
    "applies_unknown_operator": (8, "应写一个比较"),
    "lead_points_nowhere": (10, "提前量规则指向不存在的规则 'crim.detention.no_such_rule'"),
    "lead_with_limit": (2, "不要再写 start 或 limit"),
    "overlapping_versions": (17, "适用期间重叠"),
    "lead_and_plain_versions": (33, "lead_and_plain_versions.yaml:17 的同一编号规则不是。同一编号的各个版本应都写 lead 或都不写"),
    "effective_backwards": (13, "早于 from"),
    "bad_effective_date": (13, "日期 '2026-02-30' 无效"),
    "bad_id": (2, "规则编号 'Family-Notice' 应为小写英文"),
    "example_without_person": (15, "必须写明人员 person"),
    "example_bad_time": (15, "无法识别的时间 '2026-13-02 10:00'"),
    "example_unknown_event": (15, "'detaned' 未在 events.yaml 中声明。是否应为 detained？"),
    "example_bad_data": (15, "没有字段 data.days"),
    "duplicate_key": (13, "重复的键 'limit'（第 11 行已出现）"),
    "broken_indentation": (10, "YAML 格式错误"),
    "rules_not_a_list": (1, "rules 应为列表"),
    "no_rules_key": (1, "缺少必填项 rules。在文件顶层写 rules"),
    "tabs": (12, "YAML 格式错误"),
}


def test_every_fixture_has_an_expectation():
    assert {p.name.removesuffix(".bad.yaml") for p in DATA.glob("*.bad.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("mistake", sorted(EXPECTED))
def test_a_bad_file_names_file_line_and_fix_and_loads_nothing(make_pack, mistake):
    line, words = EXPECTED[mistake]
    folder = make_pack((f"{mistake}.yaml", (DATA / f"{mistake}.bad.yaml").read_text(encoding="utf-8")))
    with pytest.raises(ProblemsFound) as found:
        load_pack(folder)
    lines = [str(p) for p in found.value.problems]
    assert any(f"{mistake}.yaml:{line}:" in text and words in text for text in lines), lines
    assert all(p.source.endswith(f"{mistake}.yaml") for p in found.value.problems), lines


@pytest.mark.parametrize("good", sorted(p.name for p in DATA.glob("*.good.yaml")))
def test_good_files_load_cleanly(make_pack, good):
    pack = load_pack(make_pack(DATA / good))
    assert pack.rules and all(rule.basis for rule in pack.rules)


def test_an_unknown_event_type_with_nothing_close_says_to_declare_it(make_pack):
    text = (DATA / "unknown_event.bad.yaml").read_text(encoding="utf-8").replace("detaind", "handcuffed_at_home")
    with pytest.raises(ProblemsFound) as found:
        load_pack(make_pack(("new_event.yaml", text)))
    said = " ".join(str(p) for p in found.value.problems)
    assert "未知的事件类型 'handcuffed_at_home'" in said and "events.yaml 中添加" in said and "是否应为" not in said
    assert "可用的键" not in said  # no list of every key as if it were a misspelt key


@pytest.mark.parametrize(
    "written, words, not_said",
    [
        ('"25:00"', "时刻 '25:00' 不存在：应在 00:00 至 23:59 之间", "加引号"),  # quoted: the time is wrong, not the quoting
        ("25:00", "时刻 '25:00' 不存在", "加引号"),  # the loader reads it as text too
        ('"8:30"', "应写成两位数的 时:分", "不存在"),
    ],
)
def test_a_clock_time_is_answered_for_what_was_written(make_pack, written, words, not_said):
    folder = make_pack()
    settings = folder / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace('day_reminder_time: "08:30"', f"day_reminder_time: {written}"), encoding="utf-8")
    with pytest.raises(ProblemsFound) as found:
        load_pack(folder)
    said = [str(p) for p in found.value.problems if "day_reminder_time" in str(p)]
    assert said and words in said[0] and not_said not in said[0], said
