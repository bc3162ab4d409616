"""Reading a State Council holiday notice (《关于 YYYY 年部分节假日安排的通知》) into a year of the legal calendar.

Pure text in, text out: `read_notice` turns the notice as published into an `Arrangement` or raises NoticeRefused
with every line it could not read and what it expected there; `overlaps` checks it against the days other calendar
files already define; `render` writes the year file in the format of `rules/calendar/*.yaml`. The command
`qixian calendar import` does the file handling.

What the notice states is checked, never assumed: each written weekday against the real one, 共N天 against the range,
make-up days on a Saturday or Sunday and outside the break, no day in two items. What the file records:

- holidays: the days the notice names as the break: `X至Y放假` is X..Y; `X放假，Y补休` is X..Y; `X放假，与周末连休`
  adds the adjoining Saturday and Sunday. A December day in the 元旦 item belongs to the year before; the file of
  the notice's year still holds it (the calendar merges all files).
- workdays: the dates of each `……上班` clause (not `……起正常上班`).
- a later notice about the same year (its title line, then its paragraphs: 2015's anniversary, 2019's 劳动节,
  2020's longer 春节) replaces the arrangement of the festival its title names, or adds one named by its title;
  `延长……假期至D` moves that festival's last day to D and drops make-up days inside the longer break.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from qixian.legaltime.localtime import WEEKDAYS

FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
_ALIASES = {
    "五一": "劳动节",
    "五一国际劳动节": "劳动节",
    "国际劳动节": "劳动节",
    "十一": "国庆节",
    "清明": "清明节",
    "端午": "端午节",
    "中秋": "中秋节",
    "国庆": "国庆节",
    "新年": "元旦",
}
_NUMERALS = "〇一二三四五六七八九十"
_WEEKDAY_WORDS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_TABLE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "（": "(",
        "）": ")",
        "：": ":",
        "，": ",",
        "；": ";",
        "。": ".",
        "－": "—",
        "–": "—",
        "～": "—",
        "~": "—",
        "-": "—",
        "　": "",
        " ": "",
        "\t": "",
        "“": "",
        "”": "",
        '"': "",
        "「": "",
        "」": "",
        "‘": "",
        "’": "",
    }
)
_DATE = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:\(([^()]*)\))?")
_ITEM = re.compile(r"^([一二三四五六七八九十]+)、([^:]{1,40}):(.*)$")
_TITLE = re.compile(r"关于.*通知$")
_YEAR = re.compile(r"(\d{4})年")
_ISSUED = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
_SUBJECT = re.compile(r"关于(?:调整|延长)?(?:\d{4}年)?(.+?)(?:调休放假|放假调休|部分节假日安排|假期安排|假期|放假)?的通知$")
_PLACE = re.compile(r"\x00(\d+)\x00")
_RANGE = re.compile(r"\x00(\d+)\x00(?:至|—+)\x00(\d+)\x00")
_MAKEUP = re.compile(r"^(?:\x00\d+\x00、?)+(?:照常)?上班$")
_COUNT = re.compile(r"共([\d〇一二三四五六七八九十]+)天")
_DAYS_OFF = re.compile(r"放假([\d〇一二三四五六七八九十]+)天")
_EXTEND = re.compile(r"延长.*?假期至\x00(\d+)\x00")
_BACK = re.compile(r"^\x00(\d+)\x00起(?:正常)?上班$")
_NAME_CHARS = re.compile(r"^[\u4e00-\u9fff0-9A-Za-z、·]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\ufffe\uffff\ud800-\udfff]")
MAX_LINES = 400


@dataclass(frozen=True, slots=True)
class NoticeProblem:
    line: int  # 1-based line of the notice text; 0 for the whole text
    text: str
    message: str
    expected: str

    def __str__(self) -> str:
        where = f"通知第 {self.line} 行" if self.line else "通知"
        quoted = f"\n    {self.text}" if self.text else ""
        return f"{where}：{self.message}。应为：{self.expected}{quoted}"


class NoticeRefused(ValueError):
    """The notice could not be read in full; nothing may be written."""

    def __init__(self, problems: list[NoticeProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(slots=True)
class Festival:
    """One item of a notice: the break and its make-up working days."""

    name: str
    first: date
    last: date
    workdays: list[date] = field(default_factory=list)
    line: int = 0


@dataclass(slots=True)
class Arrangement:
    """One year's arrangement as the notice (and any later notice about that year) states it."""

    year: int
    title: str
    notice: str  # the lines that carry the arrangement, verbatim
    festivals: list[Festival]

    def holidays(self) -> list[tuple[str, date, date]]:
        return sorted(((f.name, f.first, f.last) for f in self.festivals), key=lambda h: h[1])

    def workdays(self) -> list[tuple[str, date]]:
        return sorted(((f.name, d) for f in self.festivals for d in f.workdays), key=lambda w: w[1])

    def days(self) -> dict[date, str]:
        """Every day the file defines, with its festival (for overlap checks)."""
        result = {}
        for name, first, last in self.holidays():
            for offset in range((last - first).days + 1):
                result[first + timedelta(days=offset)] = name
        result.update({day: name for name, day in self.workdays()})
        return result


