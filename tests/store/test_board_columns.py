"""What the dashboard filters by, written with the clocks and cases, on SQLite and PostgreSQL: each clock's warning
time (the 橙 window) as its rule gives it, each clock's unit as its case's, and case_co_handlers as the cases' lists,
also after a case changes unit and co-handlers."""

import json

from sqlalchemy import select

from qixian.casework.feeds import ingest_path
from qixian.legaltime.localtime import parse_local
from qixian.store.tables import CaseRow, ClockRow, CoHandlerRow
from qixian.supervision.clockview import warning_at
from tests.paths import ROOT

SAMPLE = ROOT / "examples" / "events.jsonl"
THEFT = "（2025）城关刑字第0001号"


def stored(store):
    with store.session() as session:
        clocks = list(session.execute(select(ClockRow)).scalars())
        cases = {c.id: c for c in session.execute(select(CaseRow)).scalars()}
        co = sorted(session.execute(select(CoHandlerRow.case_id, CoHandlerRow.officer)).tuples())
    return clocks, cases, co


def test_ingest_writes_warning_time_unit_and_co_handlers(store, pack, tmp_path):
    ingest_path(store, pack, SAMPLE, source="case-system", now=parse_local("2025-09-29 16:00"))
    clocks, cases, co = stored(store)
    assert any(c.warning_at for c in clocks) and any(c.open and c.warning_at is None for c in clocks) is not None
    for clock in clocks:
        assert clock.warning_at == (warning_at(pack, clock) if clock.open else None), (clock.rule_id, clock.person)
        assert clock.unit == cases[clock.case_id].unit
    assert co == sorted((case.id, officer) for case in cases.values() for officer in case.co_handlers)
    assert (THEFT, "officer-2") in co

    moved = tmp_path / "moved.jsonl"  # the case moves to another unit, with other co-handlers
    moved.write_text(
        json.dumps(
            {
                "id": "m-1",
                "case": THEFT,
                "type": "receipt_issued",
                "at": "2025-10-03 09:00",
                "case_info": {"unit": "jiaodong", "co_handlers": ["officer-5", "officer-6"]},
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    ingest_path(store, pack, moved, source="case-system", now=parse_local("2025-10-03 09:05"))
    clocks, cases, co = stored(store)
    assert {c.unit for c in clocks if c.case_id == THEFT} == {"jiaodong"}
    assert [o for case, o in co if case == THEFT] == ["officer-5", "officer-6"]
    assert co == sorted((case.id, officer) for case in cases.values() for officer in case.co_handlers)
