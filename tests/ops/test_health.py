"""`qixian health` as ops and probes use it: each check's status and figures, on SQLite and PostgreSQL, at times
chosen around each threshold (3 scan intervals; 1 December for next year's calendar)."""

import hashlib
import json
import shutil

from sqlalchemy import select

from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.casework.directory import read_directory
from qixian.casework.feeds import ingest_path
from qixian.cli import main
from qixian.legaltime.localtime import parse_local
from qixian.store.tables import OutboxRow
from tests.clock import frozen_at
from tests.paths import ROOT, RULES

SAMPLE = ROOT / "examples" / "events.jsonl"


def health(capsys, db_url, now, *extra, rules=RULES):
    code = main(["health", "--json", "--db", db_url, "--rules", str(rules), "--now", now, *extra])
    out = capsys.readouterr().out
    report = json.loads(out)
    return code, report["status"], report["checks"]


def setup(store, pack, notify_folder):
    store.replace_directory(read_directory(notify_folder / "directory.yaml"))
    ingest_path(store, pack, SAMPLE, source="case-system", now=parse_local("2025-09-29 16:00"))
    return NotifyConfig.load(notify_folder)


def test_before_any_scan_the_system_is_unhealthy_and_exits_1(store, db_url, capsys):
    code, status, checks = health(capsys, db_url, "2025-10-05 09:00")
    assert (code, status, checks["scan"]["status"]) == (1, "unhealthy", "unhealthy")
    assert checks["scan"]["last_finished"] is None


def test_a_scan_is_late_after_three_intervals(store, db_url, pack, notify_folder, sink, capsys):
    scan(store, pack, setup(store, pack, notify_folder), parse_local("2025-10-05 09:00"))
    code, _, checks = health(capsys, db_url, "2025-10-05 09:02")
    assert code == 0 and checks["scan"]["status"] == "ok"
    assert checks["scan"]["last_finished"].startswith("2025-10-05T09:00")
    assert 115 <= checks["scan"]["lag_seconds"] <= 120 and checks["scan"]["limit_seconds"] == 180
    code, _, checks = health(capsys, db_url, "2025-10-05 09:04")
    assert code == 1 and checks["scan"]["status"] == "unhealthy"
    code, _, checks = health(capsys, db_url, "2025-10-05 09:14", "--interval", "5")  # every 5 minutes: 15 allowed
    assert code == 0 and checks["scan"]["status"] == "ok"


def test_a_backlog_waiting_for_its_retry_is_reported_and_one_nobody_tries_is_unhealthy(store, db_url, pack, notify_folder, sink, capsys):
    config = setup(store, pack, notify_folder)
    sink.failing["/"] = (503, {"code": 503})
    scan(store, pack, config, parse_local("2025-10-05 09:00"))  # every channel fails: retry at 09:01
    owed = store.count(OutboxRow)
    assert owed >= 1
    _, _, checks = health(capsys, db_url, "2025-10-05 09:01")
    outbox = checks["outbox"]
    assert outbox["status"] == "ok" and outbox["pending"] == owed and outbox["stuck"] == 0
    assert outbox["oldest_pending"].startswith("2025-10-05T09:00") and outbox["oldest_age_seconds"] == 60
    _, _, checks = health(capsys, db_url, "2025-10-05 09:04:30")  # the 09:01 retry is 3½ minutes overdue
    assert checks["outbox"]["status"] == "unhealthy" and checks["outbox"]["stuck"] == owed


def test_reminders_no_channel_took_are_counted_as_undeliverable(store, db_url, pack, notify_folder, sink, capsys):
    config = setup(store, pack, notify_folder)  # backoff [1 minute, 5 minutes]: three rounds
    sink.failing["/"] = (503, {"code": 503})
    for moment in ("2025-10-05 09:00", "2025-10-05 09:01", "2025-10-05 09:06"):
        scan(store, pack, config, parse_local(moment))
    with store.session() as session:
        given_up = [o for o in session.exec(select(OutboxRow)).scalars() if o.status == "undeliverable"]
    assert given_up and len(given_up) == store.count(OutboxRow)
    _, _status, checks = health(capsys, db_url, "2025-10-05 09:07")
    assert checks["undeliverable"] == {"status": "warning", "summary": checks["undeliverable"]["summary"], "total": len(given_up), "last_24h": len(given_up)}
    _, _, checks = health(capsys, db_url, "2025-10-07 09:07")  # two days later: still counted, no longer recent
    assert (checks["undeliverable"]["total"], checks["undeliverable"]["last_24h"]) == (len(given_up), 0)


