"""One real Prefect server for the flow tests (about 9 s to start), heartbeats off, nothing phoned home."""

import os
import tempfile

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="qixian-prefect-"))

import pytest


@pytest.fixture(scope="package")  # stopped after the flow tests: its services would run on through the rest
def prefect_server():
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90), temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@pytest.fixture
def sample_db(tmp_path, notify_folder):
    """A SQLite store holding the notify folder's directory and examples/events.jsonl; its URL."""
    from qixian.casework.directory import read_directory
    from qixian.casework.feeds import ingest_path
    from qixian.legaltime.localtime import parse_local
    from qixian.rulebook import load_pack
    from qixian.store.database import upgrade
    from qixian.store.repository import Store
    from tests.paths import ROOT

    db = f"sqlite:///{tmp_path}/q.db"
    upgrade(db)
    store = Store.open(db)
    store.replace_directory(read_directory(notify_folder / "directory.yaml"))
    ingest_path(store, load_pack(ROOT / "rules"), ROOT / "examples" / "events.jsonl", source="case-system", now=parse_local("2025-09-29 16:00"))
    store.engine.dispose()
    return db
