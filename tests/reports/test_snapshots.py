"""Report snapshots on SQLite and PostgreSQL: the JSON gives back the very report, a snapshot serves only while fresh
and computed with the same rule pack and calendar, one that cannot be read is counted again, and the refresh keeps
the bureau's month to date and deletes what is older than a day."""

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from qixian.casework.directory import read_directory
from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.localtime import SHANGHAI, parse_local
from qixian.rulebook import load_pack
from qixian.store.tables import ReportSnapshotRow
from qixian.supervision.reports import Finding, Report, Row, Scope, Tally, day_start, report
from qixian.supervision.reportviews import as_csv, as_html
from qixian.supervision.snapshots import KEPT, Unreadable, View, fresh, from_json, keep, pack_hash, refresh, served, to_json
from tests.paths import ROOT
from tests.reports.test_reports import feed, incident, questioning_events

NOW = parse_local("2025-10-12 09:00")
OCTOBER = View(parse_local("2025-10-01 00:00").date(), NOW.date())


def history(store, pack, tmp_path):
    """A history with every part of a report: a pause twice near the due, a late extension (anomalies), late work,
    and an incident still open past its due in another unit."""
    store.replace_directory(read_directory(ROOT / "notify" / "directory.yaml"))
    feed(store, pack, tmp_path, [*questioning_events(), incident("B", "jiaodong", "officer-3", "2025-10-10 10:00")])


def test_the_json_gives_back_the_very_report(store, pack, tmp_path):
    history(store, pack, tmp_path)
    counted = OCTOBER.compute(store, pack, NOW)
    assert counted.anomalies and counted.paused and counted.extensions and counted.total.overdue  # every part is there
    again = from_json(to_json(counted))
    assert again == counted
    assert again.now.tzinfo == SHANGHAI and again.start.date() == counted.start.date()
    assert as_html(again) == as_html(counted) and as_csv(again) == as_csv(counted)

    # the raw times behind the medians, floats that print long, an empty person, an officer's scope, no rows
    made = Report(
        day_start(NOW.date()),
        day_start(NOW.date() + timedelta(days=1)),
        NOW,
        Scope(officer="officer-1"),
        "民警 刘明",
        Tally(assessed=3, met=1, met_late=1, overdue=1, reminders=7, acknowledged=2, to_completion=[0.1 + 0.2, 1 / 3, 12.916666666666666], ack_latency=[30.0]),
        [Row("刑事立案提醒", "刑事立案提醒", Tally(assessed=1, to_completion=[2 / 3]))],
        [],
        [],
        [Row("", "（未填主办民警）", Tally())],
        [],
        [],
        [("醉酒约束", 1 / 7, 2)],
        [],
        [Finding("late_extension", "（2025）城关刑字第0001号", "拘留", "", '期满后才批准延长 "引号" <b>')],
    )
    assert from_json(to_json(made)) == made


@pytest.mark.parametrize(
    "body", ["", "not json", "[]", '{"format": 0}', '{"format": 1}', '{"format": 1, "start": "2025-10-01T00:00:00"}', '{"format": 1, "start": 3']
)
def test_what_is_not_a_snapshot_of_this_format_is_unreadable(body):
    with pytest.raises(Unreadable):
        from_json(body)


def test_figures_of_the_wrong_kind_are_unreadable():
    made = Report(NOW, NOW, NOW, Scope(), "全局", Tally(assessed=2, to_completion=[1.5]), [], [], [], [], [], [], [], [], [])
    data = json.loads(to_json(made))
    for wrong in ("2", 2.0, None, True):
        data["total"][0] = wrong
        with pytest.raises(Unreadable):
            from_json(json.dumps(data))
    data["total"][0], data["total"][-2] = 2, ["1.5"]
    with pytest.raises(Unreadable):
        from_json(json.dumps(data))
    data["total"][-2] = [1.5]
    assert from_json(json.dumps(data)) == made


