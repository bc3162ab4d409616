"""The bulk paths bind encoded values with the driver; what they store must be exactly what SQLAlchemy stores,
so every other reader (scan, reports, case show) sees the same rows."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from qixian.legaltime.localtime import SHANGHAI
from qixian.store.clocks import _CLOCK_INSERT, CLOCK_VALUES
from qixian.store.repository import Store
from qixian.store.rows import decode_time, encode_time
from qixian.store.tables import ClockRow

STAMP = datetime(2026, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)
VALUES = {
    "rule_version": "2026-01-01",
    "lead_of": None,
    "open": True,
    "outcome": None,
    "paused": False,
    "provisional": True,
    "started_at": datetime(2026, 1, 5, 19, 10, tzinfo=SHANGHAI),  # not UTC: both paths must store the instant in UTC
    "due_at": datetime(2026, 1, 6, 3, 10, tzinfo=SHANGHAI),
    "due_display": "2026-01-06 03:10",
    "ended_at": None,
    "ended_by": None,
    "explanation": ["起算：2026-01-05 19:10。", "期满：2026-01-06 03:10（不顺延）。"],
    "anomalies": [{"kind": "late_extension", "message": "延长晚于期满"}],
    "next_reminder_at": datetime(2026, 1, 6, 1, 10, tzinfo=SHANGHAI),
    "warning_at": datetime(2026, 1, 6, 1, 10, tzinfo=SHANGHAI),
}


def raw_rows(store):
    with store.engine.connect() as connection:
        columns = ", ".join((*CLOCK_VALUES.columns, "updated_at"))
        return {case: tuple(rest) for case, *rest in connection.exec_driver_sql(f"SELECT case_id, {columns} FROM clocks ORDER BY case_id")}


def test_encoded_insert_stores_what_sqlalchemy_stores(store: Store):
    with store.session() as session:  # one row the ordinary way
        session.add(ClockRow(case_id="orm", rule_id="r", person="", number=1, updated_at=STAMP, **VALUES))
        session.commit()
    with store.engine.begin() as connection:  # and one through the codec
        _CLOCK_INSERT.insert(connection, [("codec", "r", "", 1, *CLOCK_VALUES.encode(VALUES), None, encode_time(STAMP))])
    raw = raw_rows(store)
    assert raw["codec"] == raw["orm"]  # byte for byte as the driver returns them
    codec, orm = sorted(store.clocks(), key=lambda r: r.case_id)
    assert (codec.due_at, codec.explanation, codec.anomalies, codec.open) == (orm.due_at, orm.explanation, orm.anomalies, orm.open)
    assert codec.due_at == VALUES["due_at"]  # the same instant, read back aware


def test_stored_rows_encode_back_to_the_derived_values(store: Store):
    with store.engine.begin() as connection:
        _CLOCK_INSERT.insert(connection, [("c", "r", "", 1, *CLOCK_VALUES.encode(VALUES), "u1", encode_time(STAMP))])
    (row,) = store.clocks()
    assert CLOCK_VALUES.encode(row.model_dump()) == CLOCK_VALUES.encode(VALUES)  # so unchanged clocks are not rewritten
    assert row.unit == "u1"


def test_times_encode_as_utc_and_decode_to_the_same_instant():
    local = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert encode_time(local) == "2024-02-29 15:59:59.999999"
    assert decode_time(encode_time(local)) == local
    assert encode_time(local.astimezone(UTC).replace(tzinfo=None)) == encode_time(local)  # naive is UTC
    assert encode_time(None) is None and decode_time(None) is None
    assert decode_time(encode_time(local + timedelta(microseconds=1))) - local == timedelta(microseconds=1)


def test_conflicting_rows_are_skipped_and_only_new_ones_returned(store: Store):
    from qixian.store.cases import EVENT_ROWS

    row = ("src", "e1", "case", "detained", encode_time(STAMP), None, "{}", encode_time(STAMP))
    with store.engine.begin() as connection:
        first = EVENT_ROWS.insert(connection, [row], unique=("source", "source_id"), returning="source_id")
        again = EVENT_ROWS.insert(connection, [row, (*row[:1], "e2", *row[2:])], unique=("source", "source_id"), returning="source_id")
    assert (first, again) == (["e1"], ["e2"])
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar_one() == 2


def test_replayed_clock_values_are_what_the_codec_encodes():
    """recompute.clock_values builds the encoded tuple directly (it runs for every clock replayed): it must equal
    CLOCK_VALUES.encode of the same columns, for open, ended, paused, lead and anomalous clocks alike."""
    from qixian.casework.recompute import clock_values
    from qixian.casework.samplefeed import Feed
    from qixian.engine.clocks import Event, replay
    from qixian.engine.reminders import next_step, plan, warning_of
    from qixian.legaltime.localtime import parse_local
    from qixian.rulebook import load_pack

    pack = load_pack("rules")
    clocks = []
    for case in Feed(seed=3).cases(300):
        events = [Event(e["type"], parse_local(e["at"]), e.get("person"), e.get("data") or {}, e["id"]) for e in case]
        clocks += replay(pack, events, case=case[0]["case"], facts=case[0].get("case_info", {}))
    late = [
        Event("detained", parse_local("2026-03-02 10:00"), "甲"),  # an extension after the due: an anomaly
        Event("arrest_request_extended", parse_local("2026-03-09 10:00"), "甲", {"days": 4}),
        Event("summoned", parse_local("2026-03-02 11:00"), "乙"),  # paused, not resumed: no due
        Event("drunk_restraint_started", parse_local("2026-03-02 11:30"), "乙"),
    ]
    clocks += replay(pack, late, case="anomalous", facts={"kind": "criminal"})
    clocks += replay(pack, late, case="paused", facts={"kind": "administrative"})
    assert any(c.anomalies for c in clocks) and any(c.outcome for c in clocks) and any(c.lead_of for c in clocks)
    assert any(c.outcome is None for c in clocks) and any(c.deadline.paused for c in clocks)
    for clock in clocks:
        step = next_step(clock, pack.settings)
        assert clock_values(clock, pack) == CLOCK_VALUES.encode(
            {
                "rule_version": clock.rule.effective_from.isoformat() if clock.rule.effective_from else "",
                "lead_of": clock.lead_of,
                "open": clock.outcome is None,
                "outcome": clock.outcome,
                "paused": clock.deadline.paused,
                "provisional": clock.deadline.provisional,
                "started_at": clock.started,
                "due_at": clock.due,
                "due_display": clock.deadline.due_display,
                "ended_at": clock.ended_at,
                "ended_by": clock.ended_by,
                "explanation": list(clock.deadline.explanation),
                "anomalies": [{"kind": a.kind, "message": a.message} for a in clock.anomalies],
                "next_reminder_at": step.at if step else None,
                "warning_at": warning_of(plan(clock, pack.settings)),
            }
        )
