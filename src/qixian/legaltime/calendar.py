"""Official rest days and make-up working days (调休上班), one file a year under `rules/calendar/`.

The data is transcribed from each year's 国务院办公厅《关于 YYYY 年部分节假日安排的通知》, never derived
from weekday rules. A question about a year with no file never gets a silent answer: it raises
CalendarGap naming the year and the file to add.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from qixian.legaltime.localtime import WEEKDAYS
from qixian.legaltime.yamlsource import LineDict, LineList, Problem, ProblemsFound, load_yaml, outside, read_yaml, suggest

_FILE_KEYS = ("year", "source", "notice", "holidays", "workdays")
_HOLIDAY_KEYS = ("name", "from", "to", "date")
_WORKDAY_KEYS = ("name", "date")
_YEAR_FILE = re.compile(r"^(\d{4})\.ya?ml$")
_LOOSE_DATE = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")


class CalendarGap(LookupError):
    """The calendar has no data for a year that a computation needs."""

    def __init__(self, year: int, directory: str, covered: tuple[int, ...]):
        self.year = year
        self.path = f"{directory}/{year}.yaml"
        span = f"{covered[0]}–{covered[-1]}" if covered else "无"
        super().__init__(f"{year} 年的法定节假日安排未收录：请依据国务院办公厅《关于{year}年部分节假日安排的通知》添加 {self.path}（已收录 {span} 年）")


@dataclass(frozen=True, slots=True)
class DayStatus:
    day: date
    rest: bool
    reason: str  # 星期六 / 国庆节 / 调休上班（国庆节） / 工作日

    def __str__(self) -> str:
        return f"{self.day.isoformat()}（{WEEKDAYS[self.day.weekday()]}，{self.reason}）"


class LegalCalendar:
    """Which days are rest days under the official arrangement of each covered year."""

    def __init__(self, holidays: dict[date, str], workdays: dict[date, str], years, directory: str = "rules/calendar"):
        self._holidays = dict(holidays)
        self._workdays = dict(workdays)
        self.years = tuple(sorted(set(years)))
        self._covered = frozenset(self.years)
        self.directory = directory

    def digest(self) -> str:
        """A hash of what the calendar says: the years covered and every holiday and make-up working day with its
        reason. Equal for two calendars that count every period alike, whichever folder they came from."""
        listing = hashlib.sha256(repr(self.years).encode())
        for kind, days in (("holiday", self._holidays), ("workday", self._workdays)):
            for day, label in sorted(days.items()):
                listing.update(f"{kind}\0{day.isoformat()}\0{label}\n".encode())
        return listing.hexdigest()

    @classmethod
    def load(cls, directory: Path | str) -> LegalCalendar:
        """Load every `YYYY.yaml` in `directory`. Raises ProblemsFound listing every problem in every file.
        Nothing is read through a symbolic link out of the rule pack (the folder above `directory`)."""
        directory = Path(directory)
        if not directory.is_dir() and not directory.is_symlink():
            raise ProblemsFound([Problem(str(directory), 1, 1, "找不到日历目录", "应为 rules/calendar，内含 2026.yaml 等年度文件")])
        pack = Path(os.path.realpath(directory.parent))
        refused = outside(directory, pack, _display_path(directory), folder=True)
        if refused:
            raise ProblemsFound([refused])
        holidays: dict[date, str] = {}
        workdays: dict[date, str] = {}
        seen: dict[date, str] = {}
        years: list[int] = []
        problems: list[Problem] = []
        for path in sorted(directory.iterdir()):
            if path.suffix not in (".yaml", ".yml"):
                continue
            source = _display_path(path)
            match = _YEAR_FILE.match(path.name)
            if not match:
                problems.append(Problem(source, 1, 1, f"日历文件名 {path.name} 不是年份", "应命名为 2027.yaml 这样的四位年份"))
                continue
            refused = outside(path, pack, source)
            if refused:
                problems.append(refused)
                continue
            try:
                data = read_yaml(path, source)
            except ProblemsFound as found:
                problems.extend(found.problems)
                continue
            year = int(match.group(1))
            year_holidays, year_workdays, year_problems = _parse_year(data, year, source)
            problems.extend(year_problems)
            for table, parsed in ((holidays, year_holidays), (workdays, year_workdays)):
                for day, (name, line) in parsed.items():
                    if day in seen:
                        problems.append(Problem(source, line, 1, f"{day} 已在 {seen[day]} 中定义", "同一天只能写一次"))
                        continue
                    seen[day] = f"{source}:{line}"
                    table[day] = name
            years.append(year)
        if problems:
            raise ProblemsFound(problems)
        return cls(holidays, workdays, years, _display_path(directory))

    def covers(self, year: int) -> bool:
        return year in self._covered

    def status(self, day: date, *, assumed: set[int] | None = None) -> DayStatus:
        """What kind of day `day` is. Raises CalendarGap for an uncovered year, unless a set `assumed` is given:
        then only Saturdays and Sundays are rest days there and the year is added to `assumed` (for
        provisional answers that must say which years they guessed)."""
        self._check(day, assumed)
        if day in self._holidays:
            return DayStatus(day, True, self._holidays[day])
        if day in self._workdays:
            return DayStatus(day, False, f"调休上班（{self._workdays[day]}）")
        if day.weekday() >= 5:
            return DayStatus(day, True, WEEKDAYS[day.weekday()])
        return DayStatus(day, False, "工作日")

    def is_rest_day(self, day: date, *, assumed: set[int] | None = None) -> bool:
        self._check(day, assumed)
        if day in self._holidays:
            return True
        if day in self._workdays:
            return False
        return day.weekday() >= 5

    def _check(self, day: date, assumed: set[int] | None) -> None:
        if day.year not in self._covered:
            if assumed is None:
                raise CalendarGap(day.year, self.directory, self.years)
            assumed.add(day.year)

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`. Raises CalendarGap when the search leaves the data."""
        day += timedelta(days=1)
        while self.is_rest_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int, *, assumed: set[int] | None = None) -> date:
        """The `count`-th working day after `day` (`day` itself not counted)."""
        while count > 0:
            day += timedelta(days=1)
            if not self.is_rest_day(day, assumed=assumed):
                count -= 1
        return day

    def working_days_between(self, start: date, end: date, *, assumed: set[int] | None = None) -> int:
        """How many working days lie in (start, end]."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if not self.is_rest_day(day, assumed=assumed):
                count += 1
        return count

    def special_days(self, start: date, end: date) -> list[DayStatus]:
        """Official holidays and make-up working days in (start, end], for explanations; uncovered years are skipped."""
        result, day = [], start
        while day < end:
            day += timedelta(days=1)
            if day in self._holidays or day in self._workdays:
                result.append(self.status(day))
        return result


def defined_days(directory: Path | str, *, skip: Path | None = None) -> dict[date, str]:
    """Every day the year files in `directory` (but `skip`) define, with the file and line that define it, for
    checking a new year against its neighbours. Raises ProblemsFound when one of those files is wrong."""
    days: dict[date, str] = {}
    problems: list[Problem] = []
    for path in sorted(Path(directory).glob("*.y*ml")):
        match = _YEAR_FILE.match(path.name)
        if not match or (skip is not None and path.resolve() == skip.resolve()):
            continue
        source = _display_path(path)
        try:
            found_holidays, found_workdays, found_problems = _parse_year(read_yaml(path, source), int(match.group(1)), source)
        except ProblemsFound as found:
            problems.extend(found.problems)
            continue
        problems.extend(found_problems)
        for day, (_, line) in (found_holidays | found_workdays).items():
            days[day] = f"{source}:{line}"
    if problems:
        raise ProblemsFound(problems)
    return days


def check_year_text(text: str, year: int, source: str) -> None:
    """Raises ProblemsFound unless `text` is a valid year file for `year` (before it is written anywhere)."""
    _, _, problems = _parse_year(load_yaml(text, source), year, source)
    if problems:
        raise ProblemsFound(problems)


def _display_path(path: Path) -> str:
    """`path` relative to the working folder; a symbolic link is named, never what it points to."""
    try:
        return str((path.parent.resolve() / path.name).relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _parse_year(data: object, year: int, source: str) -> tuple[dict[date, tuple[str, int]], dict[date, tuple[str, int]], list[Problem]]:
    """Check one year's file. Returns ({date: (name, line)} for holidays, the same for workdays, problems)."""
    problems: list[Problem] = []
    holidays: dict[date, tuple[str, int]] = {}
    workdays: dict[date, tuple[str, int]] = {}
    if not isinstance(data, LineDict):
        return holidays, workdays, [Problem(source, 1, 1, "日历文件应为键值对", "参照 2026.yaml 的格式：year、source、notice、holidays、workdays")]
    for key in data:
        if key not in _FILE_KEYS:
            line, col = data.line_of(key)
            problems.append(Problem(source, line, col, f"未知的键 {key!r}", suggest(key, _FILE_KEYS)))
    declared = data.get("year")
    if declared != year:
        line, col = data.line_of("year")
        problems.append(Problem(source, line, col, f"year 为 {declared!r}，与文件名 {year} 不符", f"写 year: {year}"))
    for key, allowed, target, kind in (("holidays", _HOLIDAY_KEYS, holidays, "放假日"), ("workdays", _WORKDAY_KEYS, workdays, "调休上班日")):
        entries = data.get(key)
        if entries is None:
            line, col = data.line_of(key) if key in data else (data.line, data.column)
            problems.append(Problem(source, line, col, f"缺少 {key}（{kind}列表）", f"没有{kind}时写 {key}: []"))
            continue
        if not isinstance(entries, LineList):  # every YAML list is read as a LineList
            line, col = data.line_of(key)
            problems.append(Problem(source, line, col, f"{key} 应为列表", f"每项写成 - {{name: 国庆节, date: {year}-10-01}}"))
            continue
        for index, entry in enumerate(entries):
            problems.extend(_parse_entry(entry, entries.line_of(index), allowed, target, kind, year, source, key))
    return holidays, workdays, problems


