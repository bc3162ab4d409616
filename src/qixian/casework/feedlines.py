"""Reading events from the case system: JSON Lines or CSV, one event per line, each checked against the event
vocabulary. A line that cannot be accepted is returned with its reason (for quarantine), never dropped.

Line format: {"id", "case", "type", "at", "person"?, "data"?, "case_info"?}; CSV has the same columns, with
`data` and `case_info` as JSON text.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from qixian.engine.caseinfo import CASE_INFO, Incoming, Rejected
from qixian.legaltime.localtime import TimeFormatError, parse_local
from qixian.legaltime.parseerrors import json_error
from qixian.legaltime.yamlsource import close_match
from qixian.rulebook.model import EventType
from qixian.safetext import cleaned, may_hold_controls

FIELDS = ("id", "case", "type", "at", "person", "data", "case_info")
LENGTHS = {"id": 200, "case": 200, "type": 100, "person": 200}  # the store's column sizes
INFO_LENGTHS = {"kind": 40, "title": 500, "unit": 100, "handler": 100}  # case_info: the columns' sizes; a title's cap
NAME_LENGTH = 200  # a co-handler's id, a person's name in case_info.persons
VALUE_LENGTH = 2000  # any other text value in data, case_info or a person's facts
LINE_LENGTH = 200_000  # a whole line (what the caps above leave unbounded: many keys, deep nesting)
YEARS = (1980, 2100)  # event times outside these years are typing slips (and overflow the legal-time arithmetic)
_FIELD_SET = frozenset(FIELDS)
_decode_json = json.JSONDecoder().raw_decode  # json.loads without its checks for surrounding whitespace


def read_lines(origin: str, text: str, fmt: str | None = None) -> Iterator[tuple[int, str, Any]]:
    """(line number, raw text, parsed object or an Exception) for each non-blank line of a JSONL or CSV text."""
    fmt = fmt or ("csv" if origin.lower().endswith(".csv") else "jsonl")
    if fmt == "csv":
        lines = text.splitlines()
        if not lines:
            return
        header = next(csv.reader([lines[0]]))
        unknown = [h for h in header if h not in FIELDS]
        for number, raw in enumerate(lines[1:], start=2):
            if not raw.strip():
                continue
            if unknown:
                yield number, raw, ValueError(f"CSV 表头有未知的列 {unknown}；可用列：{', '.join(FIELDS)}")
                continue
            try:
                values = next(csv.reader([raw]))
                if len(values) != len(header):
                    raise ValueError(f"该行有 {len(values)} 列，表头有 {len(header)} 列")
                row = {k: v for k, v in zip(header, values, strict=False) if v != ""}
                for key in ("data", "case_info"):
                    if key in row:
                        row[key] = json.loads(row[key])
                yield number, raw, row
            except (ValueError, csv.Error) as exc:
                yield number, raw, exc
        return
    for number, raw in enumerate(text.split("\n"), start=1):  # lines end at \n only, as in io.StringIO
        raw = raw.rstrip("\r")
        if not raw.strip():
            continue
        try:
            yield number, raw, _loads(raw)
        except json.JSONDecodeError as exc:
            yield number, raw, exc
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            yield number, raw, ValueError(f"JSON 中有无法处理的数值（{exc}）")
        except RecursionError:
            yield number, raw, ValueError("JSON 嵌套层数过多")


def _loads(raw: str) -> Any:
    """json.loads(raw), a third faster for the common line: one JSON value from the first character to the last.
    Anything else (whitespace around it, a BOM, an error) is left to json.loads, which says what is wrong."""
    try:
        item, end = _decode_json(raw)
        if end == len(raw):
            return item
    except ValueError:
        pass
    return json.loads(raw)


def check(origin: str, number: int, raw: str, item: Any, events: Mapping[str, EventType], kinds: Mapping[str, str] | None = None) -> Incoming | Rejected:
    """Accept one parsed line, or say everything that is wrong with it; with `kinds` (the settings' case_kinds), a
    case_info.kind outside them too. (It runs for every line of every feed: a well-formed line passes each test once
    and builds nothing it does not return.)"""
    if _unstorable(raw):  # neither database can keep a NUL or a lone surrogate: the line is kept with them written out
        kept = raw.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
        return Rejected(origin, number, kept, "含有空字符或无效的 Unicode 字符：请检查办案系统的导出程序")
    if isinstance(item, Exception):
        return Rejected(origin, number, raw, json_error(item, number) if isinstance(item, json.JSONDecodeError) else f"无法解析：{item}")
    if not isinstance(item, dict):
        return Rejected(origin, number, raw, '每行应为一个 JSON 对象 {"id", "case", "type", "at", ...}')
    unstorable = _unstorable(item)
    if unstorable:
        return Rejected(origin, number, raw, unstorable)
    if may_hold_controls(raw):  # control or bidi characters never reach the store (nor the dashboard, nor a message)
        item = cleaned(item)
    problems = [] if item.keys() <= _FIELD_SET else [f"未知的字段 {k!r}" for k in item if k not in FIELDS]
    ident, case, kind, when, person = item.get("id"), item.get("case"), item.get("type"), item.get("at"), item.get("person")
    problems += _text_problems(item)
    if len(raw) > LINE_LENGTH:
        problems.append(f"该行超过 {LINE_LENGTH} 个字符（{len(raw)} 个）")
    given = (ident, case, kind, when)
    if None in given or "" in given:
        problems += [f"缺少 {k}" for k, v in zip(("id", "case", "type", "at"), given, strict=False) if v in (None, "")]
    spec = events.get(kind) if isinstance(kind, str) else None
    if kind and spec is None:
        hint = close_match(kind, events)
        problems.append(f"未知的事件类型 {kind!r}" + (f"。{hint}" if hint else "") + "（事件类型见规则包的 events.yaml）")
    at = _time(when, problems)
    person = str(person) if person not in (None, "") else None
    data = item.get("data") or {}
    info = item.get("case_info") or {}
    if not isinstance(data, dict):
        problems.append("data 应为 JSON 对象")
    if not isinstance(info, dict):
        problems.append("case_info 应为 JSON 对象")
    elif "persons" in info and not isinstance(info["persons"], dict):
        problems.append("case_info.persons 应为 {人员: {字段: 值}}")
    elif info:
        problems += _info_problems(info)
        if kinds and "kind" in info and info["kind"] not in kinds:
            problems.append(kind_problem(info["kind"], kinds))
    if data and isinstance(data, dict):
        problems += _too_long("data", data)
    if spec is not None and isinstance(data, dict):
        problems += spec.problems(person, data)
    if type(ident) is not str:
        ident = str(ident) if isinstance(ident, int) and not isinstance(ident, bool) else None
    if problems:
        return Rejected(origin, number, raw, "；".join(problems), ident if ident and len(ident) <= LENGTHS["id"] else None)
    assert at is not None, "_time gives None only for a missing or bad `at`, and then it added a problem"
    return Incoming(origin, number, raw, ident, str(case), kind, at, person, data, info)


def kind_problem(kind: Any, kinds: Mapping[str, str]) -> str:
    """A case kind outside the vocabulary: which one it may have meant, or the whole vocabulary."""
    close = difflib.get_close_matches(str(kind), list(kinds), n=1, cutoff=0.6)
    known = "、".join(f"{k}（{v}）" for k, v in kinds.items())
    hint = f"是否应为 {close[0]}（{kinds[close[0]]}）？" if close else f"应为 {known} 之一"
    return f"未知的案件类别 case_info.kind {str(kind)[:40]!r}：{hint}（案件类别见规则包 settings.yaml 的 case_kinds）"


def _text_problems(item: dict) -> list[str]:
    """What is wrong with the text fields: not text (numbers are taken as their digits), or longer than the column."""
    problems = []
    for key, longest in LENGTHS.items():
        value = item.get(key)
        if value is None or (type(value) is str and len(value) <= longest):
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            problems.append(f"{key} 应为文本，收到 {type(value).__name__}")
        elif len(str(value)) > longest:
            problems.append(f"{key} 超过 {longest} 个字符（{len(str(value))} 个）")
    return problems


def _info_problems(info: dict) -> list[str]:
    """What in case_info is longer than its cap (title, unit, handler, co-handlers, persons and their facts)."""
    problems = []
    for key, longest in INFO_LENGTHS.items():
        value = info.get(key)
        if type(value) is str and len(value) > longest:
            problems.append(f"case_info.{key} 超过 {longest} 个字符（{len(value)} 个）")
    handlers = info.get("co_handlers")
    if isinstance(handlers, list):
        problems += [
            f"case_info.co_handlers 中的 {h[:20]!r}… 超过 {NAME_LENGTH} 个字符（{len(h)} 个）" for h in handlers if type(h) is str and len(h) > NAME_LENGTH
        ]
    for person, facts in (info.get("persons") or {}).items():
        if len(person) > NAME_LENGTH:
            problems.append(f"case_info.persons 中的人员 {person[:20]!r}… 超过 {NAME_LENGTH} 个字符（{len(person)} 个）")
        if isinstance(facts, dict):
            problems += _too_long(f"case_info.persons.{person[:20]}", facts)
    others = {k: v for k, v in info.items() if k not in CASE_INFO}
    return problems + _too_long("case_info", others)


def _too_long(where: str, values: dict) -> list[str]:
    """The text values (and keys) of a mapping longer than VALUE_LENGTH."""
    return [
        f"{where}.{key[:20]} 超过 {VALUE_LENGTH} 个字符（{max(len(key), len(value))} 个）"
        for key, value in values.items()
        if len(key) > VALUE_LENGTH or (type(value) is str and len(value) > VALUE_LENGTH)
    ]


def _time(value: Any, problems: list[str]) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        at = parse_local(str(value))
    except TimeFormatError as exc:
        problems.append(str(exc))
        return None
    except (OverflowError, ValueError):
        problems.append(f"时间 {value!r} 超出可处理的范围")
        return None
    if not YEARS[0] <= at.year <= YEARS[1]:
        problems.append(f"时间 {value} 不在 {YEARS[0]}–{YEARS[1]} 年之间")
        return None
    return at


def _unstorable(value: Any) -> str | None:
    """What in a parsed line no database can keep: NUL characters, lone surrogates, non-finite numbers."""
    if isinstance(value, str):
        if "\x00" in value:
            return "含有空字符 \\u0000：请检查办案系统的导出程序"
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "含有无效的 Unicode 字符（孤立的代理项 \\ud800–\\udfff）：请检查办案系统的导出程序"
    elif isinstance(value, dict):  # the keys and text values looked at as one text (a lone surrogate stays lone)
        texts = list(value)
        for inner in value.values():
            if type(inner) is str:
                texts.append(inner)
            elif inner is not None and type(inner) is not int and type(inner) is not bool:
                problem = _unstorable(inner)
                if problem:
                    return problem
        try:
            return _unstorable("".join(texts))
        except TypeError:  # a key that is not text (from a caller, never from JSON)
            return next(filter(None, map(_unstorable, value)), None)
    elif isinstance(value, list):
        for inner in value:
            problem = _unstorable(inner)
            if problem:
                return problem
    elif isinstance(value, float) and not math.isfinite(value):
        return f"数值 {value} 不是有限数"
    return None


def decode(origin: str, data: bytes, encoding: str = "utf-8") -> tuple[str, list[Rejected]]:
    """The text of a file in `encoding` (a UTF-8 byte-order mark dropped), and a Rejected for each line that does
    not decode: that line is left out (blank, so the others keep their numbers) and the rest are read."""
    if codecs.lookup(encoding).name == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode(encoding), []
    except UnicodeDecodeError:
        pass
    lines, bad = [], []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(line.decode(encoding))
        except UnicodeDecodeError as exc:
            lines.append("")
            kept = line.decode(encoding, "backslashreplace").rstrip("\r")[:LINE_LENGTH]
            other = "；如整个文件是 GB18030（GBK）编码，用 qixian ingest --encoding gb18030 导入" if codecs.lookup(encoding).name == "utf-8" else ""
            bad.append(
                Rejected(
                    origin, number, kept, f"第 {number} 行不是 {encoding} 编码（该行第 {exc.start + 1} 字节起无法解码）：请检查办案系统导出的这一行{other}"
                )
            )
    return "\n".join(lines), bad


def parse(origin: str, text: str, events: Mapping[str, EventType], fmt: str | None = None) -> Iterable[Incoming | Rejected]:
    for number, raw, item in read_lines(origin, text, fmt):
        yield check(origin, number, raw, item, events)