class _Refuse(Exception):
    def __init__(self, message: str, expected: str, line: int | None = None):
        super().__init__(message)
        self.message, self.expected, self.line = message, expected, line


@dataclass(slots=True)
class _Mention:
    day: date
    line: int


@dataclass(slots=True)
class _Block:
    """An item (一、春节：……) or an unnumbered paragraph of a later notice, with its continuation lines."""

    name: str
    lines: list[tuple[int, str]]  # (line number, normalized text)
    amends: bool = False


def read_notice(text: str) -> Arrangement:
    """The arrangement a notice states. Raises NoticeRefused naming every line it cannot read."""
    raw = text.lstrip("\ufeff").splitlines()
    if len(raw) > MAX_LINES:
        raise NoticeRefused([NoticeProblem(0, "", f"通知有 {len(raw)} 行，过长", f"只粘贴通知正文（不超过 {MAX_LINES} 行）")])
    problems: list[NoticeProblem] = []
    title, year, blocks, kept = _split(raw, problems)
    if year is None:
        raise NoticeRefused(problems)
    festivals: list[Festival] = []
    for block in blocks:
        try:
            if block.amends:
                _amend(festivals, block, year)
            else:
                festivals.append(_festival(block, year))
        except _Refuse as refused:
            number = refused.line or block.lines[0][0]
            problems.append(NoticeProblem(number, raw[number - 1].strip(), refused.message, refused.expected))
    if not festivals and not problems:
        problems.append(NoticeProblem(0, "", "没有找到任何放假安排", "通知正文逐项列出，如「一、元旦：1月1日（周五）至3日（周日）放假，共3天。」"))
    if not problems:
        problems.extend(_conflicts(festivals, year, raw))
    if problems:
        raise NoticeRefused(sorted(problems, key=lambda p: p.line))
    return Arrangement(year, title, "\n".join(kept), festivals)


def _split(raw: list[str], problems: list[NoticeProblem]) -> tuple[str, int | None, list[_Block], list[str]]:
    """Title, year, the blocks to read and the lines to keep as the notice text."""
    title, year, subject = "", None, ""
    blocks: list[_Block] = []
    kept: list[str] = []
    for number, line in enumerate(raw, 1):
        if _CONTROL.search(line):
            problems.append(NoticeProblem(number, repr(line.strip())[1:-1], "含有控制字符", "通知原文的文字"))
            continue
        norm = line.translate(_TABLE).strip()
        if not norm:
            continue
        if _TITLE.search(norm) and not _DATE.search(norm):
            if year is None:
                found = _YEAR.search(norm)
                if found:
                    title, year = line.strip(), int(found.group(1))
                    continue
                problems.append(NoticeProblem(number, line.strip(), "通知标题中没有年份", "国务院办公厅关于2027年部分节假日安排的通知"))
                return title, None, blocks, kept
            found = _SUBJECT.search(norm)
            subject = _festival_name(found.group(1)) if found else ""
            if not subject or not _NAME_CHARS.match(subject):
                problems.append(
                    NoticeProblem(number, line.strip(), "看不出这份通知调整的是哪个节日", "标题如「国务院办公厅关于调整2019年劳动节假期安排的通知」")
                )
                subject = "?"
            kept.extend(["", line.strip()])
            continue
        if year is None:
            if _DATE.search(norm):
                problems.append(
                    NoticeProblem(number, line.strip(), "通知标题之前就出现了日期", "第一行为通知标题，如「国务院办公厅关于2027年部分节假日安排的通知」")
                )
                return title, None, blocks, kept
            continue  # anything above the title
        item = _ITEM.match(norm)
        if item:
            name = _festival_name(item.group(2))
            if not _NAME_CHARS.match(name):
                problems.append(
                    NoticeProblem(
                        number,
                        line.strip(),
                        f"节日名称「{item.group(2)}」含有无法识别的字符",
                        "元旦、春节、清明节、劳动节、端午节、中秋节、国庆节，或「中秋节、国庆节」",
                    )
                )
                name = "?"
            blocks.append(_Block(name, [(number, item.group(3))], amends=bool(subject)))
            kept.append(line.strip())
        elif _ISSUED.match(norm) or not _DATE.search(norm):
            continue  # addressees, preamble, closing words, the issuing office and its date
        elif subject:
            blocks.append(_Block(subject, [(number, norm)], amends=True))
            kept.append(line.strip())
        elif blocks:
            blocks[-1].lines.append((number, norm))
            kept.append(line.strip())
        else:
            problems.append(NoticeProblem(number, line.strip(), "第一项之前出现了日期", "各项以「一、」「二、」编号，如「一、元旦：1月1日放假1天，不调休。」"))
    if year is None and not problems:
        problems.append(NoticeProblem(0, "", "找不到通知标题", "第一行为「国务院办公厅关于2027年部分节假日安排的通知」"))
    return title, year, blocks, kept