def test_a_snapshot_serves_while_fresh_and_a_stale_one_is_counted_again(store, pack, tmp_path):
    history(store, pack, tmp_path)
    first, was_kept = served(store, pack, OCTOBER, NOW)
    assert not was_kept and store.report_snapshot(OCTOBER.key).computed_at == NOW
    assert fresh(store, pack, OCTOBER, NOW + timedelta(minutes=10)) == first  # ten minutes old: fresh (the default)
    assert fresh(store, pack, OCTOBER, NOW + timedelta(minutes=10, seconds=1)) is None
    assert fresh(store, pack, OCTOBER, NOW + timedelta(minutes=12), minutes=15) == first
    assert fresh(store, pack, OCTOBER, NOW - timedelta(minutes=1)) is None  # computed after the moment asked about
    assert fresh(store, pack, View(OCTOBER.first, OCTOBER.last, Scope(unit="chengguan")), NOW) is None  # another view

    later = NOW + timedelta(minutes=5)
    again, from_snapshot = served(store, pack, OCTOBER, later)
    assert from_snapshot and again == first and again.now == NOW  # the snapshot's figures, as of when they were counted
    assert fresh(store, pack, OCTOBER, later) is again  # the same snapshot: parsed once, not on every request
    doctored = dataclasses.replace(first, total=dataclasses.replace(first.total, assessed=first.total.assessed + 1))
    keep(store, pack, OCTOBER, doctored)  # rewritten, with the same time and pack: read anew
    assert fresh(store, pack, OCTOBER, later) == doctored
    keep(store, pack, OCTOBER, first)

    stale = NOW + timedelta(minutes=11)
    recounted, from_snapshot = served(store, pack, OCTOBER, stale)
    assert not from_snapshot and recounted.now == stale and recounted == OCTOBER.compute(store, pack, stale)
    assert store.report_snapshot(OCTOBER.key).computed_at == stale  # kept in place of the old one (one row a view)
    assert store.count(ReportSnapshotRow) == 1


def test_another_rule_pack_or_calendar_makes_a_snapshot_stale(store, pack, tmp_path, make_pack):
    history(store, pack, tmp_path)
    keep(store, pack, OCTOBER, OCTOBER.compute(store, pack, NOW))
    assert fresh(store, pack, OCTOBER, NOW) is not None
    assert pack_hash(load_pack(ROOT / "rules")) == pack_hash(pack)  # the same files: the same hash, wherever loaded

    calendar = pack.calendar
    holiday = parse_local("2025-10-13 00:00").date()  # a Monday made a holiday
    moved = dataclasses.replace(pack, calendar=LegalCalendar({**calendar._holidays, holiday: "调休"}, calendar._workdays, calendar.years))
    assert fresh(store, moved, OCTOBER, NOW) is None

    other = load_pack(make_pack(ROOT / "rules" / "incident.yaml"))  # fewer rule files
    assert pack_hash(other) != pack_hash(pack) and fresh(store, other, OCTOBER, NOW) is None
    assert fresh(store, pack, OCTOBER, NOW) is not None


@pytest.mark.parametrize("body", ["not json", '{"format": 0, "total": {}}', '{"format": 1, "start": "2025-10-01T00:00:00+08:00"}'])
def test_an_unreadable_snapshot_is_counted_again(store, pack, tmp_path, body):
    history(store, pack, tmp_path)
    counted = OCTOBER.compute(store, pack, NOW)
    keep(store, pack, OCTOBER, counted)
    with store.session() as session:
        session.execute(update(ReportSnapshotRow).values(body=body))
        session.commit()
    assert fresh(store, pack, OCTOBER, NOW + timedelta(minutes=1)) is None
    result, from_snapshot = served(store, pack, OCTOBER, NOW + timedelta(minutes=1))
    assert not from_snapshot and result.total == counted.total
    assert json.loads(store.report_snapshot(OCTOBER.key).body)["format"] == 1  # written over with a readable one
    assert fresh(store, pack, OCTOBER, NOW + timedelta(minutes=2)) == result


def test_refresh_keeps_the_month_to_date_and_deletes_snapshots_older_than_a_day(store, pack, tmp_path):
    history(store, pack, tmp_path)
    leader = View(OCTOBER.first, OCTOBER.last, Scope(unit="chengguan"))
    yesterday = View(OCTOBER.first, OCTOBER.last - timedelta(days=1))
    keep(store, pack, yesterday, yesterday.compute(store, pack, NOW - KEPT - timedelta(minutes=1)))
    keep(store, pack, leader, leader.compute(store, pack, NOW - timedelta(hours=23)))

    done = refresh(store, pack, NOW)
    assert done.views == [OCTOBER.key] and done.dropped == 1
    assert store.report_snapshot(yesterday.key) is None  # more than a day old
    assert store.report_snapshot(leader.key) is not None  # 23 hours: kept (stale for the page, not yet deleted)
    assert fresh(store, pack, OCTOBER, NOW) == report(store, pack, day_start(OCTOBER.first), day_start(NOW.date() + timedelta(days=1)), NOW)
    assert refresh(store, pack, NOW + timedelta(minutes=5)).dropped == 0
    assert store.report_snapshot(OCTOBER.key).computed_at == NOW + timedelta(minutes=5)
