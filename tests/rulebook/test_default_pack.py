"""The shipped rule pack (rules/): loads, every example agrees with its hand derivation, and it covers what the
reference system covers."""

from collections import Counter
from datetime import date

import pytest

from qixian.engine.examples import run_example
from qixian.rulebook import load_pack
from tests.paths import RULES

PACK = load_pack(RULES)
CASES = [(rule, example) for rule in PACK.rules for example in rule.examples]


@pytest.mark.parametrize("rule, example", CASES, ids=[f"{r.id}:{e.name}" for r, e in CASES])
def test_example(rule, example):
    result = run_example(PACK, rule, example)
    assert result.passed, result.report()


def test_size_and_groups():
    assert len(PACK.ids) >= 80
    groups = Counter(rule.group for rule in PACK.rules)
    assert set(groups) == set(PACK.settings.groups), groups
    assert sum(groups.values()) >= 41


def test_every_rule_has_basis_group_type_and_an_example():
    for rule in PACK.rules:
        assert rule.basis and all(b.cite and len(b.text.strip()) >= 2 for b in rule.basis), rule.id
        assert rule.group and rule.reminder_type, rule.id
        assert rule.examples, rule.id
        if not rule.enabled:
            assert rule.note, f"{rule.id} is disabled without saying what to confirm"


def test_the_reference_systems_stages_are_covered():
    types = {rule.reminder_type for rule in PACK.rules}
    for named in (
        "警情分流提醒",
        "受案回执提醒",
        "刑事立案提醒",
        "立案告知提醒",
        "行政案件办理提醒",
        "取保候审提醒",
        "监视居住提醒",
        "刑拘提醒",
        "提捕提醒",
        "起诉提醒",
        "补充侦查提醒",
        "复议复核提醒",
    ):
        assert named in types, named


def test_both_public_order_law_versions_are_versions_of_the_same_ids():
    switched = [
        rule_id
        for rule_id in PACK.ids
        if any(r.effective_until == date(2025, 12, 31) for r in PACK.versions(rule_id))
        and any(r.effective_from == date(2026, 1, 1) for r in PACK.versions(rule_id))
    ]
    assert len(switched) >= 2, switched
    limits = {str(r.limit) for rule_id in switched for r in PACK.versions(rule_id)}
    assert "8小时" in limits and "30日" in limits


def test_shipped_examples_exercise_the_hard_parts():
    seen = Counter()
    for rule, example in CASES:
        seen["custody"] += rule.custody
        seen["extension"] += any(e["type"] in {s.on for s in rule.extend} for e in example.events)
        seen["pause"] += any(e["type"] in {p.start for p in rule.pause} for e in example.events)
        seen["state"] += example.state is not None
        seen["lead"] += rule.lead is not None
        seen["months"] += bool(rule.limit and rule.limit.unit.value == "months")
        seen["workdays"] += bool(rule.limit and rule.limit.unit.value == "workdays")
    assert all(seen[k] >= 2 for k in ("custody", "extension", "pause", "state", "lead", "months", "workdays")), seen


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"detained": True}, ("crim.arrest.review", "2026-03-09 24:00")),
        ({}, ("crim.arrest.review", "2026-03-09 24:00")),  # not said: the 7 days (the earlier due)
        ({"detained": False}, ("crim.arrest.review_not_detained", "2026-03-17 24:00")),
    ],
)
def test_one_arrest_review_clock_per_request_by_whether_the_suspect_is_detained(data, expected):
    from qixian.engine.clocks import Event, replay
    from qixian.legaltime.localtime import parse_local

    request = Event("arrest_requested", parse_local("2026-03-02 10:00"), "P1", data)
    clocks = replay(PACK, [request], case="C1", rule_ids=["crim.arrest.review", "crim.arrest.review_not_detained"])
    assert [(c.rule.id, c.deadline.due_display) for c in clocks] == [expected]