def _festival_name(written: str) -> str:
    """元旦, 中秋节、国庆节, “五一” → 劳动节; a name the notices never used is kept as written."""
    parts = [part.strip() for part in written.translate(_TABLE).split("、") if part.strip()]
    named = [_ALIASES.get(part, part) for part in parts]
    for index, part in enumerate(named):
        for festival in FESTIVALS:
            if festival in part and part.endswith(festival) and len(part) - len(festival) <= 6 and part not in FESTIVALS:
                named[index] = festival  # “五一”国际劳动节, 2019年劳动节
    return "、".join(named)


def _mentions(block: _Block, year: int) -> tuple[str, list[_Mention]]:
    """The block's text with each date (and its bracket) replaced by a placeholder, and the dates.
    A day without a month takes the month and year of the date before it in its sentence, or of the item's first
    date at the start of a sentence; a December day without a year, in an item that also
    speaks of January, is in the year before."""
    text = "\n".join(line for _, line in block.lines)
    starts = [0]
    for _, line in block.lines:
        starts.append(starts[-1] + len(line) + 1)
    january = bool(re.search(r"(?<!\d)1月", text))
    mentions: list[_Mention] = []
    pieces: list[str] = []
    position, previous = 0, None
    for found in _DATE.finditer(text):
        number = block.lines[max(i for i, start in enumerate(starts[:-1]) if start <= found.start())][0]
        written_year, month, day, bracket = found.groups()
        if mentions and re.search(r"[.\n]", text[position : found.start()]):
            previous = mentions[0].day  # 其中，29日、30日…: a new sentence counts from the break's first month
        if month is None:
            if previous is None:
                raise _Refuse(f"「{found.group(0)}」没有写月份", "第一个日期写明月份，如「2月15日」", number)
            the_year, the_month = (int(written_year) if written_year else previous.year), previous.month
        else:
            the_month = int(month)
            the_year = int(written_year) if written_year else year - 1 if the_month == 12 and january else year
        try:
            when = date(the_year, the_month, int(day))
        except ValueError:
            raise _Refuse(f"日期「{found.group(0)}」不存在", "真实的日期，如「2月15日」", number) from None
        _check_weekday(when, bracket, found.group(0), number)
        mentions.append(_Mention(when, number))
        pieces.append(text[position : found.start()] + f"\x00{len(mentions) - 1}\x00")
        position, previous = found.end(), when
    pieces.append(text[position:])
    skeleton = re.sub(r"\([^()]*\)", "", "".join(pieces))
    return skeleton, mentions


def _check_weekday(when: date, bracket: str | None, written: str, line: int) -> None:
    if not bracket:
        return
    stated = re.findall(r"(?:星期|周)([一二三四五六日天])", bracket)
    if stated and _WEEKDAY_WORDS[stated[0]] != when.weekday():
        raise _Refuse(
            f"{when.month}月{when.day}日写明{'星期' + stated[0]}，而 {when.isoformat()} 是{WEEKDAYS[when.weekday()]}", "核对通知原文的日期和星期", line
        )


def _number(written: str) -> int:
    if written.isdigit():
        return int(written)
    if written in ("十",):
        return 10
    tens, _, ones = written.partition("十")
    if "十" in written:
        return (_NUMERALS.index(tens) if tens else 1) * 10 + (_NUMERALS.index(ones) if ones else 0)
    return _NUMERALS.index(written) if len(written) == 1 else -1


def _sentences(skeleton: str) -> list[list[str]]:
    """Sentences (。 or a new line) split into clauses (， ；)."""
    return [[c for c in re.split(r"[,;]", sentence) if c] for sentence in re.split(r"[.\n]", skeleton) if sentence]


