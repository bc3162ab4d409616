"""`qixian deadline` as a user runs it: the installed console script, its output, its exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qixian.cli import main

QIXIAN = Path(sys.executable).with_name("qixian")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys, *args):
    code, out, err = run(capsys, "deadline", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_issue_example_in_json(capsys):
    data = as_json(capsys, "--from", "2025-09-29 15:40", "--limit", "3 days", "--custody")
    assert data["due"] == "2025-10-03T00:00:00+08:00"
    assert data["due_display"] == "2025-10-02 24:00"
    assert data["provisional"] is False
    assert len(data["explanation"]) >= 3 and any("国庆节" in s for s in data["explanation"])


@pytest.mark.parametrize(
    "args, due",
    [
        (["--from", "2025-09-29 15:40", "--limit", "3 days"], "2025-10-09 24:00"),  # rolled
        (["--from", "2025-09-30 22:10", "--limit", "24小时"], "2025-10-01 22:10"),  # hours
        (["--from", "2026-01-31 16:00", "--limit", "2个月", "--custody"], "2026-03-31 24:00"),  # months
        (["--from", "2026-09-28 10:00", "--limit", "10个工作日"], "2026-10-16 24:00"),  # workdays
        (["--from", "2025-09-29 15:40", "--limit", "3日", "--custody", "--extend", "4 days"], "2025-10-06 24:00"),
        (["--from", "2025-09-29 15:40", "--limit", "3日", "--custody", "--extend", "to 30 days"], "2025-10-29 24:00"),
        (
            [
                "--from",
                "2025-09-29 15:40",
                "--limit",
                "3日",
                "--custody",
                "--extend",
                "+4日 @ 2025-10-01 09:00",
                "--pause",
                "2025-10-03 10:00..2025-10-05 09:00",
            ],
            "2025-10-08 24:00",
        ),
        (["--from", "2026-03-02 10:00", "--limit", "8小时", "--pause", "2026-03-02 11:00..2026-03-02 12:30"], "2026-03-02 19:30"),
        (["--from", "2026-03-02 10:00", "--limit", "2个月", "--custody", "--restart", "2026-04-25 15:00"], "2026-06-25 24:00"),
        (["--from", "2025-09-29T07:40:00Z", "--limit", "24 hours"], "2025-09-30 15:40"),
    ],
)
def test_answers_for_each_unit_and_history(capsys, args, due):
    assert as_json(capsys, *args)["due_display"] == due


def test_an_open_pause_has_no_due(capsys):
    data = as_json(capsys, "--from", "2026-03-02 10:00", "--limit", "24小时", "--pause", "2026-03-02 16:30..")
    assert data["paused"] is True and data["due"] is None


def test_a_2027_date_is_flagged_provisional(capsys):
    data = as_json(capsys, "--from", "2027-03-01 10:00", "--limit", "3日")
    assert data["provisional"] is True and data["missing_years"] == [2027]
    assert any("rules/calendar/2027.yaml" in s for s in data["explanation"])
    assert as_json(capsys, "--from", "2027-03-01 10:00", "--limit", "3日", "--custody")["provisional"] is False


def test_text_output_shows_the_due_and_numbered_steps(capsys):
    code, out, _ = run(capsys, "deadline", "--from", "2025-09-29 15:40", "--limit", "3日", "--custody")
    assert code == 0
    assert "期满：2025-10-02 24:00" in out
    assert "  1. 起算" in out and "不得因节假日而延长" in out


def test_text_output_marks_provisional(capsys):
    code, out, _ = run(capsys, "deadline", "--from", "2027-03-01 10:00", "--limit", "3日")
    assert code == 0 and "临时结果" in out


@pytest.mark.parametrize(
    "args, words",
    [
        (["--from", "2025-09-29 15:40", "--limit", "3 weeks"], "weeks"),
        (["--from", "yesterday", "--limit", "3日"], "yesterday"),
        (["--from", "2025-09-29 15:40"], "--limit"),
        (["--from", "2025-09-29 15:40", "--limit", "3日", "--pause", "2025-10-01"], "开始..恢复"),
        (["--from", "2025-09-29 15:40", "--limit", "3日", "--extend", "24小时"], "计算单位不一致"),
        (["--from", "2025-09-29 15:40", "--limit", "3日", "--custdy"], "--custdy"),
        (["--from", "2025-09-29 15:40", "--limit", "3日", "--rules", "/nonexistent"], "/nonexistent"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, args, words):
    code, out, err = run(capsys, "deadline", *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and words in err, err


def test_the_installed_command_behaves_the_same():
    ok = subprocess.run([QIXIAN, "deadline", "--from", "2025-09-29 15:40", "--limit", "3日", "--custody", "--json"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and json.loads(ok.stdout)["due_display"] == "2025-10-02 24:00"
    bad = subprocess.run([QIXIAN, "deadline", "--from", "2025-09-29 15:40", "--limit", "3 weeks"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_help_explains_every_option_with_an_example(capsys):
    code, out, _ = run(capsys, "deadline", "--help")
    assert code == 0
    for option in ("--from", "--limit", "--custody", "--extend", "--pause", "--restart", "--json", "--rules"):
        assert option in out
    assert "示例：" in out


def test_demo_tours_the_core(capsys):
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "2025-10-02 24:00" in out and "2025-10-09 24:00" in out and "临时" in out


def test_a_duty_due_before_a_moment(capsys):
    """在举行听证的七日前: 03-16 not counted, 03-09 … 03-15 must pass whole; 03-08 is a Sunday, back to Friday 03-06."""
    data = as_json(capsys, "--from", "2026-03-02 10:00", "--before", "2026-03-16 09:00", "--limit", "7日")
    assert data["due_display"] == "2026-03-06 24:00"
    assert any("提前至其前最后一个工作日" in step for step in data["explanation"])
    code, _, err = run(capsys, "deadline", "--from", "2026-03-02 10:00", "--before", "2026-03-16 09:00", "--limit", "7日", "--pause", "2026-03-03 10:00..")
    assert code != 0 and "不能与" in err
