"""The ingest flows, run for real through a Prefect server."""

import json

from sqlalchemy import text

from qixian.store.database import connect, upgrade
from qixian.store.repository import Store
from tests.paths import ROOT

SAMPLE = ROOT / "examples" / "events.jsonl"


def test_file_drop_flow(prefect_server, tmp_path):
    from flows.ingest import ingest_files

    db = f"sqlite:///{tmp_path}/q.db"
    upgrade(db)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.jsonl").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    state = ingest_files(str(drop), db=db, rules=str(ROOT / "rules"), return_state=True)
    assert state.is_completed()
    counts = state.result()
    assert (counts["accepted"], counts["quarantined"]) == (12, 2)
    again = ingest_files(str(drop), db=db, rules=str(ROOT / "rules"))
    assert (again["accepted"], again["duplicate"]) == (0, 12)
    assert len(Store.open(db).clocks(case="（2025）城关刑字第0001号")) > 5


def test_a_large_drop_is_replayed_in_worker_processes_inside_the_flow(prefect_server, tmp_path, monkeypatch):
    """More lines than a batch: the task forks replay workers from inside a Prefect run, and the clocks it writes
    are the ones a replay from the store gives."""
    from flows.ingest import ingest_files
    from qixian.casework.feeds import BATCH
    from qixian.casework.recompute import Replayer, recompute
    from qixian.casework.samplefeed import Feed
    from qixian.legaltime.localtime import parse_local
    from qixian.rulebook import load_pack

    db = f"sqlite:///{tmp_path}/q.db"
    upgrade(db)
    lines = list(Feed(seed=11, days=30).lines(600))
    assert len(lines) > BATCH
    (tmp_path / "big.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    replayers = []
    monkeypatch.setattr(Replayer, "__enter__", lambda self: replayers.append(self) or self)
    counts = ingest_files(str(tmp_path / "big.jsonl"), db=db, rules=str(ROOT / "rules"))
    assert (counts["lines"], counts["accepted"], counts["quarantined"]) == (len(lines), len(lines), 0)
    assert [r.workers > 0 for r in replayers] == [True]
    store = Store.open(db)
    again = recompute(store, load_pack(ROOT / "rules"), store.case_ids(), parse_local("2025-10-15 09:00"))
    assert again.clocks > 1000 and again.changed == 0


def test_view_polling_flow(prefect_server, tmp_path):
    from flows.ingest import ingest_view

    db = f"sqlite:///{tmp_path}/q.db"
    upgrade(db)
    source = f"sqlite:///{tmp_path}/case_system.db"
    engine = connect(source)
    with engine.begin() as connection:
        connection.execute(text('CREATE TABLE v (updated TEXT, id TEXT, "case" TEXT, type TEXT, at TEXT, person TEXT)'))
        for row in (json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[4:8]):
            connection.execute(text("INSERT INTO v VALUES (:at, :id, :case, :type, :at, :person)"), row)
    engine.dispose()
    query = 'SELECT updated, id, "case", type, at, person FROM v WHERE updated >= :watermark ORDER BY updated'
    counts = ingest_view(source, query, watermark_column="updated", db=db, rules=str(ROOT / "rules"))
    assert counts["accepted"] == 4
    assert Store.open(db).watermark("sql:case-system") == "2025-09-30 09:00"
