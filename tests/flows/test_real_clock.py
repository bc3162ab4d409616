"""The scan as `qixian serve` schedules it: the deployment gives no time, so each run reads the real clock when it
starts. Run through a real Prefect server with the clock set by freezegun (ticking on from there: Prefect
records each state change at its own time): just after the sample's events were read no reminder is owed yet; on
5 October at 09:00 that morning's are, and the scan is recorded for the moment it ran."""

from datetime import timedelta

from sqlalchemy import select

from qixian.cli.serve import scheduled
from qixian.legaltime.localtime import parse_local
from qixian.store.repository import Store
from qixian.store.tables import ScanRunRow
from tests.clock import frozen_at
from tests.paths import ROOT


def test_the_scheduled_scan_reads_the_clock_when_it_runs(prefect_server, sample_db, sink, notify_folder):
    from flows.scan import scan

    deployments, _ = scheduled(None, notify_folder, sample_db, ROOT / "rules")
    (every_minute,) = [d for d in deployments if d.name == "scan-every-minute"]
    assert "as_of" not in every_minute.parameters
    moments = ("2025-09-29 16:00", "2025-10-05 09:00")
    results = []
    for moment in moments:
        with frozen_at(moment, tick=True):
            results.append(scan(**every_minute.parameters))
    quiet, morning = results
    assert (quiet["owed"], morning["owed"] > 0, morning["sent"] > 0) == (0, True, True)
    with Store.open(sample_db).session() as session:
        runs = session.exec(select(ScanRunRow.as_of).order_by(ScanRunRow.id)).scalars().all()
    assert len(runs) == 2 and all(parse_local(at) <= run < parse_local(at) + timedelta(minutes=1) for run, at in zip(runs, moments, strict=False))


def test_the_daily_report_covers_yesterday_in_beijing(prefect_server, sample_db, sink, notify_folder):
    """At 00:30 on 7 October in Beijing it is still 6 October in UTC: the report read from the real clock covers
    6 October (a UTC date would give 5 October)."""
    from flows.report import daily_report

    with frozen_at("2025-10-07 00:30", tick=True):
        result = daily_report(db=sample_db, rules=str(ROOT / "rules"), notify=str(notify_folder))
    assert (result["from"], result["to"]) == ("2025-10-06", "2025-10-07")


def test_the_drop_folder_ingest_records_when_the_events_arrived(prefect_server, tmp_path, notify_folder):
    from flows.ingest import ingest_files
    from qixian.store.database import upgrade
    from qixian.store.tables import EventRow

    db, drop = f"sqlite:///{tmp_path}/q.db", tmp_path / "drop"
    upgrade(db)
    drop.mkdir()
    (drop / "events.jsonl").write_bytes((ROOT / "examples" / "events.jsonl").read_bytes())
    with frozen_at("2025-09-29 16:00", tick=True):
        counts = ingest_files(path=str(drop), db=db, rules=str(ROOT / "rules"))
    with Store.open(db).session() as session:
        received = set(session.exec(select(EventRow.received_at)).scalars())
    assert counts["accepted"] > 0 and len(received) == 1
    (moment,) = received
    assert parse_local("2025-09-29 16:00") <= moment < parse_local("2025-09-29 16:01")
