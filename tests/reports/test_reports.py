"""Report measures on small histories worked out by hand, on SQLite and PostgreSQL: reminders, acknowledgement
latency, time from first reminder to completion, scope, paused time, extensions and anomalies."""

import json

from sqlalchemy import select

from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.casework.directory import read_directory
from qixian.casework.feeds import ingest_path
from qixian.legaltime.localtime import parse_local
from qixian.store.tables import OutboxRow
from qixian.supervision.reports import Scope, report

RULE = "incident.emergency_registration"  # 24 hours; reminders 12 h, 4 h, 1 h before; overdue every 4 h, escalated


def feed(store, pack, tmp_path, events, name="feed.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events) + "\n", encoding="utf-8")
    ingest_path(store, pack, path, source="test", now=parse_local("2025-10-10 10:00"))


def incident(case, unit, handler, at):
    return {"id": f"{case}-1", "case": case, "type": "emergency_handled", "at": at, "case_info": {"kind": "incident", "unit": unit, "handler": handler}}


def test_reminders_acknowledgement_and_time_to_completion(store, pack, notify_folder, sink, tmp_path):
    store.replace_directory(read_directory(notify_folder / "directory.yaml"))
    config = NotifyConfig.load(notify_folder)
    # handled 10-10 10:00 → due 10-11 10:00; steps 10-10 22:00, 10-11 06:00, 09:00, then the due 10:00
    feed(store, pack, tmp_path, [incident("A", "chengguan", "officer-1", "2025-10-10 10:00"), incident("B", "jiaodong", "officer-3", "2025-10-10 10:00")])
    for moment in ("2025-10-10 22:05", "2025-10-11 06:05", "2025-10-11 09:05", "2025-10-11 10:05"):
        scan(store, pack, config, parse_local(moment))
    with store.session() as session:
        due_row = (
            session.exec(select(OutboxRow).where(OutboxRow.case_id == "A", OutboxRow.level == "overdue", OutboxRow.recipient == "officer-1")).scalars().one()
        )
    store.acknowledge(due_row.id, "officer-1", "dashboard", parse_local("2025-10-11 10:35"))  # 30 minutes after delivery
    feed(
        store,
        pack,
        tmp_path,
        [{"id": "A-2", "case": "A", "type": "case_registered_online", "at": "2025-10-11 11:00", "data": {"channel": "110警情"}}],
        name="later.jsonl",
    )

    start, end, now = parse_local("2025-10-10 00:00"), parse_local("2025-10-12 00:00"), parse_local("2025-10-11 12:00")
    result = report(store, pack, start, end, now, Scope(unit="chengguan"))
    row = next(r for r in result.by_rule if r.key == RULE)
    tally = row.tally
    assert (tally.assessed, tally.met, tally.met_late, tally.overdue) == (1, 0, 1, 0)
    assert (tally.reminders, tally.overdue_reminders, tally.acknowledged) == (4, 1, 1)
    assert tally.ack_latency == [30.0]
    assert round(tally.to_completion[0], 4) == round(12 + 55 / 60, 4)  # first delivered 10-10 22:05, done 10-11 11:00
    assert [r.label for r in result.by_unit] == ["城关派出所"] and result.scope_label == "城关派出所"

    bureau = report(store, pack, start, end, now)
    assert (bureau.total.met_late, bureau.total.overdue) == (1, 1)  # B is still open past its due
    assert {r.key: r.tally.overdue_rate for r in bureau.by_unit} == {"jiaodong": 1.0, "chengguan": 1.0}
    officer = report(store, pack, start, end, now, Scope(officer="officer-3"))
    assert (officer.total.assessed, officer.total.overdue, officer.total.reminders) == (1, 1, 4)
    before = report(store, pack, start, end, parse_local("2025-10-11 09:59"))
    assert (before.total.assessed, before.total.pending) == (1, 1)  # B not due yet at 09:59: not assessable
    assert before.total.reminders == 6  # A's and B's three steps before the due
    unacknowledged = report(store, pack, start, end, parse_local("2025-10-11 10:30"), Scope(unit="chengguan")).total
    assert (unacknowledged.reminders, unacknowledged.acknowledged, unacknowledged.ack_latency) == (4, 0, [])  # 10:35 is later
    elsewhere = report(store, pack, parse_local("2025-10-12 00:00"), parse_local("2025-10-19 00:00"), now)
    assert elsewhere.total.assessed == 0 and elsewhere.total.reminders == 0


def questioning_events() -> list[dict]:
    """王某 questioned at 城关 (officer-1): summoned 10-10 08:00, restrained 15:00–17:00 and 17:30–18:30, the
    extension approved 19:30, questioning ended 20:00 (worked out below)."""
    events = [
        ("summoned", "2025-10-10 08:00"),
        ("drunk_restraint_started", "2025-10-10 15:00"),
        ("drunk_restraint_ended", "2025-10-10 17:00"),
        ("drunk_restraint_started", "2025-10-10 17:30"),
        ("drunk_restraint_ended", "2025-10-10 18:30"),
        ("questioning_extended_major", "2025-10-10 19:30"),
        ("questioning_ended", "2025-10-10 20:00"),
    ]
    lines = [{"id": f"q{n}", "case": "（2025）城关行字第0009号", "type": kind, "at": at, "person": "王某"} for n, (kind, at) in enumerate(events)]
    lines[0]["case_info"] = {"kind": "administrative", "unit": "chengguan", "handler": "officer-1"}
    return lines


def test_paused_time_extensions_and_anomalies(store, pack, tmp_path):
    # Questioning (8 hours, exact, custody): summoned 08:00, due 16:00. Restrained for drunkenness 15:00–17:00 (due
    # then 16:00, one hour away) and 17:30–18:30 (due then 18:00, half an hour away): 3 hours paused, due 19:00.
    # The extension approved 19:30 is after the due: an anomaly, not applied. Questioning ends 20:00: met late.
    feed(store, pack, tmp_path, questioning_events())
    result = report(store, pack, parse_local("2025-10-10 00:00"), parse_local("2025-10-11 00:00"), parse_local("2025-10-12 09:00"))
    questioning = next(r for r in result.by_rule if r.key == "admin.summons.questioning").tally
    assert (questioning.assessed, questioning.met_late) == (1, 1)
    label = pack.events["drunk_restraint_started"].label
    assert result.paused == [(label, 3.0, 1)]
    assert result.extensions == [(pack.events["questioning_extended_major"].label, 1)]
    kinds = sorted(f.kind for f in result.anomalies)
    assert kinds == ["late_extension", "pause_before_due"]
    repeated = next(f for f in result.anomalies if f.kind == "pause_before_due")
    assert "2 次" in repeated.message and "1.0 小时" in repeated.message and "0.5 小时" in repeated.message
    # the part of a pause inside a shorter period: 15:00–16:00 only
    early = report(store, pack, parse_local("2025-10-10 00:00"), parse_local("2025-10-10 16:00"), parse_local("2025-10-12 09:00"))
    assert early.paused == [(label, 1.0, 1)]


def test_csv_cells_from_outside_are_never_formulas(store, pack, tmp_path):
    """A unit or handler id from the case system that starts like a formula (OWASP CSV injection) reaches the CSV
    with a leading apostrophe; the numbers we write stay numbers."""
    import csv
    import io

    from qixian.safetext import csv_cell
    from qixian.supervision.reportviews import as_csv

    hostile = {"=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+1", "-2+3"}  # (a tab or CR is a space after ingest)
    feed(store, pack, tmp_path, [incident("X", "=cmd|' /C calc'!A0", "@SUM(1+1)", "2025-10-10 10:00"), incident("Y", "+1+1", "-2+3", "2025-10-10 10:00")])
    result = report(store, pack, parse_local("2025-10-10 00:00"), parse_local("2025-10-12 00:00"), parse_local("2025-10-11 12:00"))
    rows = list(csv.reader(io.StringIO(as_csv(result).lstrip("\ufeff"))))
    cells = [cell for row in rows for cell in row]
    assert {"'" + text for text in hostile} <= set(cells)  # each one is there, neutralised
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert not any(cell.startswith("-") and not cell.lstrip("-").replace(".", "").isdigit() for cell in cells)
    assert (csv_cell(-3), csv_cell(-0.25), csv_cell("城关"), csv_cell("-3")) == (-3, -0.25, "城关", "'-3")
    assert (csv_cell("\t=1"), csv_cell("\r=1")) == ("'\t=1", "'\r=1")


def test_names_in_the_markdown_report_stay_text(store, pack, tmp_path):
    from qixian.supervision.reportviews import as_markdown

    feed(store, pack, tmp_path, [incident("X", "[点此](http://evil.example)|x", "officer-1", "2025-10-10 10:00")])
    result = report(store, pack, parse_local("2025-10-10 00:00"), parse_local("2025-10-12 00:00"), parse_local("2025-10-11 12:00"))
    table = as_markdown(result)
    assert "［点此］（http：//evil.example）｜x" in table and "](" not in table
