"""What a person reads when a command cannot do what was asked, byte for byte: usage errors, bad values, bad times,
a store that is missing or cannot be reached, JSON and YAML syntax errors, and a help page, kept as golden files in
tests/cli/golden/ (each the exit status, then stdout and stderr, with the test's temporary folder written <tmp>).
After a deliberate change of wording, regenerate them with

    QIXIAN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/cli/test_messages.py

and read every changed file before committing it. The rest checks what every message must be: Chinese, one line,
exit status 2, and tables that keep their short words whole at 80 columns."""

import json
import os
import re
from pathlib import Path

import pytest

from qixian.cli import main
from qixian.supervision.clockview import STATES
from tests.paths import ROOT

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("QIXIAN_UPDATE_GOLDEN") == "1"
NOW = "2025-10-09 09:00"
CLOSED_PORT = "postgresql://postgres@127.0.0.1:5499/qixian"  # nothing listens there

# (golden file, command line); {db} is a migrated SQLite store, {tmp} the test's folder
USAGE = {
    "missing-option": ["ack", "42", "--db", "{db}"],
    "missing-argument": ["ack", "--officer", "officer-1"],
    "not-an-integer": ["ack", "abc", "--officer", "officer-1"],
    "below-minimum": ["health", "--interval", "0"],
    "unknown-option": ["clocks", "--cas", "x"],
    "unknown-command": ["clock"],
    "extra-argument": ["clocks", "x"],
    "option-without-value": ["clocks", "--now"],
    "time-not-a-time": ["clocks", "--db", "{db}", "--now", "yesterday"],
    "time-hour-25": ["clocks", "--db", "{db}", "--now", "2025-10-09 25:00"],
    "time-no-such-day": ["clocks", "--db", "{db}", "--due-before", "2025-02-30"],
    "db-not-a-url": ["clocks", "--db", "{tmp}/no/such/dir/x.db"],
    "db-unsupported": ["clocks", "--db", "mysql://qixian@127.0.0.1/qixian"],
    "db-unreachable": ["clocks", "--db", CLOSED_PORT],
    "db-missing-file": ["clocks", "--db", "sqlite:///{tmp}/none/qixian.db"],
    "db-upgrade-unreachable": ["db", "upgrade", "--db", CLOSED_PORT],
}


def run(capsys, tmp_path, *args, db=""):
    code = main([str(a).format(db=db, tmp=tmp_path) for a in args])
    out, err = capsys.readouterr()
    return code, out.replace(str(tmp_path), "<tmp>"), err.replace(str(tmp_path), "<tmp>")


def golden(name: str, code: int, out: str, err: str) -> None:
    text = f"exit {code}\n--- stdout\n{out}--- stderr\n{err}"
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs; after a deliberate change: QIXIAN_UPDATE_GOLDEN=1"


def framework_english(text: str) -> list[str]:
    """Sentences of click, typer, pydantic, datetime or the JSON/YAML parsers that reached the person."""
    return re.findall(
        r"Missing|Invalid|No such|Usage|Options|Arguments|Error|Show this|Try '|Input should|isoformat|"
        r"must be in|Expecting|found character|found a tab|delimiter|Traceback|not one of",
        text,
    )


@pytest.mark.parametrize("name", USAGE)
def test_a_bad_command_line_is_one_chinese_line_and_exit_2(capsys, tmp_path, db, name):
    code, out, err = run(capsys, tmp_path, *USAGE[name], db=db)
    golden(name, code, out, err)
    assert code == 2 and out == ""
    assert err.startswith("错误：") and len(err.strip().splitlines()) == 1, err
    assert not framework_english(err), err


def test_a_failed_first_query_leaves_nothing_behind(capsys, tmp_path):
    assert run(capsys, tmp_path, "clocks", "--db", "sqlite:///{tmp}/none/qixian.db")[0] == 2
    assert run(capsys, tmp_path, "clocks", "--db", "{tmp}/no/such/dir/x.db")[0] == 2
    assert run(capsys, tmp_path, "db", "upgrade", "--db", "sqlite:///{tmp}/not-a-db.db")[0] == 0  # made on purpose
    (tmp_path / "text.db").write_text("这不是数据库\n" * 100, encoding="utf-8")
    code, _, err = run(capsys, tmp_path, "clocks", "--db", "sqlite:///{tmp}/text.db")
    assert code == 2 and "不是 SQLite 数据库" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-db.db", "text.db"]


def test_db_upgrade_says_it_created_the_tables_then_that_they_are_current(capsys, tmp_path):
    from qixian.store.database import head_revision

    head = f"迁移 {head_revision()}"  # the golden files say <head>: they stay as they are when a migration is added
    url = "sqlite:///{tmp}/q.db"
    code, out, err = run(capsys, tmp_path, "db", "upgrade", "--db", url)
    assert head in out
    out = out.replace(head, "迁移 <head>")
    golden("db-upgrade-new", code, out, err)
    assert code == 0 and "已建立案件库的表（迁移 " in out and "已是最新" not in out
    code, out, err = run(capsys, tmp_path, "db", "upgrade", "--db", url)
    assert head in out
    golden("db-upgrade-current", code, out.replace(head, "迁移 <head>"), err)
    assert code == 0 and "案件库已是最新" in out


