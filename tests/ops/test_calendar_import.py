"""`qixian calendar import` as legal-affairs staff use it: the shipped pack rebuilt year by year from its notices,
a notice with a mistake writing nothing, and a new year moving only the dues whose days it changes.

tests/data/notice-2027-FICTIONAL-test-fixture.txt is a made-up notice in the real phrasing, NOT the 2027
arrangement: no notice for 2027 was available when this was written."""

import json
import shutil
from datetime import date, timedelta

import pytest

from qixian.casework.feeds import ingest_path
from qixian.cli import main
from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.localtime import parse_local
from qixian.legaltime.yamlsource import read_yaml
from qixian.rulebook import load_pack
from tests.paths import ROOT, RULES

FICTIONAL_2027 = ROOT / "tests" / "data" / "notice-2027-FICTIONAL-test-fixture.txt"


@pytest.fixture
def folder(tmp_path):
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy)
    return copy


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_shipped_calendar_rebuilt_notice_by_notice_is_the_same_day_for_day(tmp_path, capsys):
    rebuilt = tmp_path / "calendar"
    rebuilt.mkdir()
    for path in sorted((RULES / "calendar").glob("*.yaml")):
        shipped = read_yaml(path)
        title, _, url = shipped["source"].partition(" ")
        notice = tmp_path / f"{path.stem}.txt"
        notice.write_text(f"{title}\n{shipped['notice']}", encoding="utf-8")
        code, _out, err = run(capsys, "calendar", "import", str(notice), "--output", str(rebuilt / path.name), "--url", url)
        assert code == 0, err
        assert read_yaml(rebuilt / path.name)["source"] == shipped["source"]
    ours, theirs = LegalCalendar.load(rebuilt), LegalCalendar.load(RULES / "calendar")
    day = date(2004, 1, 1)
    while day <= date(2026, 12, 31):
        assert ours.status(day) == theirs.status(day), day
        day += timedelta(days=1)


def test_a_notice_is_imported_into_the_pack_and_says_what_to_do_next(folder, capsys):
    code, out, _ = run(capsys, "calendar", "import", str(FICTIONAL_2027), "--rules", str(folder))
    assert code == 0
    assert "已写入" in out and "qixian rules check rules" in out and "recompute --dry-run" in out and "rules rollout" in out
    calendar = LegalCalendar.load(folder / "calendar")
    assert calendar.years[-1] == 2027
    assert [str(calendar.status(date(2027, 2, d))) for d in (5, 13, 14)] == [
        "2027-02-05（星期五，春节）",
        "2027-02-13（星期六，星期六）",
        "2027-02-14（星期日，调休上班（春节））",
    ]
    assert main(["rules", "check", str(folder)]) == 0
    code, _, err = run(capsys, "calendar", "import", str(FICTIONAL_2027), "--rules", str(folder))
    assert code == 2 and "已存在" in err and "--replace" in err
    assert run(capsys, "calendar", "import", str(FICTIONAL_2027), "--rules", str(folder), "--replace")[0] == 0


def test_a_notice_with_a_mistake_writes_nothing_and_names_the_line(folder, tmp_path, capsys):
    wrong = tmp_path / "notice.txt"
    wrong.write_text(FICTIONAL_2027.read_text(encoding="utf-8").replace("5月1日（周六）", "5月1日（周五）"), encoding="gb18030")
    code, _, err = run(capsys, "calendar", "import", str(wrong), "--rules", str(folder))
    assert code == 1 and "通知第 8 行：5月1日写明星期五，而 2027-05-01 是星期六" in err and "未写入任何文件" in err
    assert not (folder / "calendar" / "2027.yaml").exists()
    assert not list((folder / "calendar").glob(".*"))


