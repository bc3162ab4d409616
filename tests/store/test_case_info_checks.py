"""What a feed says about its cases is checked at ingest: a case kind outside the settings' case_kinds is
quarantined with the kind it was probably meant to be; a unit or handler the directory does not know is taken,
counted and listed in the ingest summary (its reminders would reach nobody until the directory has them)."""

import json

from qixian.casework.directory import read_directory
from qixian.casework.feeds import ingest_path
from qixian.cli import main
from qixian.legaltime.localtime import parse_local
from tests.paths import ROOT, RULES

NOW = parse_local("2025-09-29 16:00")
DIRECTORY = ROOT / "notify" / "directory.yaml"


def line(ident: str, case: str, **info) -> str:
    return json.dumps({"id": ident, "case": case, "type": "case_accepted", "at": "2025-09-29 10:00", "case_info": info}, ensure_ascii=False)


def feed(tmp_path, *lines: str):
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_misspelt_kind_is_quarantined_with_the_kind_it_was_meant_to_be(store, pack, tmp_path):
    store.replace_directory(read_directory(DIRECTORY))
    path = feed(
        tmp_path,
        line("k-1", "（2025）城关刑字第0101号", kind="crimnal", unit="chengguan", handler="officer-1"),
        line("k-2", "（2025）城关刑字第0102号", kind="criminal", unit="chengguan", handler="officer-1"),
        line("k-3", "（2025）城关刑字第0103号", kind="theft", unit="chengguan", handler="officer-1"),
    )
    report = ingest_path(store, pack, path, source="case-system", now=NOW)
    assert (report.accepted, report.quarantined) == (1, 2)
    reasons = {r.line: r.reason for r in store.quarantined()}
    assert "是否应为 criminal（刑事案件）？" in reasons[1]
    assert "应为 criminal（刑事案件）、administrative（行政（治安）案件）、incident（警情）、clue（线索）、duty（常态化工作） 之一" in reasons[3]
    assert store.case("（2025）城关刑字第0101号") is None


def test_a_unit_or_handler_outside_the_directory_is_taken_with_a_warning(store, pack, tmp_path):
    store.replace_directory(read_directory(DIRECTORY))
    case = "（2025）城关刑字第0104号"
    path = feed(
        tmp_path,
        line("w-1", case, kind="criminal", unit="chenguan", handler="officer-404"),
        json.dumps(
            {"id": "w-2", "case": case, "type": "receipt_issued", "at": "2025-09-29 10:05", "case_info": {"unit": "chenguan", "handler": "officer-404"}},
            ensure_ascii=False,
        ),
        line("w-3", "（2025）城关刑字第0105号", kind="criminal", unit="chengguan", handler="officer-1"),
    )
    report = ingest_path(store, pack, path, source="case-system", now=NOW)
    assert (report.accepted, report.quarantined, report.warned) == (3, 0, 2)  # once per case, not per line
    assert any("案件 （2025）城关刑字第0104号 的单位 'chenguan' 不在名录中" in w for w in report.warnings)
    assert any("的主办民警 'officer-404' 不在名录中" in w and w.startswith("第 1 行") for w in report.warnings)
    assert store.case(case) is not None


def test_nothing_is_said_of_people_while_the_directory_is_empty(store, pack, tmp_path):
    path = feed(tmp_path, line("e-1", "（2025）城关刑字第0106号", kind="criminal", unit="nowhere", handler="nobody"))
    report = ingest_path(store, pack, path, source="case-system", now=NOW)
    assert (report.accepted, report.warned) == (1, 0)


def test_the_ingest_command_reads_gb18030_and_lists_the_warnings(db_url, tmp_path, capsys):
    assert main(["directory", "load", str(DIRECTORY), "--db", db_url]) == 0
    path = tmp_path / "export.jsonl"
    path.write_bytes((line("g-1", "（2025）城关刑字第0107号", kind="criminal", unit="chengguan", handler="officer-77") + "\n").encode("gb18030"))
    common = ["--db", db_url, "--rules", str(RULES), "--now", "2025-09-29 16:00"]
    assert main(["ingest", str(path), *common, "--encoding", "gb18030"]) == 0
    out = capsys.readouterr().out
    assert "已采用、但需核对：1 条" in out and "officer-77" in out
    assert main(["ingest", str(path), *common, "--encoding", "klingon"]) == 2
    assert "不是可识别的编码" in capsys.readouterr().err
