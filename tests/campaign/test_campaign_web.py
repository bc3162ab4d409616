"""The dashboard's 专项工作 page and the ledgers in reports, served for real (uvicorn, as tests/web does): each role
sees the clues, listed cases and duties of its own cases and units, as it sees cases; a leader records a duty done;
a case page shows its listing; hostile text is escaped and never a formula; the counts per unit match a count made
here independently from the stored events and clocks."""

import csv
import io
import json
import re
from datetime import UTC

import pytest
from sqlalchemy import delete, select
from sqlmodel import col

from qixian.casework import campaign
from qixian.casework.feeds import ingest_path
from qixian.cli import main
from qixian.legaltime.localtime import parse_local
from qixian.store.tables import CaseRow, ClockRow, EventRow
from qixian.supervision import ledgers
from qixian.supervision.reports import Scope, day_start
from qixian.supervision.reportviews import BASIS_NOTE
from tests.fixtures.dashboard import THEFT, cases_on, csrf_of, serving

CLUE_CG = "（2025）线索第0001号"  # chengguan, handler officer-1, 群众举报, running
CLUE_JD = "（2025）线索第0002号"  # jiaodong, handler officer-5, 110报警, overdue
HOSTILE = '=HYPERLINK("http://x")<script>alert(1)</script>'
SEES = {"officer-1": {CLUE_CG, THEFT}, "officer-9": {CLUE_CG, THEFT}, "officer-5": {CLUE_JD}, "officer-6": {CLUE_JD}, "officer-7": {CLUE_CG, CLUE_JD, THEFT}}
DUTY_UNITS = {"officer-1": set(), "officer-9": {"城关派出所"}, "officer-5": set(), "officer-6": {"胶东派出所"}, "officer-7": {"城关派出所", "胶东派出所"}}
PERIOD = "from=2025-09-01&to=2025-10-31"


@pytest.fixture
def campaign_world(world, store, pack, tmp_path):
    lines = [
        {
            "id": "w1",
            "case": CLUE_CG,
            "type": "clue_assigned",
            "at": "2025-09-20 09:00",
            "data": {"assignee": "chengguan", "officer": "officer-1"},
            "case_info": {"kind": "clue", "source": "群众举报", "unit": "chengguan", "handler": "officer-1", "title": HOSTILE},
        },
        {
            "id": "w2",
            "case": CLUE_JD,
            "type": "clue_assigned",
            "at": "2025-09-01 09:00",
            "data": {"assignee": "jiaodong", "officer": "officer-5"},
            "case_info": {"kind": "clue", "source": "110报警", "unit": "jiaodong", "handler": "officer-5", "title": "码头线索"},
        },
        {
            "id": "w3",
            "case": THEFT,
            "type": "case_listed",
            "at": "2025-09-01 10:00",
            "data": {"level": "市", "leader": "officer-9", "contact": "officer-7", "report_every": "15日", "solve_by": "2025-12-31 24:00"},
        },
        {"id": "w4", "case": THEFT, "type": "listing_report_filed", "at": "2025-09-10 10:00"},
    ]
    path = tmp_path / "campaign.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    assert ingest_path(store, pack, path, source="case-system", now=parse_local("2025-10-06 10:00")).quarantined == 0
    now = parse_local("2025-10-06 10:00")
    campaign.open_duties(store, pack, ["chengguan", "jiaodong"], parse_local("2025-09-22 09:00"), now)
    campaign.record_duty(store, pack, "chengguan", "周研判", parse_local("2025-09-26 10:00"), now)
    return world


@pytest.fixture
def dashboard(campaign_world, store, pack):
    with serving(store, pack, campaign_world) as served:
        yield served


def test_each_role_sees_the_campaign_work_of_its_cases_and_units(dashboard):
    for officer, expected in SEES.items():
        page = dashboard.login(officer).get(f"/campaign?{PERIOD}")
        assert page.status_code == 200
        assert cases_on(page.text) == expected, officer
        duty_rows = set(re.findall(r"<tr[^>]*><td>(城关派出所|胶东派出所)</td><td[^>]*>(?:日梳理|周研判|月会商)", page.text))
        assert duty_rows == DUTY_UNITS[officer], officer
    legal = dashboard.login("officer-7").get(f"/campaign?{PERIOD}").text
    assert "<script>alert(1)" not in legal and "&lt;script&gt;alert(1)&lt;/script&gt;" in legal
    overdue_row = re.search(r'<tr class="red"><td><a href="/case\?id=[^"]+">（2025）线索第0002号', legal)
    assert overdue_row, "the overdue clue is not shown in red"
    assert "工作规范" in legal and "不是法律规定" in legal


