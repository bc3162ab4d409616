"""The main job end to end: events in, scans at several times, messages at a real local HTTP endpoint."""

from sqlalchemy import select

from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.casework.directory import read_directory
from qixian.casework.feeds import ingest_path
from qixian.legaltime.localtime import parse_local
from qixian.store.tables import DeliveryRow, OutboxRow
from tests.fixtures.sinks import outbox_rows
from tests.paths import ROOT

SAMPLE = ROOT / "examples" / "events.jsonl"
CASE = "（2025）城关刑字第0001号"


def outbox(store) -> list[OutboxRow]:
    with store.session() as session:  # closed at once: an open transaction would block the next test's TRUNCATE
        return list(session.exec(select(OutboxRow)).scalars())


def setup(store, pack, notify_folder):
    store.replace_directory(read_directory(notify_folder / "directory.yaml"))
    ingest_path(store, pack, SAMPLE, source="case-system", now=parse_local("2025-09-29 16:00"))
    return NotifyConfig.load(notify_folder)


def test_reminders_arrive_once_and_escalate_after_the_due(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    # 张某's arrest request is due 2025-10-06 24:00 (3 days + 4 days extension, custody): reminders the day before.
    first = scan(store, pack, config, parse_local("2025-10-05 09:00"))
    assert first.delivered.sent >= 1
    chat = sink.to("/chat/officer-1")
    assert chat and any("拘留后提请批准逮捕" in r["body"]["message"] for r in chat)
    seen = list(sink.keys())
    requests_before = len(sink.requests)
    assert len(seen) == len(set(seen))
    again = scan(store, pack, config, parse_local("2025-10-05 09:00"))  # the same moment: nothing owed twice
    assert again.scanned.owed == [] and sink.keys() == seen
    after = scan(store, pack, config, parse_local("2025-10-07 00:30"))  # past the due: escalation
    assert after.delivered.sent >= 1
    overdue = [r for r in sink.requests[requests_before:] if "超期" in r["body"].get("title", "")]
    reached = {r["path"] for r in overdue}
    assert "/chat/officer-1" in reached  # the handler, on chat
    assert {"/sms/13900000009", "/sms/13900000008"} <= reached  # unit leader and legal officer, by SMS
    keys = sink.keys()
    assert len(keys) == len(set(keys))  # no reminder twice
    assert store.count(OutboxRow) == len(set(keys))


def own(sent: list) -> list:
    """The requests or delivery-log rows of clocks' own reminders (long-overdue sample clocks are also in the daily
    overdue digest, a message of its own: tests/alerting/test_digest.py)."""
    return [s for s in sent if not (s["keys"] if isinstance(s, dict) else s.keys)[0].startswith("digest:")]


def test_a_failing_chat_robot_falls_back_to_sms_and_is_recorded(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    sink.failing["/chat/"] = (500, {"errcode": 1})
    report = scan(store, pack, config, parse_local("2025-10-05 09:00"))
    assert report.delivered.sent >= 1
    assert len(own(sink.to("/chat/officer-1"))) == 2  # tried twice (tries: 2)
    assert sink.to("/sms/13900000001")  # then the handler's phone
    with store.session() as session:
        log = list(session.exec(select(DeliveryRow).order_by(DeliveryRow.id)).scalars())
    assert [(d.channel, d.ok) for d in own(log) if d.recipient == "officer-1"][:3] == [("chat", False), ("chat", False), ("sms", True)]
    sent = [o for o in outbox_rows(store) if o.recipient == "officer-1"]
    assert sent and all(o.status == "sent" and o.channel == "sms" for o in sent)


def test_nothing_is_marked_sent_when_every_channel_fails(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    sink.failing["/"] = (503, {"code": 503})
    report = scan(store, pack, config, parse_local("2025-10-05 09:00"))
    assert report.delivered.sent == 0 and report.delivered.failed >= 1
    rows = outbox_rows(store)
    assert rows and all(o.status == "pending" and o.attempts == 1 for o in rows)
    sink.failing.clear()
    later = scan(store, pack, config, parse_local("2025-10-05 09:02"))  # after the 1-minute backoff
    assert later.delivered.sent >= 1
    assert all(o.status == "sent" for o in outbox_rows(store))


def test_dry_run_writes_and_sends_nothing(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    preview = scan(store, pack, config, parse_local("2025-10-05 09:00"), dry_run=True)
    assert preview.messages and sink.requests == [] and store.count(OutboxRow) == 0
    real = scan(store, pack, config, parse_local("2025-10-05 09:00"))
    assert {m.recipient for m in real.messages} == {m.recipient for m in preview.messages}


def test_a_dingtalk_refusal_inside_http_200_is_retried_falls_back_and_is_logged(store, pack, notify_folder, sink, monkeypatch):
    from qixian.engine.directory import Directory, Officer

    monkeypatch.setenv("QX_TEST_DING_SECRET", "SEC-very-secret-1")
    monkeypatch.setenv("QX_TEST_DING_TOKEN", "tok-very-secret-2")
    config = setup(store, pack, notify_folder)
    directory = store.directory()
    handler = directory.officers["officer-1"]
    robot = f"qxdingtalk://${{QX_TEST_DING_SECRET}}@${{QX_TEST_DING_TOKEN}}?endpoint=http://127.0.0.1:{sink.port}"
    store.replace_directory(
        Directory(directory.units, {**directory.officers, "officer-1": Officer(handler.id, handler.name, handler.unit, handler.phone, (robot,))})
    )
    sink.failing["/robot/send"] = (200, {"errcode": 310000, "errmsg": "sign not match"})
    report = scan(store, pack, config, parse_local("2025-10-05 09:00"))
    assert report.delivered.sent >= 1
    assert len(own(sink.to("/robot/send"))) == 2 and sink.to("/sms/13900000001")
    with store.session() as session:
        log = [d for d in session.execute(select(DeliveryRow).order_by(DeliveryRow.id)).scalars() if d.recipient == "officer-1"]
    assert [(d.channel, d.ok) for d in own(log)] == [("chat", False), ("chat", False), ("sms", True)]
    assert "310000" in log[0].answer
    stored = " ".join(d.url + d.answer for d in log)
    assert "very-secret" not in stored


def test_after_downtime_each_clock_owes_one_late_message_at_its_most_severe_step(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    report = scan(store, pack, config, parse_local("2025-10-08 09:00"))  # nothing scanned since the events
    by_clock = {}
    for owed in report.scanned.owed:
        by_clock.setdefault((owed.clock_id, owed.recipient), []).append(owed)
    assert by_clock and all(len(v) == 1 for v in by_clock.values())  # one step per clock and recipient
    assert all(o.late and o.level == "overdue" for v in by_clock.values() for o in v)
    assert report.scanned.caught_up >= 1


def test_a_refused_connection_falls_back_to_the_duty_phone(store, pack, notify_folder, sink):
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    channels = (notify_folder / "channels.yaml").read_text(encoding="utf-8")
    (notify_folder / "channels.yaml").write_text(
        channels.replace(f"json://127.0.0.1:{sink.port}/sms/{{phone}}", f"json://127.0.0.1:{port}/sms/{{phone}}"), encoding="utf-8"
    )
    config = setup(store, pack, notify_folder)
    sink.failing["/chat/"] = (500, {})
    report = scan(store, pack, config, parse_local("2025-10-05 09:00"))
    assert report.delivered.sent == 0 and report.delivered.failed >= 1  # SMS and duty phone both unreachable
    with store.session() as session:
        log = list(session.execute(select(DeliveryRow)).scalars())
    assert {d.channel for d in log} >= {"chat", "sms", "duty"} and not any(d.ok for d in log)
