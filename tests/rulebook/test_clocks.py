"""Clock replay: every rule-language semantic, over the sample rule file (tests/data/rules/sample.good.yaml)."""

import pytest

from qixian.engine.clocks import Event, replay
from qixian.legaltime.localtime import parse_local
from qixian.rulebook import load_pack
from tests.paths import DATA

CRIMINAL = {"kind": "criminal"}


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    import shutil

    from tests.paths import RULES

    folder = tmp_path_factory.mktemp("sample")
    for name in ("settings.yaml", "events.yaml"):
        shutil.copy(RULES / name, folder)
    shutil.copytree(RULES / "calendar", folder / "calendar")
    shutil.copy(DATA / "sample.good.yaml", folder)
    return load_pack(folder)


def ev(kind, at, person="P1", **data):
    return Event(kind, parse_local(at), person, data)


def clocks_of(pack, rule_id, events, facts=CRIMINAL):
    return [c for c in replay(pack, events, facts=facts, rule_ids=[rule_id]) if c.rule.id == rule_id]


ARREST_REQUEST = "crim.detention.arrest_request"


def test_one_clock_per_person(pack):
    clocks = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40", "P1"), ev("detained", "2025-09-30 09:00", "P2")])
    assert {(c.person, c.deadline.due_display) for c in clocks} == {("P1", "2025-10-02 24:00"), ("P2", "2025-10-03 24:00")}


def test_applies_filters_on_case_facts(pack):
    assert clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40")], facts={"kind": "administrative"}) == []


def test_stop_in_time_is_met_and_late_is_met_late(pack):
    on_time = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40"), ev("arrest_requested", "2025-10-02 23:59")])[0]
    late = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40"), ev("arrest_requested", "2025-10-03 00:01")])[0]
    assert (on_time.outcome, late.outcome) == ("met", "met_late")
    assert on_time.ended_by == "arrest_requested"


def test_events_of_another_person_do_not_touch_a_clock(pack):
    clock = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40", "P1"), ev("arrest_requested", "2025-09-30 10:00", "P2")])[0]
    assert clock.outcome is None


def test_case_level_events_reach_every_person(pack):
    clocks = clocks_of(
        pack,
        ARREST_REQUEST,
        [ev("detained", "2025-09-29 15:40", "P1"), ev("detained", "2025-09-29 16:00", "P2"), ev("case_withdrawn", "2025-09-30 10:00", None)],
    )
    assert [c.outcome for c in clocks] == ["cancelled", "cancelled"]


def test_state_follows_now(pack):
    clock = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40")])[0]
    assert clock.state(parse_local("2025-10-02 23:00")) == "running"
    assert clock.state(parse_local("2025-10-03 00:00")) == "overdue"


def test_extension_amount_comes_from_the_event_and_is_capped(pack):
    fewer = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40"), ev("arrest_request_extended", "2025-10-01 09:00", days=2)])[0]
    assert fewer.deadline.due_display == "2025-10-04 24:00"
    # data.days is validated against events.yaml at ingest; replay caps whatever arrives at the rule's `by`
    more = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40"), ev("arrest_request_extended", "2025-10-01 09:00", days=9)])[0]
    assert more.deadline.due_display == "2025-10-06 24:00"
    assert [a.kind for a in more.anomalies] == ["extension_over_limit"]


def test_an_extension_beyond_times_is_an_anomaly(pack):
    clock = clocks_of(
        pack,
        ARREST_REQUEST,
        [
            ev("detained", "2025-09-29 15:40"),
            ev("arrest_request_extended", "2025-10-01 09:00", days=1),
            ev("arrest_request_extended", "2025-10-02 09:00", days=1),
        ],
    )[0]
    assert clock.deadline.due_display == "2025-10-03 24:00"
    assert [a.kind for a in clock.anomalies] == ["extension_beyond_times"]


def test_to_extension_counts_from_the_start(pack):
    clock = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40"), ev("arrest_request_extended_major", "2025-10-01 09:00")])[0]
    assert clock.deadline.due_display == "2025-10-29 24:00"


def test_a_late_extension_is_not_applied(pack):
    clock = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40"), ev("arrest_request_extended", "2025-10-03 09:00", days=4)])[0]
    assert clock.deadline.due_display == "2025-10-02 24:00"
    assert [a.kind for a in clock.anomalies] == ["late_extension"]