def test_a_leader_records_a_duty_on_the_dashboard_and_an_officer_cannot(dashboard):
    leader = dashboard.login("officer-6")
    page = leader.get(f"/campaign?{PERIOD}")
    done = leader.post("/campaign/duty", data={"csrf": csrf_of(page.text), "unit": "jiaodong", "duty": "周研判", "at": "2025-09-26 15:00"})
    assert done.status_code == 303
    shown = leader.get(done.headers["location"]).text
    assert "已记录：胶东派出所 周研判" in shown
    weekly = [c for c in dashboard.store.clocks(case=campaign.duty_matter("jiaodong")) if c.rule_id == "campaign.duty.weekly_review"]
    assert weekly[0].outcome == "met" and weekly[0].due_display == "2025-09-26 18:00"
    officer = dashboard.login("officer-5")
    page = officer.get(f"/campaign?{PERIOD}")
    refused = officer.post("/campaign/duty", data={"csrf": csrf_of(page.text), "unit": "jiaodong", "duty": "周研判"})
    assert refused.status_code == 403
    other = leader.post("/campaign/duty", data={"csrf": csrf_of(page.text), "unit": "chengguan", "duty": "周研判"})
    assert other.status_code in (403, 400)


def test_the_case_page_shows_the_listing_level_and_leaders(dashboard):
    page = dashboard.login("officer-9").get("/case", params={"id": THEFT}).text
    assert "市局挂牌督办" in page and "责任领导 周国平" in page and "督办联系人 郑洁" in page and "限期破案 2025-12-31 24:00" in page
    assert "挂牌督办进展报告（本单位规定）" in page and "挂牌督办限期破案（本单位规定）" in page
    clue = dashboard.login("officer-1").get("/case", params={"id": CLUE_CG}).text
    assert "线索核查（专项工作要求）（城关派出所）" in clue  # the assignee by name, not its id


def test_the_report_counts_campaign_work_per_unit_as_counted_independently(dashboard, tmp_path):
    store, pack = dashboard.store, dashboard.pack
    now = parse_local("2025-10-07 02:30")
    start, end = day_start(parse_local("2025-09-01 00:00").date()), day_start(parse_local("2025-11-01 00:00").date())
    found = ledgers.build(store, pack, start, end, now, ledgers.narrow_to(Scope()), "全局")
    counted = {c.unit_name: c for c in found.counts()}
    # Independent count: straight from the stored rows, by the case's unit.
    with store.session() as session:
        cases = {c.id: c for c in session.execute(select(CaseRow)).scalars()}
        clocks = list(session.execute(select(ClockRow)).scalars())
        listed = {e.case_id for e in session.execute(select(EventRow).where(EventRow.type == "case_listed")).scalars()}
    names = {"chengguan": "城关派出所", "jiaodong": "胶东派出所"}
    for unit, name in names.items():
        clues = [c for c in cases.values() if c.kind == "clue" and c.unit == unit]
        overdue_clues = [c for c in clues if any(k.case_id == c.id and k.open and k.due_at and _utc(k.due_at) <= now for k in clocks)]
        duty = [k for k in clocks if k.case_id == campaign.duty_matter(unit) and start <= _utc(k.due_at) < end]
        assert counted[name].clues == len(clues)
        assert counted[name].clues_overdue == len(overdue_clues)
        assert counted[name].listed == len({c for c in listed if cases[c].unit == unit})
        assert counted[name].duty_periods == len(duty)
        assert counted[name].duties_done == sum(1 for k in duty if k.outcome in ("met", "met_late"))
        assert counted[name].duties_missed == sum(1 for k in duty if k.open and _utc(k.due_at) <= now)
    # Both clues are overdue at 10-07 02:30: 码头线索 (110报警, 09-01 + 15 days = 09-16 24:00, not verified) and the
    # 群众举报 clue's 举报人见面询问 (09-20 + 7 days = 09-27, a Saturday → 09-28, the make-up working Sunday, 24:00).
    assert counted["胶东派出所"].clues_overdue == 1 and counted["城关派出所"].clues_overdue == 1
    # The same counts in the CSV `qixian report --ledger` writes; the hostile title is text, never a formula.
    out = tmp_path / "clues.csv"
    assert main([*report_args(store), "--ledger", "clues", "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff"))))
    titles = {row[0]: row[1] for row in rows[1:]}
    assert titles[CLUE_CG] == "'" + HOSTILE
    html = tmp_path / "ledgers.html"
    assert main([*report_args(store), "--ledger", "counts", "--format", "html", "--output", str(html)]) == 0
    assert "<script>alert" not in html.read_text(encoding="utf-8")


