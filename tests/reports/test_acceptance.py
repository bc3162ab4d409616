"""Acceptance: on the demo data, `qixian report` gives the counts that a separate, simple computation over the
event feed gives (not the engine: the due of an hour-based limit is the start plus the hours, met when the first
stop event is at or before it). On SQLite and PostgreSQL."""

import json
import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from datetime import timedelta

import pytest

from qixian.casework.feedlines import check, read_lines
from qixian.casework.feeds import ingest_items
from qixian.casework.samplefeed import UNITS, Feed, officers
from qixian.cli import main
from qixian.engine.directory import Directory, Officer, Unit
from qixian.legaltime.localtime import parse_local

NOW = parse_local("2025-10-09 09:00")
PERIOD = ("2025-09-25", "2025-10-04")  # both days included: [09-25 00:00, 10-05 00:00)
# rule: (start event, its data condition, stop events, hours, case kinds)
SIMPLE = {
    "incident.emergency_registration": ("emergency_handled", None, {"case_registered_online"}, 24, None),
    "incident.receipt_on_spot": ("case_registered_online", ("channel", {"上门报案", "扭送"}), {"receipt_issued"}, 0, None),
    "accept.admin_review": ("case_registered_online", None, {"case_accepted", "case_not_accepted", "case_filed"}, 24, {"administrative"}),
}


@pytest.fixture
def demo(store, pack):
    """The demo's 300 generated cases and directory, as `qixian demo` loads them."""
    people = officers()
    units = {u: Unit(u, name, *[p["id"] for p in people if p["unit"] == u][:2]) for u, name in UNITS}
    store.replace_directory(Directory(units, {p["id"]: Officer(p["id"], p["name"], p["unit"], p["phone"]) for p in people}))
    lines = list(Feed(seed=7, start=NOW - timedelta(days=20), days=20).lines(300))
    items = [check("feed", n, raw, item, pack.events) for n, raw, item in read_lines("feed.jsonl", "\n".join(lines) + "\n")]
    ingest_items(store, pack, items, source="demo", now=NOW)
    return [json.loads(line) for line in lines]


def expected(events, rule, unit=None):
    """Outcome counts of one hour-based rule's clocks due in PERIOD, computed straight from the feed."""
    start_type, condition, stops, hours, kinds = SIMPLE[rule]
    begin, end = parse_local(PERIOD[0] + " 00:00"), parse_local(PERIOD[1] + " 00:00") + timedelta(days=1)
    info = {e["case"]: e["case_info"] for e in events if "case_info" in e}
    counts = Counter()
    for case in {e["case"] for e in events}:
        if (kinds and info[case]["kind"] not in kinds) or (unit and info[case]["unit"] != unit):
            continue
        mine = sorted((e for e in events if e["case"] == case), key=lambda e: e["at"])
        starts = [e for e in mine if e["type"] == start_type and (condition is None or e.get("data", {}).get(condition[0]) in condition[1])]
        if not starts:
            continue
        started = parse_local(starts[0]["at"])
        due = started + timedelta(hours=hours)
        if not begin <= due < end:
            continue
        done = [parse_local(e["at"]) for e in mine if e["type"] in stops and parse_local(e["at"]) >= started]
        if done:
            counts["met" if done[0] <= due else "met_late"] += 1
        elif due <= NOW:
            counts["overdue"] += 1
        else:
            counts["pending"] += 1
    counts["assessed"] = counts["met"] + counts["met_late"] + counts["overdue"]
    return counts


def report_args(db_url) -> list[str]:
    """`qixian report` over the acceptance period, read at one moment."""
    return ["report", "--from", PERIOD[0], "--to", PERIOD[1], "--now", "2025-10-09 09:00", "--db", db_url]


def run_report(capsys, db_url, *extra):
    capsys.readouterr()
    code = main([*report_args(db_url), "--format", "json", *extra])
    assert code == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("unit", [None, "chengguan"])
def test_report_counts_match_the_event_feed(demo, db_url, capsys, unit, pack):
    data = run_report(capsys, db_url, *(["--unit", unit] if unit else []))
    by_rule = {row["key"]: row for row in data["by_rule"]}
    for rule in SIMPLE:
        want = expected(demo, rule, unit)
        assert want["assessed"] > 0, rule  # the period holds some of each
        got = by_rule[rule]
        assert {k: got[k] for k in ("assessed", "met", "met_late", "overdue", "pending")} == {
            k: want[k] for k in ("assessed", "met", "met_late", "overdue", "pending")
        }, rule
    # 受案回执提醒 is one rule in the pack: the reminder-type row is that rule's count
    assert [r.id for r in pack.rules if r.reminder_type == "受案回执提醒"] == ["incident.receipt_on_spot"]
    receipt = next(row for row in data["by_type"] if row["label"] == "受案回执提醒")
    assert receipt["assessed"] == expected(demo, "incident.receipt_on_spot", unit)["assessed"]
    if unit is None:  # the units' rows add up to the bureau
        assert sum(row["assessed"] for row in data["by_unit"]) == data["total"]["assessed"]
        assert sum(row["assessed"] for row in data["by_week"]) == data["total"]["assessed"]


def test_csv_and_html_carry_the_same_figures(demo, db_url, capsys, tmp_path):
    data = run_report(capsys, db_url)
    assert main([*report_args(db_url), "--format", "csv", "--output", str(tmp_path / "r.csv")]) == 0
    rows = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    total = rows[1].split(",")
    assert total[:4] == ["合计", "", "全局", str(data["total"]["assessed"])]
    assert main([*report_args(db_url), "--format", "html", "--output", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html  # self-contained
    assert 'name="viewport"' in html and "执法办案期限考核" in html
    charts = [ElementTree.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", html, re.S)]
    assert len(charts) == 3  # trend, unit ranking, overdue by rule
    bars = charts[1].findall("rect")
    assert len(bars) == len(data["by_unit"])


def test_bad_input_is_refused_in_chinese(db_url, store, capsys):
    assert main(["report", "--from", "2025-10-31", "--to", "2025-10-01", "--db", db_url]) == 2
    assert "截止日期应不早于起始日期" in capsys.readouterr().err
    assert main(["report", "--from", "十月", "--to", "2025-10-01", "--db", db_url]) == 2
    assert "--from 应为日期" in capsys.readouterr().err
    assert main(["report", "--from", "2025-10-01", "--to", "2025-10-31", "--format", "pdf", "--db", db_url]) == 2
    assert main(["ack", "7", "--officer", "officer-1", "--db", db_url]) == 2
    assert "没有编号为 7 的提醒" in capsys.readouterr().err


def test_the_terminal_table_keeps_every_name_and_column_at_80_columns(demo, db_url, capsys, monkeypatch):
    data = run_report(capsys, db_url)
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["report", "--from", PERIOD[0], "--to", PERIOD[1], "--now", "2025-10-09 09:00", "--db", db_url]) == 0
    shown = capsys.readouterr().out
    for row in data["by_type"]:
        assert row["label"] in shown, row["label"]  # no name squeezed away
    assert "完成用时h" in shown and "确认用时m" in shown and "超期完成" in shown  # every heading whole