def test_quarantined_events_are_counted(store, db_url, pack, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x1", "case": "C", "type": "no_such_type", "at": "2025-10-01 09:00"}\nnot json\n', encoding="utf-8")
    ingest_path(store, pack, bad, source="case-system", now=parse_local("2025-10-01 10:00"))
    _, _, checks = health(capsys, db_url, "2025-10-01 10:00")
    assert checks["quarantine"]["status"] == "warning" and checks["quarantine"]["size"] == 2


def test_ids_and_addresses_that_failed_to_sign_in_often_are_named(store, db_url, capsys):
    from qixian.store.signins import ADDRESS_FAILURES, OFFICER_FAILURES

    at = parse_local("2025-10-01 09:00")
    for _ in range(OFFICER_FAILURES - 1):
        store.record_sign_in("officer-2", "10.0.0.7", False, at)
        store.record_sign_in("officer-2", "10.0.0.8", False, at)  # failures at two addresses pause neither
    _, _, checks = health(capsys, db_url, "2025-10-01 10:00")
    assert checks["sign_ins"]["status"] == "ok" and checks["sign_ins"]["failed_24h"] == 2 * (OFFICER_FAILURES - 1)
    store.record_sign_in("officer-2", "10.0.0.7", False, at)
    for n in range(ADDRESS_FAILURES):
        store.record_sign_in(f"guess-{n}", "10.0.0.9", False, at)
    _, _, checks = health(capsys, db_url, "2025-10-01 10:00")
    assert checks["sign_ins"]["status"] == "warning"
    assert (checks["sign_ins"]["officers"], checks["sign_ins"]["addresses"]) == (["officer-2"], ["10.0.0.9"])
    assert "officer-2、10.0.0.9 登录失败达到暂停次数" in checks["sign_ins"]["summary"]
    _, _, checks = health(capsys, db_url, "2025-10-02 09:01")  # a day later they are history
    assert checks["sign_ins"]["status"] == "ok" and checks["sign_ins"]["failed_24h"] == 0


def test_next_years_calendar_is_wanted_from_1_december(store, db_url, capsys):
    _, _, checks = health(capsys, db_url, "2026-11-30 23:59")  # the shipped calendar ends with 2026
    assert checks["calendar"]["status"] == "ok" and checks["calendar"]["next_year"] is False
    _, _, checks = health(capsys, db_url, "2026-12-01 00:00")
    assert checks["calendar"]["status"] == "warning" and "2027.yaml" in checks["calendar"]["summary"]
    steps = [
        "《关于2027年部分节假日安排的通知》",
        "qixian calendar import notice.txt",
        "qixian rules check rules",
        "qixian recompute --dry-run",
        "qixian rules rollout --by 姓名",
    ]
    summary = checks["calendar"]["summary"]
    assert [summary.index(step) for step in steps] == sorted(summary.index(step) for step in steps)  # in this order
    code, _, checks = health(capsys, db_url, "2027-01-01 00:00")
    assert code == 1 and checks["calendar"]["status"] == "unhealthy"
    assert "临时结果" in checks["calendar"]["summary"] and "qixian calendar import" in checks["calendar"]["summary"]
    _, _, checks = health(capsys, db_url, "2025-12-15 09:00")  # 2026 is there
    assert checks["calendar"]["status"] == "ok"


def test_without_now_the_calendar_check_turns_at_midnight_beijing_time_on_1_december(store, db_url, capsys):
    """`qixian health` as cron runs it (no --now) reads the real clock: 1 December 00:00 in Beijing is still
    30 November in UTC, so a check that read the UTC date would stay quiet for eight more hours."""
    for at, status in (("2026-11-30 23:59", "ok"), ("2026-12-01 00:00", "warning"), ("2027-01-01 00:00", "unhealthy")):
        with frozen_at(at):
            main(["health", "--json", "--db", db_url, "--rules", str(RULES)])
        report = json.loads(capsys.readouterr().out)
        assert report["now"] == parse_local(at).isoformat() and report["checks"]["calendar"]["status"] == status, at


def test_the_pack_in_force_is_the_one_rolled_out(store, db_url, pack, tmp_path, capsys):
    ingest_path(store, pack, SAMPLE, source="case-system", now=parse_local("2025-09-29 16:00"))
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    _, _, checks = health(capsys, db_url, "2025-10-01 09:00", rules=folder)
    assert checks["rules"]["status"] == "warning" and checks["rules"]["rolled_out"] is None
    assert main(["rules", "rollout", "--by", "王法制", "--db", db_url, "--rules", str(folder), "--now", "2025-10-01 09:00"]) == 0
    assert "王法制" in capsys.readouterr().out
    _, _, checks = health(capsys, db_url, "2025-10-01 09:05", rules=folder)
    assert checks["rules"]["status"] == "ok" and checks["rules"]["rolled_out"]["by"] == "王法制"
    with (folder / "settings.yaml").open("a", encoding="utf-8") as handle:
        handle.write("# 改动\n")
    _, _, changed = health(capsys, db_url, "2025-10-01 09:10", rules=folder)
    assert changed["rules"]["status"] == "warning"
    assert changed["rules"]["pack_hash"] != checks["rules"]["pack_hash"]
    assert changed["rules"]["rolled_out"]["pack_hash"] == checks["rules"]["pack_hash"]


def test_a_pack_whose_examples_fail_is_not_rolled_out(store, db_url, pack, tmp_path, capsys):
    from qixian.store.tables import RolloutRow

    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    (folder / "calendar" / "2025.yaml").unlink()  # the examples around National Day 2025 no longer hold
    assert main(["rules", "rollout", "--by", "王法制", "--db", db_url, "--rules", str(folder)]) == 1
    assert "未上线" in capsys.readouterr().out and store.count(RolloutRow) == 0
    assert main(["recompute", "--by", "王法制", "--db", db_url, "--rules", str(folder)]) == 1  # writing is a roll-out
    assert "未上线" in capsys.readouterr().out and store.count(RolloutRow) == 0


def test_a_recompute_records_every_file_with_its_hash_and_what_moved(store, db_url, pack, tmp_path, capsys):
    from qixian.store.tables import RolloutRow

    ingest_path(store, pack, SAMPLE, source="case-system", now=parse_local("2025-09-29 16:00"))
    before = {(c.case_id, c.rule_id, c.person): c.due_display for c in store.clocks()}
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    rule_file = folder / "criminal-coercive.yaml"  # family notice within 23 hours, its examples one hour earlier
    head, rule = rule_file.read_text(encoding="utf-8").split("  - id: crim.detention.family_notice\n", 1)
    rule, tail = rule.split("\n  - id: ", 1)
    for old, new in (("limit: 24 hours", "limit: 23 hours"), ("02-15 16:20", "02-15 15:20"), ("10-01 21:00", "10-01 20:00"), ("03-04 08:00", "03-04 07:00")):
        rule = rule.replace(old, new)
    rule_file.write_text(f"{head}  - id: crim.detention.family_notice\n{rule}\n  - id: {tail}", encoding="utf-8")
    assert main(["recompute", "--by", "王法制", "--db", db_url, "--rules", str(folder), "--now", "2025-10-01 09:00"]) == 0
    capsys.readouterr()
    after = {(c.case_id, c.rule_id, c.person): c.due_display for c in store.clocks()}
    with store.session() as session:
        row = session.exec(select(RolloutRow)).scalars().one()
    expected = {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.yaml")}
    assert row.by == "王法制" and row.files == expected
    changed = {key for key in before if before[key] != after.get(key)}
    assert changed and {(m["case"], m["rule"], m["person"] or "") for m in row.moved} == changed
    assert all(
        (m["before"], m["after"]) == (before[(m["case"], m["rule"], m["person"] or "")], after[(m["case"], m["rule"], m["person"] or "")]) for m in row.moved
    )


def test_an_unreachable_database_is_unhealthy(capsys):
    code, status, checks = health(capsys, "postgresql://postgres@127.0.0.1:1/none", "2025-10-01 09:00")
    assert (code, status, checks["database"]["status"]) == (1, "unhealthy", "unhealthy")
    assert checks["calendar"]["status"] == "ok"  # the checks that need no database still run


def test_the_table_has_chinese_labels(store, db_url, capsys):
    assert main(["health", "--db", db_url, "--rules", str(RULES), "--now", "2025-10-01 09:00"]) == 1
    out = capsys.readouterr().out
    for label in ("最近一次扫描", "待发队列", "无法送达", "隔离区", "节假日日历", "规则包", "异常"):
        assert label in out


def test_catch_up_after_downtime_is_listed_by_the_scan_and_by_health(store, db_url, pack, notify_folder, sink, capsys):
    setup(store, pack, notify_folder)  # nothing scanned from the events until 10-08
    code = main(["scan", "--db", db_url, "--rules", str(RULES), "--notify", str(notify_folder), "--now", "2025-10-08 09:00"])
    out = capsys.readouterr().out
    with store.session() as session:
        late = [o for o in session.exec(select(OutboxRow)).scalars() if o.late]
    clocks = {o.clock_id for o in late}
    assert code == 0 and clocks
    assert f"停机补发：{len(clocks)} 个计时" in out
    for row in late:
        assert row.case_id in out
    _, _, checks = health(capsys, db_url, "2025-10-08 09:01")
    catch_up = checks["catch_up"]
    assert catch_up["status"] == "warning" and catch_up["count"] == len(clocks)
    assert {c["clock"] for c in catch_up["clocks"]} == clocks
    assert {(c["case"], c["rule"], c["step"]) for c in catch_up["clocks"]} == {(o.case_id, o.rule_id, o.label) for o in late}
    _, _, checks = health(capsys, db_url, "2025-10-09 09:02")  # a day later it is history
    assert checks["catch_up"]["count"] == 0
