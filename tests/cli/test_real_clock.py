"""Commands run without --now read the real clock, in Beijing time: the clock is stopped (freezegun) a minute either
side of a due at 24:00, and the answer turns with it. A command that read UTC as Beijing time, or a clock eight hours
off, would show the arrest request still running, eight hours from its due, at both moments."""

import json

from qixian.cli import main
from tests.clock import frozen_at
from tests.paths import ROOT

SAMPLE = ROOT / "examples" / "events.jsonl"


def arrest_request(capsys, db) -> dict:
    assert main(["clocks", "--db", db, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    return next(r for r in rows if r["rule"] == "crim.detention.arrest_request" and r["person"] == "张某")


def test_clocks_without_now_are_read_at_the_real_time(capsys, db):
    assert main(["ingest", str(SAMPLE), "--db", db, "--now", "2025-09-29 16:00"]) == 0
    capsys.readouterr()
    with frozen_at("2025-10-06 23:59"):
        before = arrest_request(capsys, db)
    with frozen_at("2025-10-07 00:01"):
        after = arrest_request(capsys, db)
    assert before["due_display"] == after["due_display"] == "2025-10-06 24:00"
    assert (before["state"], before["left"]) == ("running", "1分钟")
    assert (after["state"], after["left"]) == ("overdue", "已超期1分钟")
