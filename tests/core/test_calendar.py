"""The calendar data as the engine loads it: cross-checked, held to the statutory day count, and strict."""

import shutil
from collections import Counter
from datetime import date, timedelta

import chinese_calendar
import pytest

from qixian.legaltime.calendar import CalendarGap, LegalCalendar
from qixian.legaltime.yamlsource import ProblemsFound
from tests.paths import RULES

NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
# Where the files follow the State Council notice and chinesecalendar 1.11.0 does not.
NOTICE_OVER_LIBRARY = {
    date(2005, 12, 31): "《2006年部分节假日安排的通知》：12月31日(星期六)上班",
}


def every_day(first=date(2004, 1, 1), last=date(2026, 12, 31)):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def test_covers_2004_to_2026(calendar):
    assert calendar.years == tuple(range(2004, 2027))


def test_every_day_agrees_with_chinesecalendar(calendar):
    """Same rest days; the same festival, where a joint break (中秋节、国庆节, as its notice names it) counts for each."""
    disagreements = {}
    for day in every_day():
        ours = calendar.status(day)
        _rest, name = chinese_calendar.get_holiday_detail(day)
        theirs_working = chinese_calendar.is_workday(day)
        if ours.rest == theirs_working:
            disagreements[day] = (ours, theirs_working)
        elif name and day in chinese_calendar.constants.holidays:
            assert NAMES[name] in ours.reason.split("、"), day
        elif name and day in chinese_calendar.constants.workdays:
            assert NAMES[name] in ours.reason.removeprefix("调休上班（").removesuffix("）").split("、"), day
    assert set(disagreements) == set(NOTICE_OVER_LIBRARY)
    assert not calendar.is_rest_day(date(2005, 12, 31))


def test_net_days_off_match_the_statutory_holidays(calendar):
    """Holidays on weekdays minus make-up working weekend days = the statutory days of that year's notice.
    December days named 元旦 belong to the next year's notice."""
    net = Counter()
    for day in every_day():
        status = calendar.status(day)
        notice = day.year + 1 if day.month == 12 and "元旦" in status.reason else day.year
        net[notice] += (status.rest and day.weekday() < 5) - (not status.rest and day.weekday() >= 5)
    statutory = {year: 10 if year < 2008 else 11 if year < 2025 else 13 for year in range(2004, 2027)}
    statutory[2015] += 1  # 9月3日 抗战胜利70周年纪念日 放假1天（国务院通知 2015-05）
    statutory[2020] += 2  # 春节假期延长至2月2日：1月31日（周五）放假、2月1日（周六）不再上班
    assert dict(net) == statutory


def test_2026_spring_festival_and_national_day(calendar):
    assert not calendar.is_rest_day(date(2026, 2, 14))  # 周六调休上班
    assert all(calendar.is_rest_day(date(2026, 2, d)) for d in range(15, 24))
    assert not calendar.is_rest_day(date(2026, 2, 24))
    assert not calendar.is_rest_day(date(2026, 2, 28))  # 周六调休上班
    assert not calendar.is_rest_day(date(2026, 9, 20))  # 周日调休上班
    assert all(calendar.is_rest_day(date(2026, 10, d)) for d in range(1, 8))
    assert not calendar.is_rest_day(date(2026, 10, 10))  # 周六调休上班
    assert calendar.status(date(2026, 10, 3)).reason == "国庆节"
    assert calendar.status(date(2026, 2, 14)).reason == "调休上班（春节）"
    assert calendar.next_working_day(date(2026, 2, 15)) == date(2026, 2, 24)
    assert calendar.next_working_day(date(2026, 2, 13)) == date(2026, 2, 14)
    assert calendar.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert calendar.working_days_between(date(2026, 2, 1), date(2026, 2, 28)) == 16