def report_args(store) -> list[str]:
    """`qixian report` on this store over September and October 2025, read at the dashboard's moment."""
    db = store.engine.url.render_as_string(hide_password=False)
    return ["report", "--from", "2025-09-01", "--to", "2025-10-31", "--db", db, "--now", "2025-10-07 02:30"]


def _utc(at):
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def test_reports_keep_statutory_limits_apart_from_working_standards(dashboard, tmp_path, capsys):
    """A supervisor sees at a glance which late work broke a statutory limit and which a working standard: in the
    report's JSON, terminal table, CSV and HTML, with the counts made here from the stored clocks (every rule of
    rules/campaign.yaml is a working standard, every other shipped rule a statute)."""
    store = dashboard.store
    start, end, now = parse_local("2025-09-01 00:00"), parse_local("2025-11-01 00:00"), parse_local("2025-10-07 02:30")
    want = {"statute": {"met_late": 0, "overdue": 0, "assessed": 0}, "working_standard": {"met_late": 0, "overdue": 0, "assessed": 0}}
    with store.session() as session:
        for clock in session.execute(select(ClockRow)).scalars():
            if clock.due_at is None or not start <= _utc(clock.due_at) < end or clock.outcome in ("cancelled", "restarted"):
                continue
            counts = want["working_standard" if clock.rule_id.startswith("campaign.") else "statute"]
            late = clock.outcome == "met_late"
            overdue = clock.outcome is None and _utc(clock.due_at) <= now
            counts["met_late"] += late
            counts["overdue"] += overdue
            counts["assessed"] += late or overdue or clock.outcome == "met"
    assert want["statute"]["assessed"] and want["working_standard"]["overdue"]  # the world has late work of both kinds
    args = report_args(store)
    capsys.readouterr()
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    got = {row["key"]: {k: row[k] for k in ("met_late", "overdue", "assessed")} for row in data["by_basis"]}
    assert got == want
    assert [row["label"] for row in data["by_basis"]] == ["法定期限", "工作规范（非法定）"]  # law first
    assert main(args) == 0
    shown = capsys.readouterr().out
    for key, label in (("statute", "法定期限"), ("working_standard", "工作规范（非法定）")):
        line = f"{label}：应办结 {want[key]['assessed']}，超期完成 {want[key]['met_late']}，当前超期 {want[key]['overdue']}"
        assert line in shown
    assert shown.index("法定期限：") < shown.index("按提醒类型")  # above the tables, at a glance
    assert main([*args, "--format", "csv", "--output", str(tmp_path / "r.csv")]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    basis = {row[1]: row for row in rows if row[0].startswith("按依据")}
    assert {key: int(row[6]) for key, row in basis.items()} == {k: v["overdue"] for k, v in want.items()}
    assert main([*args, "--format", "html", "--output", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'class="cards basis"' in html and "不是法律规定，超期不等于违法" in html
    page = dashboard.login("officer-7").get("/reports", params={"from": "2025-09-01", "to": "2025-10-31"}).text
    assert "工作规范（非法定）" in page and "法定期限" in page


def test_the_note_telling_law_from_working_standards_shows_only_when_both_occur(dashboard, tmp_path, capsys):
    """With only statutory clocks in the store (the campaign's removed), the report has its 法定期限 line and no note
    comparing it with working standards, in the terminal and in HTML."""
    store = dashboard.store
    args = report_args(store)
    capsys.readouterr()
    assert main(args) == 0
    assert BASIS_NOTE in "".join(capsys.readouterr().out.split())  # both bases: the note (wrapped at 80 columns)
    with store.session() as session:
        session.execute(delete(ClockRow).where(col(ClockRow.rule_id).startswith("campaign.")))
        session.commit()
    assert main(args) == 0
    shown = "".join(capsys.readouterr().out.split())
    assert "法定期限：应办结" in shown and "工作规范（非法定）" not in shown and BASIS_NOTE not in shown
    assert main([*args, "--format", "html", "--output", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "法定期限" in html and BASIS_NOTE not in html
