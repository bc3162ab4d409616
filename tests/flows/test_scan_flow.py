"""The scan flow, run for real through a Prefect server, delivering to a local HTTP sink."""

from tests.conftest import ROOT


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