def test_a_missing_year_is_never_answered_silently(calendar):
    with pytest.raises(CalendarGap) as gap:
        calendar.is_rest_day(date(2027, 1, 1))
    assert gap.value.year == 2027
    assert "rules/calendar/2027.yaml" in str(gap.value)
    assert "国务院办公厅" in str(gap.value)
    with pytest.raises(CalendarGap):
        calendar.next_working_day(date(2026, 12, 31))  # 2027-01-01 is unknown
    with pytest.raises(CalendarGap):
        calendar.status(date(2003, 12, 31))
    assumed = set()
    assert calendar.status(date(2027, 1, 2), assumed=assumed).rest  # a Saturday, for provisional answers
    assert assumed == {2027}


def test_next_year_is_added_by_a_file_not_code(tmp_path):
    folder = tmp_path / "calendar"
    shutil.copytree(RULES / "calendar", folder)
    (folder / "2027.yaml").write_text(
        "year: 2027\nsource: 国务院办公厅关于2027年部分节假日安排的通知（测试用）\nnotice: ''\n"
        "holidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n"
        "workdays: []\n",
        encoding="utf-8",
    )
    calendar = LegalCalendar.load(folder)
    assert calendar.covers(2027)
    assert calendar.next_working_day(date(2026, 12, 31)) == date(2027, 1, 4)
    assert calendar.status(date(2027, 1, 1)).reason == "元旦"


GOOD = "year: 2027\nsource: x\nnotice: ''\nholidays:\n  - {name: 元旦, date: 2027-01-01}\nworkdays: []\n"


@pytest.mark.parametrize(
    "text, where, words",
    [
        (GOOD.replace("holidays:", "holiday:"), ":4:1:", "是否应为 holidays"),
        (GOOD.replace("year: 2027", "year: 2028"), ":1:1:", "与文件名 2027 不符"),
        (GOOD.replace("workdays: []", "workdays:\n  - {name: 元旦, date: 2027-01-05}"), ":7:", "调休上班日 2027-01-05 是星期二"),
        (GOOD.replace("date: 2027-01-01", "date: 2027-13-01"), ":5:", "日期 '2027-13-01' 无效"),
        (GOOD.replace("date: 2027-01-01", "from: 2027-01-03, to: 2027-01-01"), ":5:", "早于"),
        (GOOD.replace("{name: 元旦, date", "{nmae: 元旦, date"), ":5:", "是否应为 name"),
        (GOOD.replace("workdays: []\n", ""), ":1:1:", "缺少 workdays"),
        (GOOD.replace("  - {name: 元旦, date: 2027-01-01}", "  - {name: 元旦, date: 2027-01-01\n"), ":", "YAML 格式错误"),
        (GOOD + "workdays: []\n", ":7:1:", "重复的键"),
        (
            GOOD.replace("workdays: []", "workdays:\n  - {name: 元旦, date: 2027-01-02}").replace("date: 2027-01-01", "date: 2027-01-02"),
            ":7:",
            "2027-01-02 已在",
        ),
        (GOOD.replace("  - {name: 元旦, date: 2027-01-01}", "  - 2027-01-01"), ":5:", "每一项应为"),
    ],
)
def test_bad_files_name_file_line_and_fix_and_load_nothing(tmp_path, text, where, words):
    (tmp_path / "2026.yaml").write_text((RULES / "calendar" / "2026.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "2027.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ProblemsFound) as found:
        LegalCalendar.load(tmp_path)
    lines = [str(p) for p in found.value.problems]
    assert any("2027.yaml" in line and where in line and words in line for line in lines), lines


def test_every_problem_is_reported_at_once(tmp_path):
    (tmp_path / "2027.yaml").write_text(GOOD.replace("holidays:", "holiday:").replace("year: 2027", "year: 27"), encoding="utf-8")
    (tmp_path / "notes.yaml").write_text("x: 1\n", encoding="utf-8")
    with pytest.raises(ProblemsFound) as found:
        LegalCalendar.load(tmp_path)
    messages = [p.message for p in found.value.problems]
    assert len(messages) == 4, messages  # unknown key, missing holidays, wrong year, file name


def test_a_file_that_is_not_utf8_is_reported(tmp_path):
    (tmp_path / "2027.yaml").write_bytes(GOOD.replace("元旦", "元旦").encode("gbk"))
    with pytest.raises(ProblemsFound, match="UTF-8"):
        LegalCalendar.load(tmp_path)