def _parse_entry(
    entry: object, where: tuple[int, int], allowed: tuple[str, ...], target: dict[date, tuple[str, int]], kind: str, year: int, source: str, key: str
) -> list[Problem]:
    line = where[0]
    if not isinstance(entry, LineDict):
        return [Problem(source, *where, f"{key} 的每一项应为 {{name: ..., date: ...}}", "参照 2026.yaml 的格式")]
    problems: list[Problem] = []
    for field in entry:
        if field not in allowed:
            problems.append(Problem(source, *entry.line_of(field), f"未知的键 {field!r}", suggest(field, allowed)))
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(source, line, entry.column, "缺少节日名称 name", "例如 name: 国庆节"))
        name = "?"
    days: list[date] = []
    if "date" in entry:
        if "from" in entry or "to" in entry:
            problems.append(Problem(source, line, entry.column, "date 与 from/to 只能写一种", "单日写 date，连续多日写 from 和 to"))
        day = _date(entry, "date", source, problems)
        days = [day] if day else []
    elif "from" in entry and "to" in entry and key == "holidays":
        first, last = _date(entry, "from", source, problems), _date(entry, "to", source, problems)
        if first and last:
            if last < first:
                problems.append(Problem(source, *entry.line_of("to"), f"to {last} 早于 from {first}", "检查起止日期"))
            days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    else:
        how = "单日写 date，连续多日写 from 和 to" if key == "holidays" else "写 date"
        problems.append(Problem(source, line, entry.column, f"{kind}缺少日期", how))
    for day in days:
        if abs(day.year - year) > 1:
            problems.append(Problem(source, line, entry.column, f"{day} 不在 {year} 年前后", "检查年份"))
        elif key == "workdays" and day.weekday() < 5:
            problems.append(
                Problem(source, line, entry.column, f"调休上班日 {day} 是{WEEKDAYS[day.weekday()]}", "调休上班日应为周六或周日；工作日本来就上班，无需列出")
            )
        elif day in target:
            problems.append(Problem(source, line, entry.column, f"{day} 重复列出", "同一天只写一次"))
        else:
            target[day] = (name, line)
    return problems


def _date(entry: LineDict, field: str, source: str, problems: list[Problem]) -> date | None:
    value = entry.get(field)
    match = _LOOSE_DATE.match(str(value)) if isinstance(value, str) else None
    if match:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    problems.append(Problem(source, *entry.line_of(field), f"{field} 的日期 {value!r} 无效", "写成 2027-10-01"))
    return None
