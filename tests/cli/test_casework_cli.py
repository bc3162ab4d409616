"""The store commands as an officer and ops use them: db upgrade, ingest, quarantine, clocks, case show, recompute."""

import json

from qixian.cli import main
from tests.paths import ROOT

SAMPLE = ROOT / "examples" / "events.jsonl"
NOW = "2025-10-06 09:00"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_prints_counts_and_points_to_quarantine(capsys, db):
    code, out, _ = run(capsys, "ingest", SAMPLE, "--db", db, "--now", NOW)
    assert code == 0 and "14" in out and "12" in out and "qixian quarantine list" in out


def test_ingest_with_an_empty_sql_address_says_to_give_a_source(capsys, db):
    code, _, err = run(capsys, "ingest", "--sql", "", "--query", "select 1", "--db", db, "--now", NOW)
    assert code != 0 and "二者选一" in err and "Traceback" not in err


def test_commands_before_db_upgrade_say_what_to_do(capsys, tmp_path):
    code, _, err = run(capsys, "clocks", "--db", f"sqlite:///{tmp_path}/none.db")
    assert code == 2 and "qixian db upgrade" in err and len(err.strip().splitlines()) == 1


def test_clocks_json_fields_and_filters(capsys, db):
    run(capsys, "ingest", SAMPLE, "--db", db, "--now", NOW)
    code, out, _ = run(capsys, "clocks", "--db", db, "--now", NOW, "--json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert {"case", "person", "rule", "state", "due", "due_display", "provisional"} <= set(rows[0])
    overdue = json.loads(run(capsys, "clocks", "--db", db, "--now", NOW, "--state", "overdue", "--json")[1])
    assert overdue and {r["state"] for r in overdue} == {"overdue"}
    soon = json.loads(run(capsys, "clocks", "--db", db, "--now", NOW, "--due-before", "2025-10-07 09:00", "--json")[1])
    from datetime import datetime

    cut = datetime.fromisoformat("2025-10-07T09:00:00+08:00")
    assert "crim.detention.arrest_request" in {r["rule"] for r in soon}
    assert all(datetime.fromisoformat(r["due"]) < cut for r in soon)
    assert "crim.bail.max_period" not in {r["rule"] for r in soon}
    window = json.loads(run(capsys, "clocks", "--db", db, "--now", NOW, "--due-after", "2025-10-06 09:00", "--due-before", "2025-10-07 09:00", "--json")[1])
    assert [r["rule"] for r in window] == ["crim.detention.arrest_request"]
    arrest = next(r for r in rows if r["rule"] == "crim.detention.arrest_request" and r["person"] == "张某")
    assert arrest["due"] == "2025-10-07T00:00:00+08:00" and arrest["due_display"] == "2025-10-06 24:00"
    assert arrest["state"] == "running" and arrest["left"] == "15小时0分"


def test_case_show_has_timeline_and_explanations(capsys, db):
    run(capsys, "directory", "load", ROOT / "notify" / "directory.yaml", "--db", db)
    run(capsys, "ingest", SAMPLE, "--db", db, "--now", NOW)
    code, out, _ = run(capsys, "case", "show", "（2025）城关刑字第0001号", "--db", db, "--now", NOW)
    assert code == 0
    assert "刑事拘留 张某" in out and "类别：刑事案件  单位：城关派出所  主办：刘明  协办：王芳" in out
    assert "报案方式：上门报案" in out and "天数：4  批准人：县局局长" in out and "{" not in out and "拘留后提请批准逮捕（张某）" in out and "延长 4日" in out


def test_quarantine_list_and_retry_after_the_vocabulary_grows(capsys, db, tmp_path):
    import shutil

    run(capsys, "ingest", SAMPLE, "--db", db, "--now", NOW)
    listed = json.loads(run(capsys, "quarantine", "list", "--db", db, "--json")[1])
    assert {q["id"] for q in listed} == {"e-0011", "e-0012"} and all(q["raw"] and q["reason"] for q in listed)
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    with (rules / "events.yaml").open("a", encoding="utf-8") as handle:
        handle.write("  arrest_requestd:\n    label: 提请批准逮捕（旧系统拼写）\n    person: required\n")
    code, _out, _ = run(capsys, "quarantine", "retry", "--db", db, "--rules", rules, "--now", NOW)
    assert code == 0
    left = json.loads(run(capsys, "quarantine", "list", "--db", db, "--json")[1])
    assert [q["id"] for q in left] == ["e-0011"]  # the bad time is still bad; the other line is in


def test_recompute_dry_run_changes_nothing(capsys, db):
    run(capsys, "ingest", SAMPLE, "--db", db, "--now", NOW)
    before = run(capsys, "clocks", "--db", db, "--now", NOW, "--json")[1]
    code, out, _ = run(capsys, "recompute", "--db", db, "--dry-run", "--now", NOW)
    assert code == 0 and "没有期满时间变化" in out and "未写入" in out
    assert run(capsys, "clocks", "--db", db, "--now", NOW, "--json")[1] == before


def test_bad_arguments_exit_2(capsys, db):
    assert run(capsys, "ingest", "--db", db)[0] == 2
    assert run(capsys, "ingest", "/no/such/file", "--db", db)[0] == 2
    assert run(capsys, "clocks", "--db", db, "--state", "late")[0] == 2
    assert run(capsys, "clocks", "--db", db, "--now", "tomorrow")[0] == 2


def test_recompute_dry_run_warns_first_when_the_packs_examples_fail(capsys, db, tmp_path):
    import shutil

    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    (folder / "calendar" / "2025.yaml").unlink()  # the National Day 2025 examples no longer hold
    run(capsys, "ingest", SAMPLE, "--db", db, "--now", NOW)
    code, out, _ = run(capsys, "recompute", "--db", db, "--rules", folder, "--dry-run", "--now", NOW)
    assert code == 0 and "个例子未通过，不能上线" in out
    assert out.index("个例子未通过") < out.index("期满时间变化")
