"""Campaign reminders through the real outbox and delivery to a real local HTTP sink: a clue's responsible officer,
escalation to the assigned unit's leaders, a listing's contact, a unit's missed duty. Events go in through the
ingest path; periods open as scans pass the calendar (qixian.campaign.open_new_periods)."""

import json

from sqlalchemy import select

from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.casework import campaign
from qixian.casework.directory import read_directory
from qixian.casework.feeds import ingest_path
from qixian.legaltime.localtime import parse_local
from qixian.store.tables import ClockRow

CLUE = "（2026）线索第0001号"
LISTED = "（2026）城关刑字第0101号"


def directory_file(folder, sink):
    (folder / "directory.yaml").write_text(
        "units:\n"
        '  - {id: chengguan, name: 城关派出所, leader: officer-9, legal_officer: officer-8, duty_phone: "13800000000"}\n'
        '  - {id: xingjing, name: 刑侦大队, leader: officer-5, legal_officer: officer-6, duty_phone: "13800000001"}\n'
        '  - {id: shiju, name: 市局扫黑办, leader: officer-7, duty_phone: "13800000002"}\n'
        "officers:\n"
        f'  - {{id: officer-1, name: 刘明, unit: xingjing, phone: "13900000001", urls: ["json://127.0.0.1:{sink.port}/chat/officer-1"]}}\n'
        '  - {id: officer-2, name: 王芳, unit: chengguan, phone: "13900000002"}\n'
        '  - {id: officer-5, name: 陈刚, unit: xingjing, phone: "13900000005"}\n'
        '  - {id: officer-6, name: 李娜, unit: xingjing, phone: "13900000006"}\n'
        '  - {id: officer-7, name: 吴军, unit: shiju, phone: "13900000007"}\n'
        '  - {id: officer-8, name: 孙静, unit: chengguan, phone: "13900000008"}\n'
        '  - {id: officer-9, name: 周国平, unit: chengguan, phone: "13900000009"}\n',
        encoding="utf-8",
    )
    return read_directory(folder / "directory.yaml")


def feed(tmp_path, store, pack, lines, now):
    path = tmp_path / f"feed-{len(list(tmp_path.glob('feed-*')))}.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    report = ingest_path(store, pack, path, source="case-system", now=parse_local(now))
    assert report.quarantined == 0, store.quarantined()
    return report


def messages_since(sink, start):
    return sink.requests[start:]


def test_a_clue_reminds_its_officer_and_escalates_to_the_assigned_units_leaders(tmp_path, store, pack, notify_folder, sink):
    store.replace_directory(directory_file(notify_folder, sink))
    config = NotifyConfig.load(notify_folder)
    info = {"kind": "clue", "source": "上级转办", "unit": "xingjing", "handler": "officer-1", "title": "某涉恶线索"}
    feed(
        tmp_path,
        store,
        pack,
        [
            {"id": "c1", "case": CLUE, "type": "clue_received", "at": "2026-09-01 10:00", "data": {"source": "上级转办"}, "case_info": info},
            {
                "id": "c2",
                "case": CLUE,
                "type": "clue_assigned",
                "at": "2026-09-05 09:00",
                "data": {"assignee": "xingjing", "officer": "officer-1", "parallel": True},
            },
            {"id": "c3", "case": CLUE, "type": "clue_assigned", "at": "2026-09-05 09:00", "data": {"assignee": "jiwei", "parallel": True}},
        ],
        "2026-09-05 10:00",
    )
    # Both assignments are due 10-08 24:00 (09-05 + 30 days = 10-05, in the National Day holiday → 10-08).
    scan(store, pack, config, parse_local("2026-10-07 09:00"))
    chat = sink.to("/chat/officer-1")
    assert chat and all("上级转办线索核查（专项工作要求）" in r["body"]["message"] for r in chat)
    assert not sink.to("/sms/13900000005")  # no escalation before the due
    before = len(sink.requests)
    scan(store, pack, config, parse_local("2026-10-09 09:00"))  # overdue, not verified
    overdue = {r["path"] for r in messages_since(sink, before) if "超期" in r["body"].get("title", "")}
    assert "/chat/officer-1" in overdue  # the responsible officer
    assert {"/sms/13900000005", "/sms/13900000006"} <= overdue  # 刑侦大队's leader and legal officer
    assert "/sms/13800000001" not in overdue  # named people found: no duty-phone fallback
    keys = sink.keys()
    assert len(keys) == len(set(keys))


def test_a_missed_listing_report_escalates_to_the_listing_contact(tmp_path, store, pack, notify_folder, sink):
    store.replace_directory(directory_file(notify_folder, sink))
    config = NotifyConfig.load(notify_folder)
    feed(
        tmp_path,
        store,
        pack,
        [
            {
                "id": "l1",
                "case": LISTED,
                "type": "case_listed",
                "at": "2026-03-02 10:00",
                "data": {"level": "市", "leader": "officer-9", "contact": "officer-7", "report_every": "15日"},
                "case_info": {"kind": "criminal", "unit": "chengguan", "handler": "officer-2", "title": "某涉黑案"},
            },
            {"id": "l2", "case": LISTED, "type": "listing_report_filed", "at": "2026-03-16 15:00"},
        ],
        "2026-03-16 16:00",
    )
    assert [c.number for c in _clocks(store, LISTED)] == [1]  # the second period begins 03-18: not yet
    scan(store, pack, config, parse_local("2026-04-02 09:00"))
    # The scan opened periods 2 (03-18—04-01 24:00, no report: overdue) and 3 (from 04-02, due 04-16 24:00).
    periods = _clocks(store, LISTED)
    assert [(c.number, c.due_display, c.open) for c in periods] == [
        (1, "2026-03-17 24:00", False),
        (2, "2026-04-01 24:00", True),
        (3, "2026-04-16 24:00", True),
    ]
    overdue = {r["path"] for r in sink.requests if "超期" in r["body"].get("title", "")}
    assert {"/sms/13900000002", "/sms/13900000009", "/sms/13900000007"} <= overdue  # handler, listing leader, contact


def test_a_unit_that_misses_a_weekly_review_is_reminded_and_its_legal_officer_told(tmp_path, store, pack, notify_folder, sink):
    store.replace_directory(directory_file(notify_folder, sink))
    config = NotifyConfig.load(notify_folder)
    campaign.open_duties(store, pack, ["chengguan"], parse_local("2026-09-28 09:00"), parse_local("2026-09-28 09:00"))
    campaign.record_duty(store, pack, "chengguan", "日梳理", parse_local("2026-09-28 17:00"), parse_local("2026-09-28 17:00"))
    # W40's 周研判 moves from 10-02 (国庆) to 10-08 18:00; nothing recorded: overdue at 19:00.
    scan(store, pack, config, parse_local("2026-10-08 19:00"))
    overdue = [r for r in sink.requests if "超期" in r["body"].get("title", "")]
    reached = {r["path"] for r in overdue}
    assert {"/sms/13900000009", "/sms/13900000008"} <= reached  # unit leader, then the legal officer
    assert any("周研判（工作规范）" in r["body"]["message"] for r in overdue)
    weekly = [c for c in _clocks(store, campaign.duty_matter("chengguan")) if c.rule_id == "campaign.duty.weekly_review"]
    assert [(c.number, c.due_display, c.open) for c in weekly] == [(1, "2026-10-08 18:00", True), (2, "2026-10-09 18:00", True)]


def _clocks(store, case_id):
    with store.session() as session:
        return list(session.exec(select(ClockRow).where(ClockRow.case_id == case_id).order_by(ClockRow.rule_id, ClockRow.number)).scalars())
