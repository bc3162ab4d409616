"""The dashboard served for real: uvicorn on a free local port, over a store on SQLite and on PostgreSQL, with a
directory of two units and officers of every role, the sample cases plus one of another unit, and a local HTTP sink
standing in for chat and SMS."""

import json
import re
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

import httpx
import pytest
import uvicorn

from qixian.casework.directory import read_directory
from qixian.casework.feeds import ingest_path
from qixian.legaltime.localtime import parse_local
from qixian.web.app import SERVER, create_app
from qixian.web.auth import hash_password
from tests.alerting.conftest import notify_folder, sink  # noqa: F401 - the local sink standing in for SMS and chat
from tests.conftest import ROOT
from tests.store.conftest import db_url, pack, pg_url, store  # noqa: F401 - every test on SQLite and PostgreSQL

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse 7"
SAMPLE = ROOT / "examples" / "events.jsonl"
THEFT = "（2025）城关刑字第0001号"     # chengguan, handler officer-1, co-handler officer-2
FIGHT = "（2025）城关治字第0002号"     # chengguan, handler officer-3
HARBOUR = "（2025）胶东警字第0003号"   # jiaodong, handler officer-5
# Who sees what, by the rules in qixian.web.access, worked out from the directory below.
SEES = {"officer-1": {THEFT}, "officer-2": {THEFT}, "officer-3": {FIGHT}, "officer-5": {HARBOUR},
        "officer-9": {THEFT, FIGHT}, "officer-8": {THEFT, FIGHT}, "officer-6": {HARBOUR},
        "officer-7": {THEFT, FIGHT, HARBOUR}}


def directory_yaml(sink_port: int) -> str:
    return (
        "units:\n"
        '  - {id: chengguan, name: 城关派出所, leader: officer-9, legal_officer: officer-8, duty_phone: "13800000000"}\n'
        '  - {id: jiaodong, name: 胶东派出所, leader: officer-6, duty_phone: "13800000001"}\n'
        "  - {id: fazhi, name: 法制大队}\n"
        "officers:\n"
        f'  - {{id: officer-1, name: 刘明, unit: chengguan, phone: "13900000001", urls: ["json://127.0.0.1:{sink_port}/chat/officer-1"]}}\n'
        '  - {id: officer-2, name: 王芳, unit: chengguan, phone: "13900000002"}\n'
        '  - {id: officer-3, name: 赵强, unit: chengguan, phone: "13900000003"}\n'
        '  - {id: officer-5, name: 钱亮, unit: jiaodong, phone: "13900000005"}\n'
        '  - {id: officer-6, name: 吴刚, unit: jiaodong, phone: "13900000006"}\n'
        '  - {id: officer-7, name: 郑洁, unit: fazhi, phone: "13900000007", roles: [legal_affairs]}\n'
        '  - {id: officer-8, name: 孙静, unit: chengguan, phone: "13900000008"}\n'
        '  - {id: officer-9, name: 周国平, unit: chengguan, phone: "13900000009"}\n')


class Clock:
    """The dashboard's "now", moved by the test."""

    def __init__(self, at: str):
        self.at = parse_local(at)

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Dashboard:
    url: str
    store: object
    pack: object
    clock: Clock
    world: object = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)

    def login(self, officer: str, password: str = PASSWORD) -> httpx.Client:
        client = self.client()
        page = client.get("/login")
        response = client.post("/login", data={"officer": officer, "password": password, "csrf": csrf_of(page.text),
                                               "next": "/"})
        assert response.status_code == 303, response.text
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


def cases_on(html: str) -> set[str]:
    return {unquote(m) for m in re.findall(r'href="/case\?id=([^"#]+)"', html)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def world(store, pack, tmp_path, sink, notify_folder):  # noqa: F811 - fixtures imported above
    (notify_folder / "directory.yaml").write_text(directory_yaml(sink.port), encoding="utf-8")
    store.replace_directory(read_directory(notify_folder / "directory.yaml"))
    ingest_path(store, pack, SAMPLE, source="case-system", now=parse_local("2025-09-29 16:00"))
    harbour = tmp_path / "harbour.jsonl"
    harbour.write_text(json.dumps({"id": "h-1", "case": HARBOUR, "type": "emergency_handled", "at": "2025-10-06 10:00",
                                   "case_info": {"kind": "incident", "title": "胶东码头纠纷", "unit": "jiaodong",
                                                 "handler": "officer-5"}}, ensure_ascii=False) + "\n", encoding="utf-8")
    ingest_path(store, pack, harbour, source="case-system", now=parse_local("2025-10-06 10:05"))
    hashed = hash_password(PASSWORD)  # one hash for all: scrypt is slow on purpose
    for officer in SEES:
        store.set_password_hash(officer, hashed, parse_local("2025-09-29 08:00"))
    return notify_folder


@contextmanager
def serving(store, pack, world, **options):
    """The dashboard served by uvicorn as `qixian web` serves it, on a free local port, its clock held by the test."""
    clock = Clock("2025-10-07 02:30")
    app = create_app(store, pack, secret=SECRET.encode(), clock=clock, **options)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", **SERVER))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.02)
    yield Dashboard(f"http://127.0.0.1:{port}", store, pack, clock, world)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def dashboard(world, store, pack):  # noqa: F811
    """Served with no trusted proxy (the default): the address connecting is the browser's."""
    with serving(store, pack, world) as served:
        yield served


@pytest.fixture
def proxied_dashboard(world, store, pack):  # noqa: F811
    """Served behind a reverse proxy on this machine (--trusted-proxy 127.0.0.1): the tests' X-Forwarded-For stands
    for the address the proxy saw."""
    with serving(store, pack, world, trusted_proxies=("127.0.0.1",)) as served:
        yield served
