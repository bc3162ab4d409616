"""Rule examples run as tests, like `promtool test rules`: events in, expected due and state out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from qixian.engine.clocks import Clock, ClockState, Event, replay
from qixian.legaltime.localtime import parse_local
from qixian.rulebook.model import Example, Rule, RulePack


@dataclass(frozen=True)
class ExampleResult:
    rule: Rule
    example: Example
    passed: bool
    expected: dict
    got: dict
    explanation: tuple[str, ...]

    def report(self) -> str:
        """`exp:` / `got:` blocks and the explanation, for a failed example."""
        lines = [f"{self.example.source}: 规则 {self.rule.id} 例子「{self.example.name}」"]
        lines.append("  exp: " + ", ".join(f"{k}={v}" for k, v in self.expected.items()))
        lines.append("  got: " + ", ".join(f"{k}={v}" for k, v in self.got.items()))
        lines += [f"    {n}. {step}" for n, step in enumerate(self.explanation, 1)]
        return "\n".join(lines)


def run_examples(pack: RulePack, *, only: str | None = None) -> list[ExampleResult]:
    """Run every example of every rule (or those whose rule id or example name matches the regex `only`)."""
    pattern = re.compile(only) if only else None
    results = []
    for rule in pack.rules:
        for example in rule.examples:
            if pattern and not (pattern.search(rule.id) or pattern.search(example.name)):
                continue
            results.append(run_example(pack, rule, example))
    return results


def example_events(example: Example) -> list[Event]:
    return [Event(e["type"], parse_local(e["at"]), e.get("person"), e.get("data") or {}) for e in example.events]


def run_example(pack: RulePack, rule: Rule, example: Example) -> ExampleResult:
    events = example_events(example)
    now = parse_local(example.now) if example.now else max(e.at for e in events)
    clocks = [
        c
        for c in replay(pack, events, case="example", facts=example.case, persons=example.persons, rule_ids=[rule.id], disabled=True, until=now)
        if c.rule.id == rule.id and (example.person is None or c.person == example.person) and c.outcome != ClockState.RESTARTED
    ]  # a clock superseded by a restart is an audit record; examples check the live one
    expected: dict[str, Any] = {"due": example.due}
    if example.state is not None:
        expected["state"] = example.state
    if example.provisional is not None:
        expected["provisional"] = example.provisional
    if not clocks:
        return ExampleResult(rule, example, False, expected, {"clock": "未启动（检查 start 事件、applies 条件与适用期间）"}, ())
    if len(clocks) < example.clock:
        return ExampleResult(rule, example, False, expected, {"clock": f"只有 {len(clocks)} 个计时，没有第 {example.clock} 个"}, ())
    clock = clocks[example.clock - 1]
    got = _observed(clock, now, expected)
    if clock.rule is not rule:
        got["version"] = f"起算日期适用的是 {clock.rule.version} 版本，不是本例所在的 {rule.version} 版本"
    passed = got == expected
    return ExampleResult(rule, example, passed, expected, got, clock.deadline.explanation)


def _observed(clock: Clock, now, expected: dict) -> dict:
    got: dict[str, Any] = {"due": _same_due(clock, expected["due"])}
    if "state" in expected:
        got["state"] = clock.state(now)
    if "provisional" in expected:
        got["provisional"] = clock.deadline.provisional
    return got


def _same_due(clock: Clock, wanted: str | None) -> str | None:
    """The expected text when it names the same instant (so `D 24:00` and `D+1 00:00` agree), else the display."""
    if clock.due is None:
        return None
    if wanted is not None and parse_local(wanted) == clock.due:
        return wanted
    return clock.deadline.due_display
