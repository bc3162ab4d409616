"""The report's counts against an independent count: a store built as bench/web.py builds it (thousands of clocks
over units and officers, open ones due around now, closed ones met or met late, reminders) is reported on, and every
tally of every grouping must equal what counting the clock and outbox rows one by one here gives."""

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bench.web import NOW, populate
from qixian.engine.clocks import ClockState
from qixian.legaltime.localtime import SHANGHAI
from qixian.store.tables import CaseRow, ClockRow, OutboxRow
from qixian.supervision.reports import Scope, day_start, report

MEASURES = ("assessed", "met", "met_late", "overdue", "pending", "reminders", "overdue_reminders")


def recount(store, start, end, now, scope: Scope) -> dict[str, Counter]:
    """{grouping: Counter((group key, measure) -> count)}, the total under "total", from the rows themselves."""
    with store.session() as session:
        cases = {c.id: c for c in session.execute(select(CaseRow)).scalars()}
        clocks = list(session.execute(select(ClockRow)).scalars())
        outbox = sorted(session.execute(select(OutboxRow)).scalars(), key=lambda row: row.id or 0)  # first row of a step first
    found: dict[str, Counter] = {name: Counter() for name in ("total", "rule", "unit", "officer", "week")}

    def add(rule_id, case_id, moment, measure):
        case = cases.get(case_id)
        unit, handler = (case.unit, case.handler) if case else (None, None)
        if (scope.unit and unit != scope.unit) or (scope.officer and handler != scope.officer):
            return
        day = moment.astimezone(SHANGHAI).date()
        keys = {"total": "", "rule": rule_id, "unit": unit or "", "officer": handler or "", "week": (day - timedelta(days=day.weekday())).isoformat()}
        for grouping, key in keys.items():
            found[grouping][(key, measure)] += 1

    for clock in clocks:
        if clock.due_at is None or not start <= clock.due_at < end or clock.outcome in (ClockState.CANCELLED, ClockState.RESTARTED):
            continue
        outcome = (
            "met"
            if clock.outcome == ClockState.MET
            else "met_late"
            if clock.outcome == ClockState.MET_LATE
            else "overdue"
            if clock.due_at <= now
            else "pending"
        )
        add(clock.rule_id, clock.case_id, clock.due_at, outcome)
        if outcome != "pending":
            add(clock.rule_id, clock.case_id, clock.due_at, "assessed")
    steps = set()
    for row in outbox:
        if start <= row.step_at < end and row.step_at <= now and (row.clock_id, row.due_at, row.step) not in steps:
            steps.add((row.clock_id, row.due_at, row.step))
            add(row.rule_id, row.case_id, row.step_at, "reminders")
            if row.level == "overdue":
                add(row.rule_id, row.case_id, row.step_at, "overdue_reminders")
    return found


def reported(result) -> dict[str, Counter]:
    tables = {
        "total": [("", result.total)],
        "rule": [(r.key, r.tally) for r in result.by_rule],
        "unit": [(r.key, r.tally) for r in result.by_unit],
        "officer": [(r.key, r.tally) for r in result.by_officer],
        "week": [(r.key, r.tally) for r in result.by_week],
    }
    return {
        grouping: Counter({(key, measure): getattr(tally, measure) for key, tally in rows for measure in MEASURES if getattr(tally, measure)})
        for grouping, rows in tables.items()
    }


def test_every_tally_equals_a_recount_of_the_rows(store, pack):
    populate(store, pack, 3000, officers=40, units=6, history_days=120)
    month = day_start(NOW.date().replace(day=1))
    periods = [
        (month, day_start(NOW.date() + timedelta(days=1))),  # the report page's default: the month so far
        (day_start((NOW.date().replace(day=1) - timedelta(days=1)).replace(day=1)), month),  # last month
        (day_start(NOW.date() - timedelta(days=100)), day_start(NOW.date() + timedelta(days=60))),
    ]
    for start, end in periods:
        for scope in (Scope(), Scope(unit="u002"), Scope(officer="o00008")):
            expected = recount(store, start, end, NOW, scope)
            assert sum(expected["total"].values()) > 0, (start, scope)
            assert reported(report(store, pack, start, end, NOW, scope)) == expected, (start, end, scope)
