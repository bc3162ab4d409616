from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qixian.legaltime.periods import Duration, DurationError, Unit, add_months, last_day_of_month, parse_duration


@pytest.mark.parametrize(
    "text, amount, unit",
    [
        ("3 days", 3, Unit.DAYS),
        ("1 day", 1, Unit.DAYS),
        ("3日", 3, Unit.DAYS),
        ("3天", 3, Unit.DAYS),
        ("24小时", 24, Unit.HOURS),
        ("24 hours", 24, Unit.HOURS),
        ("1 hour", 1, Unit.HOURS),
        ("0 hours", 0, Unit.HOURS),
        ("30分钟", 30, Unit.MINUTES),
        ("30 minutes", 30, Unit.MINUTES),
        ("2个月", 2, Unit.MONTHS),
        ("2 months", 2, Unit.MONTHS),
        ("12个月", 12, Unit.MONTHS),
        ("1月", 1, Unit.MONTHS),
        ("5个工作日", 5, Unit.WORKDAYS),
        ("5工作日", 5, Unit.WORKDAYS),
        ("5 workdays", 5, Unit.WORKDAYS),
        ("半个月", 15, Unit.DAYS),
        ("十五日", 15, Unit.DAYS),
        ("三十日", 30, Unit.DAYS),
        ("二十四小时", 24, Unit.HOURS),
        ("两个月", 2, Unit.MONTHS),
        ("  7 Days ", 7, Unit.DAYS),
    ],
)
def test_accepted_forms(text, amount, unit):
    assert parse_duration(text) == Duration(amount, unit)


@pytest.mark.parametrize(
    "text, words",
    [
        ("3 weeks", "weeks"),
        ("3", "无法识别"),
        ("days", "无法识别"),
        ("-1 days", "无法识别"),
        ("1.5 days", "无法识别"),
        ("", "无法识别"),
        ("3 日日", "日日"),
        ("3年", "3年"),
    ],
)
def test_rejected_forms_name_the_accepted_ones(text, words):
    with pytest.raises(DurationError) as err:
        parse_duration(text)
    message = str(err.value)
    assert words in message
    assert "3 days" in message or "个工作日" in message


@pytest.mark.parametrize("value", [3, True, None, 2.5, ["3 days"]])
def test_non_text_is_rejected_with_advice(value):
    with pytest.raises(DurationError, match=r"单位|文字"):
        parse_duration(value)


def test_display_is_chinese():
    assert str(parse_duration("3 days")) == "3日"
    assert str(parse_duration("5 workdays")) == "5个工作日"
    assert str(parse_duration("2 months")) == "2个月"
    assert str(parse_duration("24 hours")) == "24小时"


# 最高法刑诉解释第二百零二条 and 民法典第二百零三条, worked by hand.
@pytest.mark.parametrize(
    "start, months, end",
    [
        (date(2026, 3, 1), 2, date(2026, 5, 1)),  # 3-1 to 5-1: same day of the target month
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # last day of January -> last day of February
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap February
        (date(2026, 2, 28), 1, date(2026, 3, 31)),  # 2-28 is the last day of a common February -> 3-31
        (date(2024, 2, 28), 1, date(2024, 3, 28)),  # in a leap year 2-28 is not the last day
        (date(2024, 2, 29), 1, date(2024, 3, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),  # 4-31 does not exist -> last day of April
        (date(2025, 1, 30), 1, date(2025, 2, 28)),
        (date(2025, 1, 30), 2, date(2025, 3, 30)),  # direct, not 1-30 -> 2-28 -> 3-31
        (date(2026, 4, 30), 1, date(2026, 5, 31)),  # 4-30 is the last day of April -> 5-31
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 31), -1, date(2025, 12, 31)),  # counted back, for lead rules
        (date(2026, 3, 30), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_follows_article_202(start, months, end):
    assert add_months(start, months) == end


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(0, 36))
def test_add_months_lands_in_the_right_month_on_the_right_day(start, months):
    end = add_months(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
    if last_day_of_month(start):
        assert last_day_of_month(end)
    else:
        assert end.day == start.day or (last_day_of_month(end) and end.day < start.day)


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(0, 24))
def test_add_months_is_monotone_in_the_start(a, b, months):
    first, second = sorted((a, b))
    assert add_months(first, months) <= add_months(second, months)