def _festival(block: _Block, year: int) -> Festival:
    """One item: its first sentence states the break; later sentences may name make-up days and describe the swap."""
    skeleton, mentions = _mentions(block, year)
    sentences = _sentences(skeleton)
    first_line = block.lines[0][0]

    def line_of(clause: str) -> int:
        found = _PLACE.search(clause)
        return mentions[int(found.group(1))].line if found else first_line

    head, *rest = sentences or [[]]
    start = end = None
    stated = None
    joined = no_swap = False
    workdays: list[date] = []
    for clause in head:
        spans = _RANGE.search(clause)
        places = [int(p) for p in _PLACE.findall(clause)]
        if start is None and "放假" in clause and places:
            if spans:
                start, end = mentions[int(spans.group(1))].day, mentions[int(spans.group(2))].day
            elif len(places) == 1:
                start = end = mentions[places[0]].day
            else:
                raise _Refuse("放假日期看不懂", "「2月15日至23日放假」或「1月1日放假」", line_of(clause))
            days_off = _DAYS_OFF.search(clause) or _COUNT.search(clause)
            if days_off:
                stated = _number(days_off.group(1))
        elif places and "补休" in clause and start is not None and len(places) == 1:
            end = mentions[places[0]].day
        elif _MAKEUP.match(clause):
            workdays.extend(mentions[p].day for p in places)
        elif (count := _COUNT.search(clause)) and not places:
            stated = _number(count.group(1))
        elif clause == "与周末连休":
            joined = True
        elif clause == "不调休":
            no_swap = True
        elif places:
            raise _Refuse(f"「{_show(clause, mentions)}」看不懂", "放假区间（X至Y放假）、补休日（X补休）或调休上班日（X、Y上班）", line_of(clause))
    if start is None or end is None:  # set together
        raise _Refuse("这一项没有写放假日期", "「一、元旦：1月1日（周五）至3日（周日）放假，共3天。」", first_line)
    swapped: list[date] = []
    for sentence in rest:
        describes = sentence[0].startswith("其中")
        for clause in sentence:
            if _MAKEUP.match(clause):
                workdays.extend(mentions[int(p)].day for p in _PLACE.findall(clause))
            elif "调至" in clause:
                before = clause.split("调至")[0]
                swapped.extend(mentions[int(p)].day for p in _PLACE.findall(before))
            elif not describes and _PLACE.search(clause) and re.search("放假|补休", clause):
                raise _Refuse(f"「{_show(clause, mentions)}」在这一项的第一句之外又写了放假", "放假区间写在这一项的第一句", line_of(clause))
    if end < start:
        raise _Refuse(f"放假止日 {end} 早于起日 {start}", "核对通知原文", first_line)
    if joined:
        start, end = _with_weekend(start, end, first_line)
    # 将X（星期六）公休日调至Y: X is worked, unless it lies inside the break
    workdays.extend(d for d in swapped if d.weekday() >= 5 and not start <= d <= end and d not in workdays)
    length = (end - start).days + 1
    if stated is not None and stated != length:
        raise _Refuse(f"写明共{stated}天，而 {start} 至 {end} 是 {length} 天", "核对放假起止日期与天数", first_line)
    if length > 15:
        raise _Refuse(f"{start} 至 {end} 放假 {length} 天，不像一个节日的安排", "核对放假起止日期", first_line)
    if no_swap and workdays:
        raise _Refuse("写明不调休，却又列了上班日", "核对通知原文", first_line)
    return Festival(block.name, start, end, workdays, first_line)


def _show(clause: str, mentions: list[_Mention]) -> str:
    return _PLACE.sub(lambda m: f"{mentions[int(m.group(1))].day.month}月{mentions[int(m.group(1))].day.day}日", clause)


def _with_weekend(start: date, end: date, line: int) -> tuple[date, date]:
    """`X放假，与周末连休`: the Saturday and Sunday before a Monday, or after a Friday."""
    if start.weekday() == 0:
        return start - timedelta(days=2), end
    if end.weekday() == 4:
        return start, end + timedelta(days=2)
    raise _Refuse(f"写明与周末连休，而 {start} 是{WEEKDAYS[start.weekday()]}", "与周末连休的假日应在星期一或星期五", line)


