"""Turn a pydantic ValidationError on a YAML file into problems that name file, line, rule and fix."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from qixian.legaltime.yamlsource import LineDict, Problem, position_of, suggest

QUOTE_HINT = 'YAML 会把 22:00 读成数字、把 no/yes 读成 false/true、把 3 读成整数：请给这个值加引号并写明单位，如 "3日"'
_KINDS = {
    "string_type": "文字",
    "bool_type": " true 或 false",
    "int_type": "整数",
    "float_type": "数字",
    "list_type": "列表（每项以 - 开头）",
    "dict_type": "键值对",
    "model_type": "键值对",
    "model_attributes_type": "键值对",
}


def problems_from(error: ValidationError, raw: Any, source: str, model: type[BaseModel], prefix: tuple = ()) -> list[Problem]:
    """One Problem per distinct error, positioned at the nearest line the loader recorded. `prefix` is where
    the validated value sits in `raw` (a rule validated on its own sits at ('rules', i))."""
    found: dict[tuple, Problem] = {}
    for item in error.errors(include_url=False):
        loc = prefix + tuple(item["loc"])
        line, column, depth = position_of(raw, loc)
        if item["type"] != "missing":  # union branches add type names to loc ('min', 'int'): keep what is in the file
            loc = loc[:depth]
        message, hint = _words(item, loc, model)
        problem = Problem(source, line, column, _rule_prefix(raw, loc) + message, hint)
        found.setdefault((line, column, message), problem)
    return list(found.values())


def _rule_prefix(raw: Any, loc: tuple) -> str:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(raw, LineDict):
        rules = raw.get("rules")
        if isinstance(rules, list) and isinstance(loc[1], int) and loc[1] < len(rules):
            rule = rules[loc[1]]
            if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                return f"规则 {rule['id']}: "
    return ""


def _words(item: Mapping[str, Any], loc: tuple, model: type[BaseModel]) -> tuple[str, str]:
    kind, value = item["type"], item.get("input")
    key = next((part for part in reversed(loc) if isinstance(part, str)), "")
    # inside a rule the rule is named already: say only where in it
    inside = loc[2:] if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) else loc
    where = ".".join(str(p) for p in inside) or "文件"
    if kind == "missing":
        parent = ".".join(str(p) for p in inside[:-1])
        place = f"在 {parent} 下" if parent else ("在规则中" if inside is not loc else "在文件顶层")
        return f"缺少必填项 {key}", f"{place}写 {key}: …"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        return f"未知的键 {key!r}", suggest(key, allowed) if allowed else "请检查缩进"
    if kind in _KINDS:
        hint = QUOTE_HINT if kind == "string_type" and isinstance(value, (int, float, bool)) else ""
        return f"{where} 应为{_KINDS[kind]}，收到 {_short(value)}", hint
    if kind == "literal_error":
        return f"{where} 应为 {item['ctx']['expected']} 之一，收到 {_short(value)}", ""
    if kind == "too_short":
        return f"{where} 至少需要一项", ""
    if kind in ("greater_than_equal", "greater_than"):
        return f"{where} 应不小于 {item['ctx'].get('ge', item['ctx'].get('gt'))}，收到 {_short(value)}", ""
    message = str(item["msg"]).removeprefix("Value error, ")
    return (f"{where}: {message}" if inside and not isinstance(inside[-1], int) else message), ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys a mapping at `loc` may have, walking the models' field types."""
    current: Any = model
    for part in loc:
        current = _inner(current, part)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _inner(annotation: Any, part: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = {f.alias or name: f for name, f in annotation.model_fields.items()}
        return _unwrap(fields[part].annotation) if part in fields else None
    return _unwrap(annotation, element=True)


def _unwrap(annotation: Any, element: bool = False) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0], element)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(inner[0], element) if len(inner) == 1 else None
    if element and origin in (list, tuple):
        return _unwrap(typing.get_args(annotation)[0])
    if element and origin is dict:
        return _unwrap(typing.get_args(annotation)[1])
    return annotation
