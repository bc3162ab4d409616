"""The scan flow, run for real through a Prefect server, delivering to a local HTTP sink."""

from tests.paths import ROOT


def test_scan_flow_delivers_once(prefect_server, sample_db, sink, notify_folder):
    from flows.scan import scan

    db = sample_db
    state = scan(db=db, rules=str(ROOT / "rules"), notify=str(notify_folder), as_of="2025-10-05 09:00", return_state=True)
    assert state.is_completed()
    first = state.result()
    assert first["owed"] > 0 and first["sent"] > 0 and first["failed"] == 0
    keys = sink.keys()
    again = scan(db=db, rules=str(ROOT / "rules"), notify=str(notify_folder), as_of="2025-10-05 09:00")
    assert again["owed"] == 0 and sink.keys() == keys and len(keys) == len(set(keys))


def test_a_scheduled_run_is_named_after_its_scheduled_time_not_when_it_started(prefect_server, tmp_path, notify_folder):
    """The run is created Scheduled for 09:00 and started later (now): its name is the scheduled minute."""
    from datetime import datetime

    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    from flows.scan import scan
    from qixian.legaltime.localtime import SHANGHAI
    from qixian.store.database import upgrade

    db = f"sqlite:///{tmp_path}/empty.db"
    upgrade(db)
    parameters = {"db": db, "rules": str(ROOT / "rules"), "notify": str(notify_folder)}
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(scan, parameters=parameters, state=Scheduled(scheduled_time=datetime(2025, 10, 5, 9, 0, 59, tzinfo=SHANGHAI)))
    state = run_flow(scan, flow_run=run, parameters=parameters, return_type="state")
    assert state.is_completed()
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(run.id).name == "scan 2025-10-05 09:00"


def test_the_scan_flow_logs_why_sending_failed(prefect_server, sample_db, sink, notify_folder, monkeypatch):
    from flows.scan import scan
    from tests.ops.test_failure_reasons import MISSING, broken_gateway

    broken_gateway(notify_folder, monkeypatch)
    result = scan(db=sample_db, rules=str(ROOT / "rules"), notify=str(notify_folder), as_of="2025-10-05 09:00")
    assert result["sent"] == 0 and result["failed"] > 0
    assert any(line.startswith("渠道配置发送失败（2025-10-05 09:00") and MISSING in line for line in result["failures"])
