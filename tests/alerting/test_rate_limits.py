"""Sending limits per channel (notify/channels.yaml `limits:`), against the real local sink: what is over the limit
stays queued and goes out in the next window, never dropped, never twice."""

import multiprocessing
import os
import shutil
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from qixian.alerting.delivery import deliver
from qixian.alerting.messages import NotifyConfig, NotifyConfigError
from qixian.engine.directory import Directory, Officer, Unit
from qixian.legaltime.localtime import parse_local
from qixian.store.repository import Store
from qixian.store.tables import DeliveryRow, OutboxRow
from tests.fixtures.sinks import outbox_rows
from tests.paths import ROOT

NOW = parse_local("2026-03-10 08:30")


def setup(store, tmp_path, sink, limits: str, robot: bool) -> NotifyConfig:
    """Five officers of one unit, all on one group robot (or, without `robot`, by SMS only), each owed a reminder."""
    robot_url = (f"json://127.0.0.1:{sink.port}/chat/group",) if robot else ()
    store.replace_directory(
        Directory(
            {"u": Unit("u", "城关派出所", duty_phone="13800000000")},
            {f"o{n}": Officer(f"o{n}", f"民警{n}", "u", f"1390000000{n}", robot_url) for n in range(1, 6)},
        )
    )
    at = NOW.astimezone(UTC)
    with store.session() as session:
        for n in range(1, 6):
            session.add(
                OutboxRow(
                    key=f"{n}:0:0:o{n}",
                    clock_id=n,
                    case_id=f"case-{n}",
                    rule_id="accept.criminal_review",
                    step=0,
                    level="notice",
                    label="期满前 1日",
                    due_at=at + timedelta(days=1),
                    step_at=at,
                    recipient=f"o{n}",
                    status="pending",
                    attempts=0,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
        session.commit()
    folder = tmp_path / "notify"
    shutil.copytree(ROOT / "notify" / "templates", folder / "templates")
    (folder / "channels.yaml").write_text(f'sms: "json://127.0.0.1:{sink.port}/sms/{{phone}}"\n{limits}', encoding="utf-8")
    return NotifyConfig.load(folder)


def test_a_robot_over_its_minute_limit_sends_the_rest_in_the_next_minutes(store, pack, tmp_path, sink):
    config = setup(store, tmp_path, sink, "limits: {json: {per_minute: 2}}\n", robot=True)
    first = deliver(store, pack, config, NOW)
    assert (first.sent, first.deferred, len(sink.requests)) == (2, 3, 2)  # 5 messages, 2 a minute: 2 now
    waiting = [r for r in outbox_rows(store) if r.status == "pending"]
    assert len(waiting) == 3 and all(r.attempts == 0 for r in waiting)  # queued, not failed
    assert all(NOW + timedelta(seconds=60) <= r.next_attempt_at <= NOW + timedelta(seconds=61) for r in waiting)
    assert deliver(store, pack, config, NOW + timedelta(seconds=30)).sent == 0  # still the same minute
    assert deliver(store, pack, config, NOW + timedelta(seconds=62)).sent == 2
    assert deliver(store, pack, config, NOW + timedelta(seconds=124)).sent == 1
    assert all(r.status == "sent" and r.channel == "chat" for r in outbox_rows(store))  # none fell back to SMS, none dropped
    keys = sink.keys()
    assert sorted(keys) == sorted(r.key for r in outbox_rows(store))  # each exactly once
    with store.session() as session:
        moments = sorted(d.at for d in session.exec(select(DeliveryRow)).scalars())
    assert all(later - earlier >= timedelta(seconds=60) for earlier, later in zip(moments, moments[2:], strict=False))  # never 3 in a minute


def test_an_sms_quota_for_the_day_holds_the_rest_until_the_next_day(store, pack, tmp_path, sink):
    config = setup(store, tmp_path, sink, "limits: {sms: {per_minute: 100, per_day: 3}}\n", robot=False)
    assert deliver(store, pack, config, NOW).sent == 3
    waiting = [r for r in outbox_rows(store) if r.status == "pending"]
    midnight = datetime(2026, 3, 11, tzinfo=timezone(timedelta(hours=8)))  # Beijing midnight
    assert len(waiting) == 2 and all(r.next_attempt_at == midnight for r in waiting)
    assert deliver(store, pack, config, parse_local("2026-03-10 23:59")).sent == 0
    assert deliver(store, pack, config, parse_local("2026-03-11 00:00")).sent == 2
    assert len(sink.to("/sms/")) == 5 and len(set(sink.keys())) == 5


@pytest.mark.parametrize(
    "limits, problem", [("limits: {json: 20}\n", "limits.json"), ("limits: {sms: {per_hour: 5}}\n", "per_minute"), ("limits: {sms: {per_day: 0}}\n", "正整数")]
)
def test_a_malformed_limit_is_a_clear_error(tmp_path, limits, problem):
    folder = tmp_path / "notify"
    folder.mkdir()
    (folder / "channels.yaml").write_text('sms: "json://127.0.0.1:1/sms/{phone}"\n' + limits, encoding="utf-8")
    with pytest.raises(NotifyConfigError, match=problem):
        NotifyConfig.load(folder)


def _deliver_at_once(url, pack, config, barrier) -> None:
    store = Store.open(url)
    barrier.wait(timeout=60)
    deliver(store, pack, config, NOW)
    os._exit(0)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_scanners_sending_at_once_share_the_robot_limit(db_url, store, pack, tmp_path, sink):
    config = setup(store, tmp_path, sink, "limits: {json: {per_minute: 2}}\n", robot=True)
    store.engine.dispose()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(3)
    scanners = [context.Process(target=_deliver_at_once, args=(db_url, pack, config, barrier)) for _ in range(3)]
    for scanner in scanners:
        scanner.start()
    for scanner in scanners:
        scanner.join(timeout=60)
    assert [s.exitcode for s in scanners] == [0, 0, 0]
    assert len(sink.requests) == 2  # three scanners, still 2 in the minute
    assert sum(r.status == "pending" for r in outbox_rows(store)) == 3


def test_a_messages_own_retries_count_against_the_limit(store, pack, tmp_path, sink):
    """A robot that refuses is tried `tries` times; each try is a request it counts, so the tries of one message
    stop at the limit too (they are logged only when the message's transaction ends)."""
    config = setup(store, tmp_path, sink, "retry: {tries: 3}\nlimits: {json: {per_minute: 2}}\n", robot=True)
    sink.failing["/chat/"] = (500, {"errmsg": "busy"})
    first = deliver(store, pack, config, NOW)
    assert len(sink.to("/chat/")) == 2  # two tries of the first message, then the robot is full
    assert (first.sent, first.deferred) == (0, 5)  # all five wait for the robot; none moved to SMS or failed
    assert all(r.status == "pending" and r.attempts == 0 for r in outbox_rows(store))
