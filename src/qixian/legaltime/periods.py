"""Durations as the law states them (`3日`, `24小时`, `2个月`, `5个工作日`, `半个月`) and month arithmetic.

Month periods follow 最高法《关于适用刑事诉讼法的解释》第二百零二条 and 民法典第二百零三条: from day D of a
month to day D of the target month; a start on the last day of a month, or a target day that does not exist,
ends on the last day of the target month; several months are counted directly from the start, never month
by month; 半个月 is always fifteen days.
"""

from __future__ import annotations

import calendar as _gregorian
import re
from dataclasses import dataclass
from datetime import date
from enum import Enum


class Unit(Enum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WORKDAYS = "workdays"
    MONTHS = "months"

    # Set for each member below:
    exact: bool  # counted to the minute from the start instant, never rolled for holidays
    family: str  # units of one family extend each other: "exact" instants, "calendar" dates, "workdays"
    label: str  # the Chinese unit word


for _unit, _family, _label in (
    (Unit.MINUTES, "exact", "分钟"),
    (Unit.HOURS, "exact", "小时"),
    (Unit.DAYS, "calendar", "日"),
    (Unit.MONTHS, "calendar", "个月"),
    (Unit.WORKDAYS, "workdays", "个工作日"),
):
    _unit.exact, _unit.family, _unit.label = _family == "exact", _family, _label

UNIT_WORDS = {  # every unit word a duration may be written with (English ones in any case)
    "minute": Unit.MINUTES,
    "minutes": Unit.MINUTES,
    "min": Unit.MINUTES,
    "分钟": Unit.MINUTES,
    "hour": Unit.HOURS,
    "hours": Unit.HOURS,
    "h": Unit.HOURS,
    "小时": Unit.HOURS,
    "个小时": Unit.HOURS,
    "day": Unit.DAYS,
    "days": Unit.DAYS,
    "d": Unit.DAYS,
    "日": Unit.DAYS,
    "天": Unit.DAYS,
    "workday": Unit.WORKDAYS,
    "workdays": Unit.WORKDAYS,
    "工作日": Unit.WORKDAYS,
    "个工作日": Unit.WORKDAYS,
    "month": Unit.MONTHS,
    "months": Unit.MONTHS,
    "月": Unit.MONTHS,
    "个月": Unit.MONTHS,
}
HALF_MONTH_WORDS = ("半个月", "half month", "half a month")  # each exactly so: fifteen days

_CHINESE_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isascii() and c.isalpha() else c for c in word)


# The one grammar of a duration, written in the regular expressions both Python and JSON Schema (ECMA-262) read:
# the rule files' editor schema (rulebook/schema.py) uses DURATION_PATTERN itself. A number is written in digits
# (ASCII or full-width) or in Chinese up to 九十九 (三, 十, 十五, 二十四).
_ONE_DIGIT = "[零一二两三四五六七八九]"
NUMBER_PATTERN = f"[0-9０-９]+|{_ONE_DIGIT}?十{_ONE_DIGIT}?|{_ONE_DIGIT}"
UNIT_PATTERN = "|".join(_any_case(w) for w in sorted(UNIT_WORDS, key=len, reverse=True))
DURATION_FORMS = rf"({NUMBER_PATTERN})\s*({UNIT_PATTERN})|(" + "|".join(HALF_MONTH_WORDS) + ")"  # (number, unit) or half a month
DURATION_PATTERN = rf"^\s*(?:{DURATION_FORMS})\s*$"
_DURATION = re.compile(DURATION_PATTERN)
_LOOSE = re.compile(r"^\s*(?P<n>\d+|[零一二两三四五六七八九十]+)\s*(?P<unit>[A-Za-z]+|[\u4e00-\u9fff]+)\s*$")  # only to say what is wrong

ACCEPTED_FORMS = ("3 days", "3日", "3天", "24 hours", "24小时", "30 minutes", "30分钟", "2 months", "2个月", "5 workdays", "5个工作日", "半个月")


class DurationError(ValueError):
    """A duration that is not `N unit` in an accepted form."""


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.label}"


HALF_MONTH = Duration(15, Unit.DAYS)


def parse_duration(text: object) -> Duration:
    """Parse `N unit` in English or Chinese (`3 days`, `3日`, `24小时`, `2个月`, `5个工作日`, `半个月`).

    Raises DurationError naming the accepted forms."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise DurationError(f"期限应写成“数字+单位”的文字，收到 {text!r}。可用写法：{', '.join(ACCEPTED_FORMS)}")
    if isinstance(text, int):
        raise DurationError(f"期限 {text} 缺少单位（小时、日、个月、个工作日……）。可用写法：{', '.join(ACCEPTED_FORMS)}")
    match = _DURATION.match(text)
    if match is None:
        loose = _LOOSE.match(text)
        if loose is not None and loose["unit"].lower() not in UNIT_WORDS:
            raise DurationError(
                f"期限 {text!r} 的单位 {loose['unit']!r} 无法识别：应为 分钟、小时、日/天、个工作日、个月（minutes, hours, days, workdays, months）"
            )
        if loose is not None and not loose["n"].isdigit():
            raise DurationError(f"无法识别的数字 {loose['n']!r}，请写阿拉伯数字，如 30日")
        raise DurationError(f"无法识别的期限 {text!r}。可用写法：{', '.join(ACCEPTED_FORMS)}")
    number, unit, half = match.groups()
    if half:
        return HALF_MONTH
    return Duration(_number(number), UNIT_WORDS[unit.lower()])


def _number(text: str) -> int:
    """A number as NUMBER_PATTERN takes it: digits, or Chinese up to 九十九."""
    if text.isdigit():
        return int(text)
    tens, ten, ones = text.partition("十")
    if not ten:
        return _CHINESE_DIGITS[text]
    return _CHINESE_DIGITS.get(tens, 1) * 10 + (_CHINESE_DIGITS[ones] if ones else 0)


def last_day_of_month(day: date) -> bool:
    return day.day == _gregorian.monthrange(day.year, day.month)[1]


def add_months(start: date, months: int) -> date:
    """`start` + N months, directly: same day of the target month, else its last day; a start on the
    last day of a month ends on the last day of the target month."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _gregorian.monthrange(year, month)[1]
    if last_day_of_month(start) or start.day > last:
        return date(year, month, last)
    return date(year, month, start.day)
