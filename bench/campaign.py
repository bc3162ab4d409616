"""What a unit's recurring duties cost to replay, next to a case: one unit's 日梳理、周研判、月会商 over a year (about
300 periods) against the sample criminal case of examples/events.jsonl. A duty matter is replayed when a record
arrives and when a scan opens a new period (about once a working day), so the ratio says what a bureau's units
add to a day's replay work. Prints ratios, not a pass/fail.

Run: .venv/bin/python bench/campaign.py [ROUNDS]
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

from qixian.engine.clocks import Event, replay
from qixian.legaltime.localtime import parse_local
from qixian.rulebook import load_pack

ROOT = Path(__file__).resolve().parents[1]


def timed(work, rounds: int) -> float:
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for _ in range(rounds):
            work()
        best = min(best, (time.perf_counter() - began) / rounds)
    return best


def _readable(text: str) -> bool:
    """The sample feed holds typing slips on purpose (quarantined on ingest): left out here."""
    try:
        parse_local(text)
    except ValueError:
        return False
    return True


def main(rounds: int = 20) -> None:
    pack = load_pack(ROOT / "rules")
    opened = parse_local("2025-01-02 09:00")
    duties = [Event("duties_opened", opened)] + [Event("duty_done", opened + timedelta(days=day, hours=6), data={"duty": "日梳理"}) for day in range(0, 364, 1)]
    year_end = parse_local("2025-12-31 20:00")
    lines = [json.loads(line) for line in (ROOT / "examples" / "events.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    first = lines[0]["case"]
    case = [
        Event(item["type"], parse_local(item["at"]), item.get("person"), item.get("data") or {})
        for item in lines
        if item["case"] == first and item["type"] in pack.events and _readable(item["at"])
    ]
    facts = {"kind": "criminal"}
    periods = len(replay(pack, duties, case="duties:x", facts={"kind": "duty", "unit": "x"}, until=year_end, rule_ids=pack.rules_started_by({"duties_opened"})))
    duty_time = timed(
        lambda: replay(pack, duties, case="duties:x", facts={"kind": "duty", "unit": "x"}, until=year_end, rule_ids=pack.rules_started_by({"duties_opened"})),
        rounds,
    )
    case_time = timed(lambda: replay(pack, case, case=first, facts=facts, rule_ids=pack.rules_started_by({e.type for e in case})), rounds)
    print(f"一个单位一年的常态化工作：{periods} 个周期、{len(duties)} 条事件，重放一次 {duty_time * 1000:.1f} ms")
    print(f"样例案件 {first}：{len(case)} 条事件，重放一次 {case_time * 1000:.2f} ms")
    print(f"比值（单位一年的常态化工作 / 一个案件）：{duty_time / case_time:.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
