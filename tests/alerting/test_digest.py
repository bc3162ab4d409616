"""The daily overdue digest: a clock that stays overdue repeats its reminder `overdue_digest.after` times, then is
listed once a day in one digest per recipient (the handler and the escalation roles), however often the scan runs."""

from collections import Counter
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from qixian.alerting.delivery import deliver
from qixian.alerting.digest import LABEL, in_digest, owe_digest
from qixian.alerting.scan import scan
from qixian.legaltime.localtime import parse_local
from qixian.store.tables import ClockRow
from tests.alerting.test_end_to_end import setup
from tests.fixtures.sinks import outbox_rows

START = parse_local("2025-09-30 00:00")


def test_repeats_stop_after_the_limit_and_one_digest_a_day_follows(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    after = pack.settings.overdue_digest["after"]
    times = [START + timedelta(hours=6 * n) for n in range(4 * 20)]  # every 6 hours for 20 days, each run twice
    for now in times:
        scan(store, pack, config, now)
        again = scan(store, pack, config, now)
        assert again.scanned.owed == [] and again.scanned.digests == 0  # a rerun owes nothing, digests included
    rows = outbox_rows(store)
    own, digests = [r for r in rows if r.clocks is None], [r for r in rows if r.clocks is not None]
    repeats = Counter((r.clock_id, r.due_at, r.recipient) for r in own if r.label.startswith("超期第"))
    assert repeats and max(repeats.values()) <= after  # never more than `after` repeats
    assert all(int(r.label[3:-3]) <= after + 1 for r in own if r.label.startswith("超期第"))  # 超期第7次提醒 at most
    assert digests and all(r.label == LABEL and r.status == "sent" for r in digests)
    per_day = Counter(r.key.rsplit(":", 1)[0] + ":" + r.recipient for r in digests)
    assert set(per_day.values()) == {1}  # one digest per recipient per day
    days = {r.key.split(":")[1] for r in digests}
    assert len(days) >= 10
    recipients = {r.recipient for r in digests}
    assert {"officer-1", "officer-9", "officer-8"} <= recipients  # the handler and the leaders (escalation)
    delivered = Counter(k for k in sink.keys() if k.startswith("digest:"))  # noqa: SIM118 - LocalSink.keys(): the keys it was sent
    assert set(delivered.values()) == {1} and set(delivered) == {r.key for r in digests}
    assert all(r.step_at.astimezone(parse_local("2025-10-01 00:00").tzinfo).strftime("%H:%M") == "08:30" for r in digests)
    body = next(r for r in sink.to("/chat/officer-1") if r["keys"][0].startswith("digest:"))["body"]
    assert "每日超期汇总" in body["title"] and "（2025）城关刑字第0001号" in body["message"] and "已超期" in body["message"]


def test_a_digest_is_owed_from_its_time_of_day_and_lists_each_folded_clock(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    early = scan(store, pack, config, parse_local("2025-10-20 08:00"))  # long overdue, before the digest time
    assert early.scanned.digests == 0
    clocks = store.clocks(open_only=True)
    folded = {c.id for c in clocks if in_digest(pack, c, parse_local("2025-10-20 08:30"))}
    assert folded
    on_time = scan(store, pack, config, parse_local("2025-10-20 08:31"))
    assert on_time.scanned.digests >= 1
    mine = [r for r in outbox_rows(store) if r.clocks is not None and r.recipient == "officer-1"]
    assert len(mine) == 1 and set(mine[0].clocks) <= folded and mine[0].key == "digest:2025-10-20:officer-1"
    messages = [m for m in on_time.messages if m.digest and m.recipient == "officer-1"]
    assert len(messages) == 1 and len(messages[0].items) == len(mine[0].clocks)
    assert all(f"{i.case}{i.rule_name}已超期" in messages[0].text or "另有" in messages[0].text for i in messages[0].items[:1])


def test_a_clock_paused_after_its_digest_was_owed_is_left_out_of_it(store, pack, notify_folder, sink):
    config = setup(store, pack, notify_folder)
    scan(store, pack, config, parse_local("2025-10-20 08:00"))  # the reminders owed before the digest time, sent
    now = parse_local("2025-10-20 08:31")
    owe_digest(store, pack, now)
    (digest,) = [r for r in outbox_rows(store) if r.clocks is not None and r.recipient == "officer-1"]
    assert digest.clocks and len(digest.clocks) >= 2, "the sample case has several overdue clocks for officer-1"
    paused = digest.clocks[0]
    with store.session() as session:  # as a replay writes a clock a pause event reached: no due while paused
        session.execute(update(ClockRow).where(col(ClockRow.id) == paused).values(paused=True, due_at=None, due_display=None))
        session.commit()
    delivered = deliver(store, pack, config, now)
    (message,) = [m for m in delivered.messages if m.digest and m.recipient == "officer-1"]
    assert message.channel is not None, "the digest was sent"
    listed = [i.key for i in message.items]
    assert len(listed) == len(digest.clocks) - 1, "every clock of the digest but the paused one"