def test_pauses_open_and_close(pack):
    events = [ev("detained", "2025-09-29 15:40"), ev("appraisal_started", "2025-09-30 10:00", None)]
    assert clocks_of(pack, ARREST_REQUEST, events)[0].state(parse_local("2025-10-20 10:00")) == "paused"
    closed = clocks_of(pack, ARREST_REQUEST, [*events, ev("appraisal_done", "2025-10-03 10:00", None)])[0]
    assert closed.deadline.due_display == "2025-10-05 24:00"  # 3 whole days from 09-30 to 10-03


def test_restart_reanchors_and_a_new_start_after_the_end_is_a_second_clock(pack):
    old, new = clocks_of(
        pack,
        "crim.custody.investigation",
        [ev("arrested", "2026-01-31 10:00"), ev("custody_extended", "2026-03-20 10:00", months=1), ev("other_major_crime_found", "2026-03-25 09:00")],
    )
    assert (old.number, old.outcome, old.deadline.due_display) == (1, "restarted", "2026-04-30 24:00")  # kept for audit
    assert (new.number, new.outcome, new.deadline.due_display) == (2, None, "2026-05-25 24:00")  # counted again
    assert new.started.day == 25 and "原计时自 2026-01-31 10:00 起算、期满 2026-04-30 24:00，保留备查" in new.deadline.explanation[0]
    again = clocks_of(
        pack, "crim.custody.investigation", [ev("arrested", "2026-01-05 10:00"), ev("released", "2026-01-20 10:00"), ev("arrested", "2026-02-10 10:00")]
    )
    assert [(c.number, c.outcome) for c in again] == [(1, "cancelled"), (2, None)]


def test_a_repeated_start_while_running_changes_nothing(pack):
    clocks = clocks_of(pack, ARREST_REQUEST, [ev("detained", "2025-09-29 15:40"), ev("detained", "2025-09-30 15:40")])
    assert len(clocks) == 1 and clocks[0].deadline.due_display == "2025-10-02 24:00"


def test_lead_clock_follows_its_target_and_ends_with_it(pack):
    events = [ev("arrested", "2026-01-31 10:00"), ev("custody_extended", "2026-03-20 10:00", months=1)]
    lead = clocks_of(pack, "crim.custody.extension_request", events)[0]
    assert lead.lead_of == "crim.custody.investigation"
    assert lead.deadline.due_display == "2026-04-23 24:00"  # target 04-30 after the extension, 7 days back
    ended = clocks_of(pack, "crim.custody.extension_request", [*events, ev("prosecution_transferred", "2026-04-01 10:00")])[0]
    assert ended.outcome == "cancelled"


def test_version_is_bound_at_the_start(pack):
    old = clocks_of(pack, "admin.questioning", [ev("summoned", "2025-12-31 20:00"), ev("questioning_extended", "2026-01-01 01:00")])[0]
    new = clocks_of(pack, "admin.questioning", [ev("summoned", "2026-01-05 19:10"), ev("questioning_extended", "2026-01-05 23:00")])[0]
    assert old.rule.effective_until is not None and old.deadline.due_display == "2026-01-01 04:00"  # 2012 law: no 12 h step
    assert new.rule.effective_from is not None and new.deadline.due_display == "2026-01-06 07:10"


def test_a_late_lead_stays_late_when_the_target_is_extended_afterwards(pack):
    events = [ev("arrested", "2026-01-31 10:00"), ev("custody_extension_requested", "2026-03-27 10:00"), ev("custody_extended", "2026-03-30 10:00", months=1)]
    first = clocks_of(pack, "crim.custody.extension_request", events)[0]
    assert (first.deadline.due_display, first.outcome) == ("2026-03-24 24:00", "met_late")


def test_each_granted_extension_opens_a_new_lead_round(pack):
    events = [ev("arrested", "2026-01-31 10:00"), ev("custody_extension_requested", "2026-03-20 10:00"), ev("custody_extended", "2026-03-30 10:00", months=1)]
    rounds = clocks_of(pack, "crim.custody.extension_request", events)
    assert [(c.number, c.outcome, c.deadline.due_display) for c in rounds] == [(1, "met", "2026-03-24 24:00"), (2, None, "2026-04-23 24:00")]


def test_not_equal_holds_when_the_fact_is_absent():
    from qixian.rulebook.model import Condition

    assert Condition(("case", "economic"), "ne", True).holds({"case": {}})
    assert Condition(("case", "kind"), "not_in", ("x",)).holds({"case": {}})
    assert not Condition(("case", "kind"), "eq", "x").holds({"case": {}})
    assert not Condition(("case", "age"), "lt", 18).holds({"case": {"age": "unknown"}})