def test_db_upgrade_from_an_older_migration_names_both(capsys, tmp_path):
    from qixian.store.database import upgrade

    url = f"sqlite:///{tmp_path}/q.db"
    upgrade(url, "0011")
    code, out, _ = run(capsys, tmp_path, "db", "upgrade", "--db", url)
    assert code == 0 and "案件库已从迁移 0011 升级到 " in out


def test_help_is_chinese_to_the_last_line(capsys, tmp_path):
    code, out, err = run(capsys, tmp_path, "ack", "--help")
    golden("help-ack", code, out, err)
    assert code == 0 and "用法：qixian ack [选项]" in out and "显示本帮助并退出" in out and "示例：" in out
    assert not framework_english(out), out
    for command in (["--help"], ["rules", "--help"], ["db", "upgrade", "--help"], ["clocks", "--help"]):
        code, out, _ = run(capsys, tmp_path, *command)
        assert code == 0 and "用法：" in out and not framework_english(out), (command, out)


def test_json_syntax_errors_in_events_are_chinese_with_line_and_column(capsys, tmp_path, db):
    feed = tmp_path / "events.jsonl"
    feed.write_text(
        '{"id": "e-1", "case": "C1" "type": "case_filed", "at": "2025-10-01 09:00"}\n'
        '{"id": "e-2", "case": "C1", "type": "case_filed", "at": "2025-10-01 09:00",}\n'
        '{"id": "e-3", "case": "C1", "type": "case_filed", "at": "2025-10-01 25:00"}\n',
        encoding="utf-8",
    )
    assert run(capsys, tmp_path, "ingest", feed, "--db", db, "--now", NOW)[0] == 0
    code, out, err = run(capsys, tmp_path, "quarantine", "list", "--db", db, "--json")
    reasons = "\n".join(row["reason"] for row in json.loads(out)) + "\n"
    golden("json-syntax-reasons", code, reasons, err)
    assert "JSON 格式错误（第 1 行第 28 列）：缺少逗号" in reasons and "键应写在双引号中" in reasons
    assert "小时应为 0–23" in reasons and not framework_english(reasons), reasons


def test_yaml_syntax_errors_are_chinese_with_line_and_column(capsys, tmp_path, db):
    directory = tmp_path / "directory.yaml"
    directory.write_text("units:\n\t- {id: chengguan, name: 城关派出所}\nofficers: []\n", encoding="utf-8")
    code, out, err = run(capsys, tmp_path, "directory", "load", directory, "--db", db)
    golden("yaml-tab", code, out, err)
    assert code == 1 and "<tmp>/directory.yaml:2:1" in err and "用空格代替 Tab" in err and not framework_english(err)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "settings.yaml").write_text("zone: Asia/Shanghai\nlevels: {notice: {label: 提醒\n", encoding="utf-8")
    code, out, err = run(capsys, tmp_path, "rules", "check", rules)
    assert code != 0 and "<tmp>/rules/settings.yaml:3:1" in out + err and "花括号" in out + err
    assert not framework_english(out + err), out + err


@pytest.fixture
def loaded(capsys, tmp_path, db):
    assert main(["directory", "load", str(ROOT / "notify" / "directory.yaml"), "--db", db]) == 0
    assert main(["ingest", str(ROOT / "examples" / "events.jsonl"), "--db", db, "--now", "2025-10-06 09:00"]) == 0
    capsys.readouterr()
    return db


def test_tables_keep_status_words_and_times_whole_at_80_columns(capsys, tmp_path, loaded):
    clocks = json.loads(run(capsys, tmp_path, "clocks", "--db", loaded, "--now", NOW, "--json")[1])
    code, out, _ = run(capsys, tmp_path, "clocks", "--db", loaded, "--now", NOW)
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    lines = out.splitlines()
    for clock in clocks:  # each state, time left and due time on one line, not split over two
        for token in (STATES[clock["state"]], clock["left"], clock["due_display"]):
            assert not token or any(token in line for line in lines), (token, out)
    assert "已超期" in out
    code, out, _ = run(capsys, tmp_path, "report", "--from", "2025-09-01", "--to", "2025-10-31", "--db", loaded, "--now", NOW)
    for heading in ("应办结", "超期完成", "当前超期", "超期率", "完成用时h", "确认用时m"):
        assert heading in out, (heading, out)
    code, out, _ = run(capsys, tmp_path, "rules", "list", "--rules", ROOT / "rules")
    for heading in ("编号", "名称", "期限", "在押", "分组", "提醒类型", "版本"):
        assert heading in out, (heading, out)
    assert "长期有效" in out and "强制措施" in out
    code, out, _ = run(capsys, tmp_path, "quarantine", "list", "--db", loaded)
    assert all(heading in out for heading in ("序号", "事件编号", "来源", "原始内容", "原因")), out
    code, out, _ = run(capsys, tmp_path, "health", "--db", loaded, "--now", NOW)
    assert "异常" in out or "正常" in out or "注意" in out
    for checked in ("案件库", "计时重算", "停机补发"):
        assert any(checked in line for line in out.splitlines()), out


def test_case_show_names_not_codes(capsys, tmp_path, loaded):
    code, out, _ = run(capsys, tmp_path, "case", "show", "（2025）城关刑字第0001号", "--db", loaded, "--now", NOW)
    assert code == 0
    assert "类别：刑事案件  单位：城关派出所  主办：刘明" in out
    assert "报案方式：上门报案" in out and "天数：4  批准人：县局局长" in out
    for code_word in ("criminal", "chengguan", "officer-1", "{'", "case_registered_online"):
        assert code_word not in out, code_word
