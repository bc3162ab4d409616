"""Reading a holiday notice: the shipped years regenerate from their own notice text, every phrasing the notices
have used is read, and whatever the notice gets wrong or we cannot read is refused with its line."""

from datetime import date

import pytest

from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.calendar_notice import NoticeRefused, overlaps, read_notice, render
from qixian.legaltime.yamlsource import load_yaml, read_yaml
from tests.paths import RULES

YEARS = sorted((RULES / "calendar").glob("*.yaml"))
TITLE = "国务院办公厅关于2027年部分节假日安排的通知"


def entries(data):
    holidays = sorted((e["name"], date.fromisoformat(e.get("from", e.get("date"))), date.fromisoformat(e.get("to", e.get("date")))) for e in data["holidays"])
    workdays = sorted((e["name"], date.fromisoformat(e["date"])) for e in data["workdays"])
    return holidays, workdays


def test_all_23_shipped_years_are_there():
    assert [int(p.stem) for p in YEARS] == list(range(2004, 2027))


@pytest.mark.parametrize("path", YEARS, ids=lambda p: p.stem)
def test_each_shipped_year_regenerates_from_its_own_notice(path):
    shipped = read_yaml(path)
    title, _, url = shipped["source"].partition(" ")
    arrangement = read_notice(f"{title}\n{shipped['notice']}")
    assert arrangement.year == shipped["year"] == int(path.stem)
    assert (sorted(arrangement.holidays()), sorted(arrangement.workdays())) == entries(shipped)
    assert arrangement.notice == shipped["notice"].rstrip("\n")
    assert entries(load_yaml(render(arrangement, url), path.name)) == entries(shipped)


def read(body: str):
    return read_notice(f"{TITLE}\n{body}")


def refused(body: str) -> str:
    with pytest.raises(NoticeRefused) as caught:
        read(body)
    return str(caught.value)


def test_full_width_digits_and_punctuation_and_both_weekday_spellings():
    arrangement = read("一、春节：２月５日（农历除夕、星期五）至１１日（周四）放假调休，共７天。２月１４日（星期天）上班。")
    assert arrangement.holidays() == [("春节", date(2027, 2, 5), date(2027, 2, 11))]
    assert arrangement.workdays() == [("春节", date(2027, 2, 14))]


def test_new_year_from_december_and_a_make_up_day_in_the_month_before():
    arrangement = read(
        "一、元旦：12月31日（周四）至1月2日（周六）放假调休，共3天。12月27日（周日）上班。\n"
        "二、国庆节、中秋节：10月1日至8日放假调休，共8天。9月26日（周日）上班。"
    )
    assert arrangement.holidays() == [("元旦", date(2026, 12, 31), date(2027, 1, 2)), ("国庆节、中秋节", date(2027, 10, 1), date(2027, 10, 8))]
    assert arrangement.workdays() == [("元旦", date(2026, 12, 27)), ("国庆节、中秋节", date(2027, 9, 26))]
    assert "2026 年的日子，依本通知列入" in render(arrangement)


def test_one_day_no_swap_and_joined_with_the_weekend():
    arrangement = read("一、元旦：1月1日（周五）放假1天，不调休。\n二、端午节：6月7日放假，与周末连休。\n三、清明节：4月4日放假，4月5日（星期一）补休。")
    assert arrangement.holidays() == [
        ("元旦", date(2027, 1, 1), date(2027, 1, 1)),
        ("清明节", date(2027, 4, 4), date(2027, 4, 5)),
        ("端午节", date(2027, 6, 5), date(2027, 6, 7)),
    ]


@pytest.mark.parametrize(
    "body, says",
    [
        ("一、元旦：1月1日（周四）至3日（周日）放假，共3天。", "1月1日写明星期四，而 2027-01-01 是星期五"),
        ("一、元旦：1月1日至3日放假，共4天。", "写明共4天，而 2027-01-01 至 2027-01-03 是 3 天"),
        ("一、春节：2月5日至11日放假调休，共7天。2月8日上班。", "调休上班日 2027-02-08 是星期一"),
        ("一、春节：2月5日至11日放假调休，共7天。2月6日（周六）上班。", "调休上班日 2027-02-06 在春节放假期间之内"),
        ("一、春节：2月5日至11日放假调休，共7天。\n二、元宵：2月11日放假。", "2027-02-11 同时出现在春节和元宵"),
        ("一、春节：2月5日至11日放假，2月13日另行安排。", "「2月13日另行安排」看不懂"),
        ("一、端午节：6月9日放假，与周末连休。", "写明与周末连休，而 2027-06-09 是星期三"),
        ("一、元旦：1月1日放假1天，不调休。1月3日（周日）上班。", "写明不调休，却又列了上班日"),
        ("一、春节：2月30日放假。", "日期「2月30日」不存在"),
    ],
)
def test_what_the_notice_gets_wrong_is_refused_with_its_line(body, says):
    message = refused(body)
    last = body.splitlines()[-1]
    assert says in message and f"通知第 {body.count(chr(10)) + 2} 行" in message and last in message


def test_a_notice_without_a_title_year_or_items_is_refused():
    with pytest.raises(NoticeRefused) as untitled:
        read_notice("放假安排如下")
    assert "找不到通知标题" in str(untitled.value)
    with pytest.raises(NoticeRefused) as dated_first:
        read_notice("一、元旦：1月1日放假。")
    assert "通知标题之前就出现了日期" in str(dated_first.value)
    assert "没有找到任何放假安排" in refused("各省、自治区、直辖市人民政府：")


def test_preamble_closing_words_and_signature_are_not_read_as_dates():
    arrangement = read(
        "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：\n"
        "经国务院批准，现将2027年元旦放假调休日期的具体安排通知如下。\n"
        "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n"
        "节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。\n国务院办公厅\n2026年11月4日"
    )
    assert arrangement.holidays() == [("元旦", date(2027, 1, 1), date(2027, 1, 3))]
    assert arrangement.notice == "一、元旦：1月1日（周五）至3日（周日）放假，共3天。"


def test_days_another_file_defines_are_named():
    arrangement = read("一、元旦：12月31日（周四）至1月2日（周六）放假，共3天。")
    problems = overlaps(arrangement, {date(2026, 12, 31): "rules/calendar/2026.yaml:20"})
    assert [str(p) for p in problems] == [
        "通知：2026-12-31（元旦）已在 rules/calendar/2026.yaml:20 中定义。应为：同一天只能写在一个年度文件中：核对通知年份，或先删去另一文件中的这一天"
    ]


def test_hostile_names_never_become_yaml(tmp_path):
    assert "含有无法识别的字符" in refused("一、春节}, x: {a：2月5日至11日放假，共7天。")
    arrangement = read("一、春节：2月5日（周五）至11日（周四）放假调休，共7天。")
    folder = tmp_path / "calendar"
    folder.mkdir()
    (folder / "2027.yaml").write_text(render(arrangement, "https://example.org/a: b #c"), encoding="utf-8")
    assert LegalCalendar.load(folder).status(date(2027, 2, 8)).reason == "春节"
