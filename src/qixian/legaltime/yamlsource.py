"""YAML that remembers where each value came from, and the one shape of a problem found in it.

Every mapping and list loaded here carries the file and line it started on, and every mapping the line of
each of its keys, so a check that runs long after parsing can still say `rules/x.yaml:42:7: ...`.

Every YAML file the product reads (rule packs, calendars, notify/channels.yaml, directory.yaml) is read here, so
hostile files are refused in one place: plain YAML tags only (no `!!python/object`), aliases that expand to at
most ALIAS_NODES extra nodes (no "billion laughs"), at most NESTING levels of nesting, and no symbolic link out of
the rule pack or in a loop.
"""

from __future__ import annotations

import difflib
import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from qixian.legaltime.parseerrors import yaml_problem

if TYPE_CHECKING:
    from yaml import SafeLoader as _Base  # one base for mypy: CSafeLoader (libyaml) has its interface
else:
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Nodes that aliases may add to a file when expanded: a hand-written file reuses a few blocks (`<<: *defaults`),
# a "billion laughs" file adds 10^9 and would take every tool that walks it to gigabytes.
ALIAS_NODES = 10_000
# Lists and mappings inside each other: a rule file goes 8 deep; libyaml's composer recurses in C and crashes the
# process on 100,000 (`[[[[...`), so the depth is counted on the parser's events before anything is composed.
NESTING = 100
_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str", "timestamp", "seq", "map", "merge"))


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
        if (isinstance(node, LineDict) and part in node) or (isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node)):
            line, column = node.line_of(part)
        else:
            break
        node, depth = node[part], depth + 1
    return line, column, depth


class _Refused(Exception):
    """A file that is not constructed: its nesting, tags or aliases are refused (see _vet_nesting, _vet)."""

    def __init__(self, where: yaml.Node | yaml.Event, message: str, hint: str):
        super().__init__(message)
        self.line, self.column = where.start_mark.line + 1, where.start_mark.column + 1
        self.message, self.hint = message, hint


class _Loader(_Base):
    """YAML 1.2 scalars: only true/false are booleans (`on:`, `no`, `yes` stay text) and `22:00` is not a
    base-60 number, so what legal staff write means what it says. The parsed nodes are vetted before any
    value is built from them (unless the text has no `*` and no `!`: then it has neither aliases nor tags, and
    every node resolves to a plain tag)."""

    vetted = True

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        if self.vetted:
            _vet(node)
        return self.construct_document(node)


def _vet_nesting(text: str) -> None:
    """Refuse lists and mappings nested more than NESTING deep (the parser's events need no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > NESTING:
                raise _Refused(event, f"列表和键值对嵌套超过 {NESTING} 层，拒绝读取", "请检查括号和缩进")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _vet(root: yaml.Node) -> None:
    """Refuse a tag other than the plain ones, an alias inside its own anchor, and aliases that would expand
    to more than ALIAS_NODES extra nodes. One walk over the parsed nodes in document order, each node's
    children once: a node met again is an alias use and adds its expanded size, which is never built."""
    sizes: dict[int, int] = {}  # id(node) -> nodes in its expansion, once its walk is done
    open_nodes: set[int] = set()  # the collections whose walk is under way: the path from the root
    added = 0
    stack: list[tuple[yaml.Node, yaml.Node, list | None]] = [(root, root, None)]  # (node, parent, children once done)
    while stack:
        node, parent, children = stack.pop()
        key = id(node)
        if children is not None:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
        elif key in sizes:
            added += sizes[key]
            if added > ALIAS_NODES:
                raise _Refused(parent, f"别名（*）展开后超过 {ALIAS_NODES} 个节点，拒绝读取", "规则与配置文件不需要大量别名：把内容直接写出来")
        elif key in open_nodes:
            raise _Refused(parent, "别名（*）引用了包含它自己的内容", "删除这个别名")
        elif node.tag not in _TAGS:
            shown = node.tag.replace("tag:yaml.org,2002:", "!!", 1)
            raise _Refused(node, f"不支持的 YAML 标签 {shown[:80]}", "只能写文字、数字、true/false、列表和键值对，请删除这个标签")
        elif isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
        else:
            children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
            open_nodes.add(key)
            stack.append((node, parent, children))
            stack.extend((child, node, None) for child in reversed(children))


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:value")
    ]  # a lone `=` is text, not a tag nothing can build
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"), list("-+0123456789."))


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
            raise yaml.MarkedYAMLError(problem=f"重复的键 {key!r}（第 {first} 行已出现）", problem_mark=key_node.start_mark)
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
        _vet_nesting(text)
        loader = _Loader(text)
        loader.vetted = "*" in text or "!" in text
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _Refused as refused:
        raise ProblemsFound([Problem(source, refused.line, refused.column, refused.message, refused.hint)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        lines = text.split("\n")
        at = lines[line - 1][column - 1 : column] if mark and line <= len(lines) else ""
        message = f"YAML 格式错误：{yaml_problem(exc.problem, exc.context, at=at)}"
        raise ProblemsFound([Problem(source, line, column, message, "请检查缩进、冒号和引号")]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. a NUL byte
        before = text[: exc.position]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ProblemsFound([Problem(source, line, column, f"文件中有 YAML 不允许的字符 U+{code:04X}", "请删除该字符")]) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise ProblemsFound(
            [Problem(source, 1, 1, "YAML 无法读取：" + ("嵌套层数过多" if isinstance(exc, RecursionError) else yaml_problem(str(exc))), "请检查文件内容")]
        ) from None


def read_yaml(path: Path, source: str | None = None) -> object:
    """Read and parse a UTF-8 YAML file; problems name `source` (default: the path)."""
    source = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProblemsFound([Problem(source, 1, 1, f"文件不是 UTF-8 编码（{exc.reason}）", "请另存为 UTF-8")]) from None
    return load_yaml(text, source)


def outside(path: Path, root: Path, source: str, folder: bool = False) -> Problem | None:
    """Why a rule pack's file (or, with `folder`, subfolder) at `path` must not be read, or None: a symbolic link
    in a loop, to nothing, or to a place outside the pack whose real folder is `root`; or not a regular file
    (a FIFO would block the reader). Only the link is looked at: what it points to is never opened or quoted."""
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Problem(source, 1, 1, "符号链接形成循环，拒绝读取", "删除或改正这个链接")
        return Problem(source, 1, 1, "符号链接指向的文件不存在" if path.is_symlink() else f"无法读取（{exc.strerror}）")
    if not real.is_relative_to(root):
        return Problem(source, 1, 1, "符号链接指向规则包目录之外，拒绝读取", "把文件本身放进规则包目录")
    if not (real.is_dir() if folder else real.is_file()):
        return Problem(source, 1, 1, "不是目录" if folder else "不是普通文件", "规则包中只放 YAML 文件和 calendar 目录")
    return None


def close_match(word: str, choices) -> str:
    """ "是否应为 X？" naming the choice nearest to `word`, or "" when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"是否应为 {close[0]}？" if close else ""


def suggest(word: str, choices) -> str:
    """A did-you-mean hint for an unknown key, or advice on indentation when nothing is close."""
    return close_match(word, choices) or f"可用的键：{', '.join(str(c) for c in choices)}；也请检查缩进"