def test_a_day_another_year_file_already_defines_is_refused(folder, tmp_path, capsys):
    early = tmp_path / "notice.txt"
    early.write_text("国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：12月31日（周四）至1月3日（周日）放假调休，共4天。\n", encoding="utf-8")
    year_2026 = folder / "calendar" / "2026.yaml"  # as if someone had given 2026's file the day by hand
    year_2026.write_text(year_2026.read_text(encoding="utf-8").replace("workdays:", "  - {name: 元旦, date: 2026-12-31}\nworkdays:", 1), encoding="utf-8")
    code, _, err = run(capsys, "calendar", "import", str(early), "--rules", str(folder))
    assert code == 1 and "2026-12-31（元旦）已在" in err and "2026.yaml" in err
    assert not (folder / "calendar" / "2027.yaml").exists()


def test_the_output_must_be_named_for_the_notices_year(folder, capsys):
    code, _, err = run(capsys, "calendar", "import", str(FICTIONAL_2027), "--output", str(folder / "calendar" / "2028.yaml"))
    assert code == 2 and "应为 2027.yaml" in err


EVENTS = [  # case, rule's event, when; the comment gives the due with 2027 unknown → with the fictional notice
    ("K-A", "case_accepted", "2026-12-01 10:00"),  # 3日: 12-04 → 12-04 (2026, untouched)
    ("K-B", "case_accepted", "2027-02-05 09:00"),  # 3日: 02-08 → 春节 → 02-14 (Sunday worked) 24:00
    ("K-C", "case_accepted", "2027-02-14 09:00"),  # 3日: 02-17, a plain Wednesday either way
    ("K-D", "case_accepted", "2027-03-08 09:00"),  # 3日: 03-11 either way
    ("K-E", "hearing_rights_notified", "2027-02-03 10:00"),  # 5 workdays: 02-10 → across 春节 → 02-17
    ("K-F", "hearing_rights_notified", "2027-03-01 10:00"),  # 5 workdays: 03-08 either way
    ("K-G", "hearing_rights_notified", "2027-04-22 10:00"),  # 5 workdays: 04-29 → 04-25 worked → 04-28
]


def test_a_new_year_moves_only_the_dues_its_dates_touch(folder, store, db_url, tmp_path, capsys, monkeypatch):
    from qixian.cli._output import console

    monkeypatch.setattr(console, "width", 160)  # the table of moved dues on one line each
    events = tmp_path / "events.jsonl"
    with events.open("w", encoding="utf-8") as out:
        for number, (case, kind, at) in enumerate(EVENTS):
            record = {
                "id": f"e-{number}",
                "case": case,
                "type": kind,
                "at": at,
                "case_info": {
                    "kind": "criminal" if kind == "case_accepted" else "administrative",
                    "title": "测试",
                    "unit": "chengguan",
                    "handler": "officer-1",
                },
            }
            if kind == "hearing_rights_notified":
                record["person"] = "P1"
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    ingest_path(store, load_pack(folder), events, source="case-system", now=parse_local("2027-05-01 09:00"))
    before = {(c.case_id, c.rule_id): c.due_display for c in store.clocks()}
    assert {case for case, _ in before} == {case for case, _, _ in EVENTS}

    assert run(capsys, "calendar", "import", str(FICTIONAL_2027), "--rules", str(folder))[0] == 0
    code, out, _ = run(capsys, "recompute", "--dry-run", "--db", db_url, "--rules", str(folder), "--now", "2027-05-01 09:00")
    assert code == 0 and "期满时间变化（3 个计时）：未写入" in out
    moved = {case for case, _, _ in EVENTS if case in out}
    assert moved == {"K-B", "K-E", "K-G"}
    for old, new in (("2027-02-08 24:00", "2027-02-14 24:00"), ("2027-02-10 24:00", "2027-02-17 24:00"), ("2027-04-29 24:00", "2027-04-28 24:00")):
        assert any(old in line and new in line for line in out.splitlines()), (old, new)
    assert {(c.case_id, c.rule_id): c.due_display for c in store.clocks()} == before  # a dry run writes nothing
