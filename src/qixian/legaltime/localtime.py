"""Local legal time: the zone, parsing officers' time strings, and the `D 24:00` display.

A period that ends "at 24:00 of D" is stored as the instant 00:00 of D+1 and always shown as `D 24:00`
(期满日二十四时), never as `D+1 00:00`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

_LOCAL = re.compile(
    r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:时](\d{2})?(?:[:分](\d{2}))?(?:秒|分)?)?\s*$"
)

_PLAIN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d", re.ASCII)  # `2025-09-29 15:40`, as most times come


# datetime's ValueError for a field out of its range, said in Chinese
_OUT_OF_RANGE = (
    ("day is out of range", "该月没有这一天"),
    ("month", "月份应为 1–12"),
    ("hour", "小时应为 0–23（或 24:00）"),
    ("minute", "分钟应为 0–59"),
    ("second", "秒应为 0–59"),
    ("year", "年份超出范围"),
)


class TimeFormatError(ValueError):
    """A time string that is not a date or date-time we accept."""


def parse_local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    """Parse `2025-09-29 15:40`, `2025-09-29`, `2025/9/29 15:40`, `2025年9月29日 15时40分`
    or ISO 8601 with an offset. Times without an offset are in `zone`. Raises TimeFormatError."""
    if len(text) == 16 and _PLAIN.fullmatch(text):  # the form case systems export, read 4x faster
        try:
            naive = datetime.fromisoformat(text)
            return datetime.combine(naive.date(), naive.time(), zone)  # (twice as fast as .replace(tzinfo=zone))
        except ValueError:
            pass  # 24:00, 2025-02-30: the general reading below accepts or says why
    raw = text.strip()
    if raw.endswith("24:00") and len(raw) > 5:
        return end_of_day(parse_local(raw[:-5], zone).date(), zone)
    match = _LOCAL.match(raw)
    try:
        if match:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
            return datetime(y, mo, d, h, mi, s, tzinfo=zone)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        why = next((chinese for english, chinese in _OUT_OF_RANGE if english in str(exc)), "格式应为日期或日期加时间") if match else "格式应为日期或日期加时间"
        raise TimeFormatError(f"无法识别的时间 {text!r}：{why}；请写成 2025-09-29 15:40、2025-09-29 或 2025年9月29日 15时40分") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def as_local(instant: datetime, zone: tzinfo = SHANGHAI) -> datetime:
    """The instant in `zone`; a naive datetime is taken to be local already."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=zone)
    return instant.astimezone(zone)


def end_of_day(day: date, zone: tzinfo = SHANGHAI) -> datetime:
    """The instant 24:00 of `day`, i.e. 00:00 of the next day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def display(instant: datetime, zone: tzinfo = SHANGHAI) -> str:
    """`YYYY-MM-DD HH:MM` in `zone`; midnight is shown as the previous day's `24:00`."""
    local = as_local(instant, zone)
    if local.hour == 0 and local.minute == 0 and local.second == 0:
        return f"{(local.date() - timedelta(days=1)).isoformat()} 24:00"
    return moment(local)


def moment(instant: datetime) -> str:
    """`YYYY-MM-DD HH:MM` of the instant as it is (a start or an act; no 24:00 form)."""
    return f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d} {instant.hour:02d}:{instant.minute:02d}"


def span(delta: timedelta) -> str:
    """A length of time as officers read it on a reminder: 2天3小时 / 5小时12分 / 40分钟 (sign ignored)."""
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}天{hours}小时" if days else f"{hours}小时{rest // 60}分" if hours else f"{rest // 60}分钟"


def describe_day(day: date) -> str:
    """`2025-10-02（星期四）`."""
    return f"{day.isoformat()}（{WEEKDAYS[day.weekday()]}）"
