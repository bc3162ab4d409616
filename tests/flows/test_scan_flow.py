"""The scan flow, run for real through a Prefect server, delivering to a local HTTP sink."""

from qixian.directory import read_directory
from qixian.feeds import ingest_path
from qixian.localtime import parse_local
from qixian.rulebook import load_pack
from qixian.store.database import upgrade
from qixian.store.repository import Store
from tests.alerting.conftest import notify_folder, sink  # noqa: F401 - the local sink and its notify folder
from tests.conftest import ROOT


def test_scan_flow_delivers_once(prefect_server, tmp_path, sink, notify_folder):  # noqa: F811 - fixtures
    from flows.scan import scan

    db = f"sqlite:///{tmp_path}/q.db"
    upgrade(db)
    store = Store.open(db)
    store.replace_directory(read_directory(notify_folder / "directory.yaml"))
    ingest_path(store, load_pack(ROOT / "rules"), ROOT / "examples" / "events.jsonl", source="case-system",
                now=parse_local("2025-09-29 16:00"))
    state = scan(db=db, rules=str(ROOT / "rules"), notify=str(notify_folder), as_of="2025-10-05 09:00", return_state=True)
    assert state.is_completed()
    first = state.result()
    assert first["owed"] > 0 and first["sent"] > 0 and first["failed"] == 0
    keys = sink.keys()
    again = scan(db=db, rules=str(ROOT / "rules"), notify=str(notify_folder), as_of="2025-10-05 09:00")
    assert again["owed"] == 0 and sink.keys() == keys and len(keys) == len(set(keys))
