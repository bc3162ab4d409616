"""Replaying cases from the store into clock rows: after ingest, and when the rule pack or calendar changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

from qixian.clocks import Clock, replay
from qixian.reminders import next_step
from qixian.rulebook.model import RulePack
from qixian.store.repository import Store


@dataclass
class Moved:
    """A clock whose due a new rule pack or calendar would change."""

    case: str
    rule: str
    person: str
    before: str | None
    after: str | None
    shift: timedelta | None


@dataclass
class Recomputed:
    cases: int = 0
    clocks: int = 0
    changed: int = 0
    moved: list[Moved] = field(default_factory=list)


def replay_cases(store: Store, pack: RulePack, case_ids: Iterable[str]) -> dict[str, list[Clock]]:
    """The clocks the stored events of these cases give under `pack`."""
    ids = list(case_ids)
    events = store.case_events(ids)
    facts, persons = store.case_facts(ids)
    result = {}
    for case_id in ids:
        case_events = events.get(case_id, [])
        relevant = pack.rules_started_by({e.type for e in case_events})
        result[case_id] = replay(pack, case_events, case=case_id, facts=facts.get(case_id, {}),
                                 persons=persons.get(case_id, {}), rule_ids=relevant)
    return result


def recompute(store: Store, pack: RulePack, case_ids: Iterable[str], now: datetime, *, apply: bool = True,
              batch: int = 500) -> Recomputed:
    """Replay the cases and (unless `apply` is false) store their clocks; report which dues move."""
    ids = list(case_ids)
    report = Recomputed(cases=len(ids))
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        replayed = replay_cases(store, pack, chunk)
        before = {(r.case_id, r.rule_id, r.person, r.number): r for r in store.clocks_of_cases(chunk)}
        for case_id, clocks in replayed.items():
            report.clocks += len(clocks)
            for clock in clocks:
                old = before.get((case_id, clock.rule.id, clock.person or "", clock.number))
                if old is not None and old.due_at != clock.due:  # aware datetimes compare as instants
                    shift = clock.due - old.due_at if clock.due and old.due_at else None
                    report.moved.append(Moved(case_id, clock.rule.id, clock.person or "", old.due_display,
                                              clock.deadline.due_display, shift))
        if apply:
            reminders = {(case_id, c.rule.id, c.person or "", c.number): step.at
                         for case_id, clocks in replayed.items() for c in clocks
                         if (step := next_step(c, pack.settings)) is not None}
            report.changed += store.write_clocks(replayed, now, reminders)
    return report