def _amend(festivals: list[Festival], block: _Block, year: int) -> None:
    """A later notice: extend a festival (`延长……假期至D`), or replace/add the festival its title names."""
    skeleton, mentions = _mentions(block, year)
    extended = _EXTEND.search(skeleton)
    if extended:
        festival = next((f for f in festivals if f.name == block.name), None)
        new_end = mentions[int(extended.group(1))].day
        if festival is None or new_end <= festival.last:
            raise _Refuse(f"延长{block.name}假期至 {new_end}，但前文没有更早结束的{block.name}假期", "先列出原定安排，再写延长通知", block.lines[0][0])
        for clause in _sentences(skeleton)[0]:
            back = _BACK.match(clause)
            if back and mentions[int(back.group(1))].day != new_end + timedelta(days=1):
                raise _Refuse(f"{mentions[int(back.group(1))].day} 起上班与假期止于 {new_end} 不接", "假期末日的次日起上班", block.lines[0][0])
        festival.last = new_end
        festival.workdays = [d for d in festival.workdays if not festival.first <= d <= new_end]
        return
    replacement = _festival(block, year)
    festivals[:] = [f for f in festivals if f.name != block.name]
    festivals.append(replacement)


def _conflicts(festivals: list[Festival], year: int, raw: list[str]) -> list[NoticeProblem]:
    """Make-up days on weekends and outside every break; no day twice; every day in the notice's year or the
    December before it."""
    problems: list[NoticeProblem] = []
    seen: dict[date, str] = {}  # day -> the festival it was first seen in

    def refuse(festival: Festival, message: str, expected: str) -> None:
        problems.append(NoticeProblem(festival.line, raw[festival.line - 1].strip(), message, expected))

    for festival in festivals:
        days = [festival.first + timedelta(days=i) for i in range((festival.last - festival.first).days + 1)]
        for day in days + festival.workdays:
            if not (day.year == year or (day.year == year - 1 and day.month == 12)):
                refuse(festival, f"{day} 不在 {year} 年（或其前一年 12 月）", "核对年份")
            elif day in seen and seen[day] == festival.name:
                refuse(festival, f"调休上班日 {day} 在{festival.name}放假期间之内", "核对放假区间与调休上班日")
            elif day in seen:
                refuse(festival, f"{day} 同时出现在{seen[day]}和{festival.name}", "同一天只属于一项安排")
            else:
                seen[day] = festival.name
        for day in festival.workdays:
            if day.weekday() < 5:
                refuse(festival, f"调休上班日 {day} 是{WEEKDAYS[day.weekday()]}", "调休上班日应为周六或周日")
    return problems


def overlaps(arrangement: Arrangement, defined: dict[date, str]) -> list[NoticeProblem]:
    """Days of the arrangement that another calendar file (`defined`: day → where) already defines."""
    return [
        NoticeProblem(0, "", f"{day}（{name}）已在 {defined[day]} 中定义", "同一天只能写在一个年度文件中：核对通知年份，或先删去另一文件中的这一天")
        for day, name in sorted(arrangement.days().items())
        if day in defined
    ]


def render(arrangement: Arrangement, url: str = "") -> str:
    """The year file, in the format of rules/calendar/2026.yaml."""
    year = arrangement.year
    source = f"{arrangement.title} {url}".strip()
    lines = [
        f"# {year} 年法定节假日与调休上班日",
        f"# 依据：{arrangement.title}",
        "# 由 qixian calendar import 依据通知原文生成：上线前请核对 holidays、workdays 与通知原文。",
        f"year: {year}",
        f"source: {_scalar(source)}",
        "notice: |",
    ]
    lines += [f"  {line}" if line else "" for line in arrangement.notice.splitlines()]
    lines.append("holidays:          # 放假日（含与周末连休的日子）")
    for name, first, last in arrangement.holidays():
        when = f"date: {first}" if first == last else f"from: {first}, to: {last}"
        lines.append(f"  - {{name: {name}, {when}}}" + _earlier(year, first))
    lines.append("workdays:          # 调休上班日（周末上班）" if arrangement.workdays() else "workdays: []")
    for name, day in arrangement.workdays():
        lines.append(f"  - {{name: {name}, date: {day}}}" + _earlier(year, day))
    return "\n".join(lines) + "\n"


def _earlier(year: int, day: date) -> str:
    return f"  # {day.year} 年的日子，依本通知列入" if day.year != year else ""


def _scalar(text: str) -> str:
    """A YAML scalar: plain where that reads back the same, double-quoted otherwise."""
    if re.match(r"^[\u4e00-\u9fff]", text) and not re.search(r": |\s#|[\x00-\x1f\"'{}\[\],&*!|>%@`]", text):
        return text
    return json.dumps(text, ensure_ascii=False)
