"""`qixian duty` as a unit leader uses it: begin the duties, record one, list the periods; wrong input is one
Chinese line and exit status 2, nothing recorded."""

import json

from qixian.cli import main
from tests.cli.conftest import db  # noqa: F401 - a new SQLite store
from tests.paths import ROOT


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_open_record_and_list_the_weekly_review(capsys, db):  # noqa: F811
    assert run(capsys, "directory", "load", ROOT / "notify" / "directory.yaml", "--db", db)[0] == 0
    code, out, _ = run(capsys, "duty", "open", "--unit", "chengguan", "--at", "2026-09-14 09:00", "--db", db, "--now", "2026-09-14 09:00")
    assert code == 0 and "已开始 1 个单位" in out
    code, out, _ = run(capsys, "duty", "done", "--unit", "chengguan", "--duty", "周研判", "--at", "2026-09-18 10:00", "--db", db, "--now", "2026-09-18 10:00")
    assert code == 0 and "已记录：城关派出所 周研判" in out
    again = run(
        capsys,
        "duty",
        "done",
        "--unit",
        "chengguan",
        "--duty",
        "campaign.duty.weekly_review",
        "--at",
        "2026-09-18 10:00",
        "--db",
        db,
        "--now",
        "2026-09-18 10:05",
    )
    assert again[0] == 0 and "此前已记录" in again[1]  # the same record twice changes nothing
    code, out, _ = run(capsys, "duty", "list", "--unit", "chengguan", "--db", db, "--now", "2026-10-08 19:00", "--json")
    weekly = [p for p in json.loads(out) if p["duty"] == "周研判"]
    # The clocks were last replayed at 09-18 10:05 (the record): only W38, met. Later periods open when a scan (or a
    # recompute) passes their start.
    assert [(p["period"], p["due"], p["state"]) for p in weekly] == [("2026-W38", "2026-09-18 18:00", "met")]
    assert run(capsys, "recompute", "--db", db, "--now", "2026-10-08 19:00")[0] == 0
    code, out, _ = run(capsys, "duty", "list", "--unit", "chengguan", "--db", db, "--now", "2026-10-08 19:00", "--json")
    weekly = [p for p in json.loads(out) if p["duty"] == "周研判"]
    # W39: Friday 09-25 is 中秋 and the weekend too → Monday 09-28 18:00; W40: Friday 10-02 in 国庆 → Thursday 10-08
    # 18:00; W41 (from 10-05) due Friday 10-09 18:00. Nothing recorded for W39 and W40: overdue at 10-08 19:00.
    assert [(p["period"], p["due"], p["state"]) for p in weekly] == [
        ("2026-W38", "2026-09-18 18:00", "met"),
        ("2026-W39", "2026-09-28 18:00", "overdue"),
        ("2026-W40", "2026-10-08 18:00", "overdue"),
        ("2026-W41", "2026-10-09 18:00", "running"),
    ]
    code, out, _ = run(capsys, "duty", "list", "--unit", "chengguan", "--db", db, "--now", "2026-10-08 19:00")
    assert code == 0 and out.count("超期未做") >= 2 and "2026-W40" in out
    code, out, _ = run(
        capsys, "report", "--from", "2026-09-01", "--to", "2026-10-31", "--ledger", "duties", "--unit", "chengguan", "--db", db, "--now", "2026-10-08 19:00"
    )
    assert code == 0 and "常态化工作台账：城关派出所" in out and "周研判" in out


def test_wrong_input_is_one_chinese_line(capsys, db):  # noqa: F811
    assert run(capsys, "directory", "load", ROOT / "notify" / "directory.yaml", "--db", db)[0] == 0
    code, _, err = run(capsys, "duty", "done", "--unit", "chengguan", "--duty", "周研判", "--db", db)
    assert code == 2 and "尚未开始计时" in err and "qixian duty open --unit chengguan" in err
    run(capsys, "duty", "open", "--unit", "chengguan", "--db", db)
    code, _, err = run(capsys, "duty", "done", "--unit", "chengguan", "--duty", "周会", "--db", db)
    assert code == 2 and "没有常态化工作 '周会'" in err and "周研判（campaign.duty.weekly_review）" in err
    code, _, err = run(capsys, "duty", "open", "--unit", "nowhere", "--db", db)
    assert code == 2 and "名录中没有单位 nowhere" in err
    code, _, err = run(capsys, "duty", "done", "--unit", "chengguan", "--duty", "周研判", "--at", "昨天", "--db", db)
    assert code == 2 and "无法识别的时间" in err
