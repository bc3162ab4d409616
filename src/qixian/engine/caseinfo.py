"""What the case system's lines say: an accepted event with what it says about its case (`Incoming`), a line that
cannot be used (`Rejected`), and the one way a case's `case_info` is folded into its columns, its facts (what
rules' `applies` conditions read) and its persons' facts, for the store and for a batch's new cases alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

CASE_COLUMNS = ("kind", "title", "unit", "handler")  # case_info keys kept as the case's own columns (as text)
CASE_INFO = (*CASE_COLUMNS, "co_handlers", "persons")  # the case_info keys with a meaning of their own
_NOT_FACTS = ("persons", "co_handlers")


class Incoming(NamedTuple):  # a named tuple: made for every line read, at a third of a frozen dataclass's cost
    """One accepted line: an event of a case, and what it says about the case. `origin` is the file (or
    query) it was read from; the event's identity is (the source system, `id`)."""

    origin: str
    line: int
    raw: str
    id: str
    case: str
    type: str
    at: datetime
    person: str | None = None
    data: Mapping[str, Any] = {}  # (one shared empty mapping: lines are never changed)
    case_info: Mapping[str, Any] = {}


@dataclass(frozen=True)
class Rejected:
    """One line that cannot be accepted, kept whole with the reason."""

    origin: str
    line: int
    raw: str
    reason: str
    id: str | None = None


def folded(items: Iterable[Incoming]) -> dict[str, dict[str, Any]]:
    """Each case's case_info as its lines say it, in time order: a later line's value of a key replaces an earlier
    one's (`persons` as a whole)."""
    info: dict[str, dict[str, Any]] = {}
    for item in sorted(items, key=lambda i: i.at):
        if item.case_info:
            info.setdefault(item.case, {}).update(item.case_info)
    return info


def columns_of(info: Mapping[str, Any]) -> dict[str, str | None]:
    """The case columns `info` sets (as text; None clears one)."""
    return {c: None if info[c] is None else str(info[c]) for c in CASE_COLUMNS if c in info}


def co_handlers_of(info: Mapping[str, Any]) -> list[str]:
    return [str(h) for h in info["co_handlers"] or []]


def facts_of(info: Mapping[str, Any]) -> dict[str, Any]:
    """The facts `info` gives the case (everything but its persons and co-handlers)."""
    return {k: v for k, v in info.items() if k not in _NOT_FACTS}


def persons_of(info: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{person: facts} that `info` gives."""
    return {str(p): dict(f or {}) for p, f in (info.get("persons") or {}).items()}


def case_facts(facts: Mapping[str, Any], columns: Mapping[str, str | None]) -> dict[str, Any]:
    """What replay's conditions see of a case: its facts, and its columns where they are set."""
    return {**facts, **{c: v for c, v in columns.items() if v is not None}}
