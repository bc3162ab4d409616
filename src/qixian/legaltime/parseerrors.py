"""JSON and YAML syntax errors said in Chinese, with line and column: the one place every reader of JSON or YAML
input (event feeds, rule packs, notify settings, the directory) turns a parser's English into what a person reads."""

from __future__ import annotations

import json
import re

# json.JSONDecodeError.msg -> what is wrong, and what to do
_JSON = (
    ("Expecting ',' delimiter", "缺少逗号（或括号未闭合）"),
    ("Expecting ':' delimiter", "键后缺少冒号"),
    ("Expecting property name enclosed in double quotes", "键应写在双引号中（或多了一个逗号）"),
    ("Expecting value", "缺少值（或多了一个逗号）"),
    ("Unterminated string starting at", "字符串缺少结尾的双引号"),
    ("Invalid control character at", "字符串中有控制字符（换行、Tab 应写成 \\n、\\t）"),
    ("Invalid \\escape", "字符串中有无效的转义（反斜杠应写成 \\\\）"),
    ("Invalid \\uXXXX escape", "字符串中有无效的 \\u 转义"),
    ("Extra data", "一个 JSON 值之后还有多余内容（每行只能写一个对象）"),
)


def json_error(exc: json.JSONDecodeError, line: int | None = None) -> str:
    """`JSON 格式错误（第 1 行第 8 列）：缺少逗号（或括号未闭合）`; `line`: the file's line of a one-line document."""
    what = next((chinese for english, chinese in _JSON if exc.msg.startswith(english)), "无法解析")
    return f"JSON 格式错误（第 {line or exc.lineno} 行第 {exc.colno} 列）：{what}"


# PyYAML's problem (or context) text -> what is wrong, and what to do
_YAML = (
    (re.compile(r"found character '\\t'|found a tab character"), "有 Tab 字符：YAML 的缩进请用空格代替 Tab"),
    (re.compile(r"found character '(.)' that cannot start any token"), r"字符 \1 不能出现在值的开头：请给这个值加引号"),
    (re.compile(r"mapping values are not allowed"), "此处不能有冒号：冒号后要有空格，含冒号的值请加引号，或检查上一行是否缺少冒号"),
    (re.compile(r"could not find expected ':'|did not find expected ':'"), "缺少冒号（键: 值）"),
    (re.compile(r"found unexpected end of stream"), "文件意外结束：引号或括号没有闭合"),
    (re.compile(r"expected ',' or '\]'"), "方括号 [ ] 没有闭合，或元素之间缺少逗号"),
    (re.compile(r"expected ',' or '\}'"), "花括号 { } 没有闭合，或元素之间缺少逗号"),
    (re.compile(r"expected <block end>|did not find expected key|did not find expected '-' indicator"), "缩进不一致：同一层的键和列表项应对齐"),
    (re.compile(r"found undefined alias"), "引用了未定义的锚点（*名字）"),
    (re.compile(r"found duplicate anchor"), "锚点重复定义"),
    (re.compile(r"found unknown escape character"), "双引号字符串中有无效的转义：反斜杠要写两个，或改用单引号"),
    (re.compile(r"expected alphabetic or numeric character"), "锚点或引用的名字无效"),
)


def yaml_problem(*texts: str | None, at: str = "") -> str:
    """What a PyYAML error's problem (and context) texts mean, in Chinese (a text already in Chinese, from our own
    loader, as it is); `at` is the character at the error's position (libyaml does not name it)."""
    if at and any("cannot start any token" in (text or "") for text in texts):
        texts = (f"found character {at!r} that cannot start any token",)
    for text in texts:
        if text and not text.isascii():
            return text
        for pattern, chinese in _YAML:
            found = pattern.search(text or "")
            if found:
                return found.expand(chinese)
    return "格式无法识别"
