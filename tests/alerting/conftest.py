"""A real local HTTP server standing in for the SMS gateway and the chat robots: it records every request and
answers as each test tells it to."""

import shutil

import pytest

from sqlalchemy import select

from qixian.alerting.localsink import LocalSink
from qixian.store.tables import OutboxRow

from tests.conftest import ROOT
from tests.store.conftest import db_url, pack, pg_url, store  # noqa: F401 - the same SQLite/PostgreSQL fixtures


@pytest.fixture
def sink():
    server = LocalSink()
    yield server
    server.close()


@pytest.fixture
def notify_folder(tmp_path, sink):
    """A notify/ folder whose SMS gateway and chat robots are the local sink (apprise json://)."""
    folder = tmp_path / "notify"
    shutil.copytree(ROOT / "notify" / "templates", folder / "templates")
    (folder / "channels.yaml").write_text(
        f'sms: "json://127.0.0.1:{sink.port}/sms/{{phone}}"\n'
        "levels: {notice: [chat, sms], warning: [chat, sms, duty], overdue: [chat, sms, duty]}\n"
        "retry: {tries: 2, backoff: [1 minute, 5 minutes]}\nsms_max_segments: 3\n", encoding="utf-8")
    (folder / "directory.yaml").write_text(
        "units:\n"
        '  - {id: chengguan, name: 城关派出所, leader: officer-9, legal_officer: officer-8, duty_phone: "13800000000"}\n'
        "officers:\n"
        f'  - {{id: officer-1, name: 刘明, unit: chengguan, phone: "13900000001", urls: ["json://127.0.0.1:{sink.port}/chat/officer-1"]}}\n'
        '  - {id: officer-3, name: 赵强, unit: chengguan, phone: "13900000003"}\n'
        '  - {id: officer-8, name: 孙静, unit: chengguan, phone: "13900000008"}\n'
        '  - {id: officer-9, name: 周国平, unit: chengguan, phone: "13900000009"}\n', encoding="utf-8")
    return folder


def outbox_rows(store) -> list[OutboxRow]:
    """The outbox as stored, read in a session that is closed again (an open one would hold PostgreSQL locks)."""
    with store.session() as session:
        return list(session.exec(select(OutboxRow).order_by(OutboxRow.id)).scalars())
