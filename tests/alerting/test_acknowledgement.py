"""Acknowledging a reminder: recorded once, only by its officer while still in the directory and on the case, an
overdue one never by link; and an acknowledged overdue reminder stops the leaders' copies of the later repeats of
that clock at that due, while the clock keeps running and the handler keeps being reminded."""

import pytest
from sqlalchemy import select

from qixian.alerting.scan import scan
from qixian.legaltime.localtime import parse_local
from qixian.store.people import AcknowledgeError
from qixian.store.tables import AcknowledgementRow, CaseRow, OutboxRow
from tests.alerting.test_end_to_end import CASE, setup

RULE = "crim.detention.arrest_request"  # 张某: due 2025-10-06 24:00, repeats every 2 hours, escalated to the unit leader


def rows_of(store, clock_id):
    with store.session() as session:
        return list(session.exec(select(OutboxRow).where(OutboxRow.clock_id == clock_id).order_by(OutboxRow.id)).scalars())


def arrest_request_clock(store):
    return next(c for c in store.clocks(case=CASE) if c.rule_id == RULE and c.person == "张某")


def test_an_acknowledged_overdue_reminder_is_no_longer_escalated(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    clock = arrest_request_clock(store)
    scan(store, pack, config, parse_local("2025-10-07 00:05"))  # the due step: handler, legal officer, leader
    due_step = [r for r in rows_of(store, clock.id) if r.level == "overdue"]
    assert {r.recipient for r in due_step} == {"officer-1", "officer-8", "officer-9"}
    scan(store, pack, config, parse_local("2025-10-07 02:05"))  # first repeat, nobody acknowledged yet
    first_repeat = [r for r in rows_of(store, clock.id) if r.label == "超期第2次提醒"]
    assert {r.recipient for r in first_repeat} == {"officer-1", "officer-8", "officer-9"}

    handler_row = next(r for r in first_repeat if r.recipient == "officer-1")
    ack, new = store.acknowledge(handler_row.id, "officer-1", "dashboard", parse_local("2025-10-07 02:20"))
    assert new and (ack.clock_id, ack.step, ack.level) == (clock.id, handler_row.step, "overdue")

    scan(store, pack, config, parse_local("2025-10-07 04:05"))  # the next repeat
    second_repeat = [r for r in rows_of(store, clock.id) if r.label == "超期第3次提醒"]
    assert {r.recipient for r in second_repeat} == {"officer-1", "officer-8"}  # the rule's own recipients, not the leader
    running = arrest_request_clock(store)
    assert running.open and running.next_reminder_at > parse_local("2025-10-07 04:05")  # the clock still runs


def test_acknowledging_twice_keeps_the_first_and_strangers_are_refused(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    scan(store, pack, config, parse_local("2025-10-05 09:00"))
    row = next(r for r in rows_of(store, arrest_request_clock(store).id) if r.recipient == "officer-1")
    first, new = store.acknowledge(row.id, "officer-1", "link", parse_local("2025-10-05 09:10"))
    again, new_again = store.acknowledge(row.id, "officer-1", "dashboard", parse_local("2025-10-05 10:00"))
    assert new and not new_again and (again.id, again.channel, again.at) == (first.id, "link", first.at)
    assert store.count(AcknowledgementRow) == 1
    with pytest.raises(AcknowledgeError, match="不是发给您的：只能确认发给自己的提醒") as refused:
        store.acknowledge(row.id, "officer-9", "dashboard", parse_local("2025-10-05 10:00"))
    assert "officer-1" not in str(refused.value) and "刘明" not in str(refused.value)  # whose it is, is not said
    with pytest.raises(AcknowledgeError, match="没有编号为 999999 的提醒"):
        store.acknowledge(999999, "officer-1", "dashboard", parse_local("2025-10-05 10:00"))
    with pytest.raises(AcknowledgeError, match="确认渠道"):
        store.acknowledge(row.id, "officer-1", "sms", parse_local("2025-10-05 10:00"))


def test_a_reminder_before_the_due_does_not_silence_the_due(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    clock = arrest_request_clock(store)
    scan(store, pack, config, parse_local("2025-10-05 09:00"))
    early = next(r for r in rows_of(store, clock.id) if r.recipient == "officer-1")
    store.acknowledge(early.id, "officer-1", "dashboard", parse_local("2025-10-05 09:30"))
    scan(store, pack, config, parse_local("2025-10-07 00:05"))
    assert "officer-9" in {r.recipient for r in rows_of(store, clock.id) if r.level == "overdue"}


def test_qixian_ack_records_through_the_same_store_method(store, db_url, pack, notify_folder, sink, capsys):
    from qixian.cli import main

    config = setup(store, pack, notify_folder)
    scan(store, pack, config, parse_local("2025-10-05 09:00"))
    row = next(r for r in rows_of(store, arrest_request_clock(store).id) if r.recipient == "officer-1")
    assert main(["ack", str(row.id), "--officer", "officer-1", "--db", db_url, "--now", "2025-10-05 09:30"]) == 0
    assert f"已确认提醒 {row.id}" in capsys.readouterr().out
    assert main(["ack", str(row.id), "--officer", "officer-1", "--db", db_url]) == 0
    assert "已于 2025-10-05 09:30 由 officer-1 确认过" in capsys.readouterr().out
    with store.session() as session:
        assert [(a.officer, a.channel) for a in session.exec(select(AcknowledgementRow)).scalars()] == [("officer-1", "cli")]


def reassign(store, handler: str, co_handlers: list[str], case_id: str = CASE):
    """The case handed to `handler` (what the case system's next case_info writes to the case row)."""
    with store.session() as session:
        case = session.get(CaseRow, case_id)
        case.handler, case.co_handlers = handler, co_handlers
        session.add(case)
        session.commit()


def test_only_an_officer_still_on_the_case_and_in_the_directory_acknowledges(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    scan(store, pack, config, parse_local("2025-10-05 09:00"))
    row = next(r for r in rows_of(store, arrest_request_clock(store).id) if r.recipient == "officer-1")
    at = parse_local("2025-10-05 09:30")
    reassign(store, "officer-3", [])  # handed to officer-3
    for channel in ("dashboard", "link", "cli"):
        with pytest.raises(AcknowledgeError, match="所属案件已不由您负责") as refused:
            store.acknowledge(row.id, "officer-1", channel, at)
        assert "officer-3" not in str(refused.value)
    reassign(store, "officer-3", ["officer-1"])  # back on it, as a co-handler
    assert store.acknowledgeable(row.id, "officer-1").id == row.id
    directory = store.directory()
    del directory.officers["officer-1"]  # then leaves the directory
    store.replace_directory(directory)
    with pytest.raises(AcknowledgeError, match="所属案件已不由您负责"):
        store.acknowledge(row.id, "officer-1", "dashboard", at)
    assert store.count(AcknowledgementRow) == 0


def test_an_overdue_reminder_is_not_acknowledged_by_link(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    scan(store, pack, config, parse_local("2025-10-07 00:05"))
    row = next(r for r in rows_of(store, arrest_request_clock(store).id) if r.recipient == "officer-1")
    assert row.level == "overdue"
    with pytest.raises(AcknowledgeError, match="超期提醒须本人登录期限看板确认"):
        store.acknowledge(row.id, "officer-1", "link", parse_local("2025-10-07 00:10"))
    assert store.count(AcknowledgementRow) == 0
    assert store.acknowledge(row.id, "officer-1", "dashboard", parse_local("2025-10-07 00:10"))[1]


def test_qixian_ack_refuses_someone_elses_reminder_naming_nobody(store, db_url, pack, notify_folder, sink, capsys):
    from qixian.cli import main

    config = setup(store, pack, notify_folder)
    scan(store, pack, config, parse_local("2025-10-05 09:00"))
    row = next(r for r in rows_of(store, arrest_request_clock(store).id) if r.recipient == "officer-1")
    assert main(["ack", str(row.id), "--officer", "officer-2", "--db", db_url]) == 2
    err = capsys.readouterr().err
    assert f"提醒 {row.id} 不是发给您的" in err and "officer-1" not in err and "刘明" not in err
    assert store.count(AcknowledgementRow) == 0
