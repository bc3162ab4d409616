"""YAML that remembers where each value came from, and the one shape of a problem found in it.

Every mapping and list loaded here carries the file and line it started on, and every mapping the line of
each of its keys, so a check that runs long after parsing can still say `rules/x.yaml:42:7: ...`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file the user edits: where, what, and how to fix it."""

    source: str
    line: int
    column: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}:{self.column}"
        return f"{where}: {self.message}" + (f"。{self.hint}" if self.hint else "")


class ProblemsFound(ValueError):
    """Raised with every problem found in a set of files; nothing of them was loaded."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.source, p.line, p.column))
        super().__init__("\n".join(str(p) for p in self.problems))


class LineDict(dict):
    """A mapping with `line`/`column` of its first key and `key_lines[key]` for each key."""

    line = 0
    column = 0
    key_lines: dict

    def line_of(self, key) -> tuple[int, int]:
        return self.key_lines.get(key, (self.line, self.column))


class LineList(list):
    """A list with `line`/`column` of its start and `item_lines[i]` for each item."""

    line = 0
    column = 0
    item_lines: list

    def line_of(self, index: int) -> tuple[int, int]:
        return self.item_lines[index] if index < len(self.item_lines) else (self.line, self.column)


def position_of(raw: object, path: tuple) -> tuple[int, int, int]:
    """The line and column of the deepest node along `path` (keys and list indexes) that exists in `raw`, and
    how many steps of `path` that was; a key's own line is used for the value under it."""
    node = raw
    line, column, depth = getattr(raw, "line", 1) or 1, getattr(raw, "column", 1) or 1, 0
    for part in path:
        if isinstance(node, LineDict) and part in node:
            line, column = node.line_of(part)
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, column = node.line_of(part)
        else:
            break
        node, depth = node[part], depth + 1
    return line, column, depth


class _Loader(_Base):
    """YAML 1.2 scalars: only true/false are booleans (`on:`, `no`, `yes` stay text) and `22:00` is not a
    base-60 number, so what legal staff write means what it says."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"), list("-+0123456789."))


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line, result.column = node.start_mark.line + 1, node.start_mark.column + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        if key in result:
            first = result.key_lines[key][0]
            raise yaml.MarkedYAMLError(
                problem=f"重复的键 {key!r}（第 {first} 行已出现）", problem_mark=key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = where
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line, result.column = node.start_mark.line + 1, node.start_mark.column + 1
    result.item_lines = [(child.start_mark.line + 1, child.start_mark.column + 1) for child in node.value]
    return result


def _timestamp_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    # Dates stay text: our validators parse them and can say where a bad one is (PyYAML would crash on 2027-13-01).
    return loader.construct_scalar(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_Loader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: int(loader.construct_scalar(node), 10))


def load_yaml(text: str, source: str) -> object:
    """Parse one YAML document. Raises ProblemsFound with the position of a syntax error."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML 格式错误：{exc.problem or exc.context}"
        raise ProblemsFound([Problem(source, line, column, message, "请检查缩进、冒号和引号")]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. a NUL byte
        before = text[:exc.position]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        raise ProblemsFound([Problem(source, line, column, f"文件中有 YAML 不允许的字符 U+{exc.character if isinstance(exc.character, int) else ord(exc.character):04X}", "请删除该字符")]) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise ProblemsFound([Problem(source, 1, 1, f"YAML 无法读取：{exc}", "请检查文件内容")]) from None


def read_yaml(path: Path, source: str | None = None) -> object:
    """Read and parse a UTF-8 YAML file; problems name `source` (default: the path)."""
    source = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProblemsFound([Problem(source, 1, 1, f"文件不是 UTF-8 编码（{exc.reason}）", "请另存为 UTF-8")]) from None
    return load_yaml(text, source)


def suggest(word: str, choices) -> str:
    """A did-you-mean hint for an unknown key, or advice on indentation when nothing is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    if close:
        return f"是否应为 {close[0]}？"
    return f"可用的键：{', '.join(str(c) for c in choices)}；也请检查缩进"
