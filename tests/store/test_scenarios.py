"""Realistic case histories (tests/data/scenarios/*.yaml) whose clocks were derived by hand from the statutes and
the rule definitions, without running the engine: ingested through the real path, on SQLite and PostgreSQL,
every expected clock must be there with its due and state, and no other."""

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from qixian.casework.feeds import ingest_path
from qixian.legaltime.localtime import parse_local
from qixian.supervision.clockview import state_of

SCENARIOS = sorted((Path(__file__).parents[1] / "data" / "scenarios").glob("*.yaml"))


def as_feed(scenario: dict, path: Path) -> Path:
    case = scenario["case"]
    info = {k: v for k, v in case.items() if k != "id"}
    if scenario.get("persons"):
        info["persons"] = scenario["persons"]
    lines = []
    for number, event in enumerate(sorted(scenario["events"], key=lambda e: e["at"])):
        line = {"id": event["id"], "case": case["id"], "type": event["type"], "at": event["at"]}
        for key in ("person", "data"):
            if event.get(key) is not None:
                line[key] = event[key]
        if number == 0:
            line["case_info"] = info
        lines.append(json.dumps(line, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("file", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(store, pack, tmp_path, file):
    scenario = yaml.safe_load(file.read_text(encoding="utf-8"))
    report = ingest_path(store, pack, as_feed(scenario, tmp_path / "feed.jsonl"), source="case-system", now=parse_local(scenario["now"]))
    assert report.quarantined == 0, store.quarantined()
    now = parse_local(scenario["now"])
    enabled = {rule.id for rule in pack.rules if rule.enabled}
    got = Counter((r.rule_id, r.person or None, r.due_display, state_of(r, now)) for r in store.clocks(case=scenario["case"]["id"]) if r.rule_id in enabled)
    expected = Counter((e["rule"], e.get("person"), e["due"], e["state"]) for e in scenario["expect"])
    missing, extra = expected - got, got - expected
    why = {(e["rule"], e.get("person")): e.get("why", "") for e in scenario["expect"]}
    assert not missing and not extra, "\n".join([f"missing: {m}  ({why.get(m[:2], '')})" for m in missing] + [f"extra:   {x}" for x in extra])
