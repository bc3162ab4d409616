"""A real local HTTP server that plays the provider, and apprise with Qixian's plugins loaded."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import apprise
import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "notify" / "plugins"


@dataclass
class Seen:
    """One request as the fake provider received it."""

    method: str
    target: str  # path plus query, as sent
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("ascii"), keep_blank_values=True, strict_parsing=True))


@dataclass
class FakeProvider:
    """Records every request and answers each with the configured (status, JSON body) after `delay` s."""

    status: int = 200
    answer: Any = field(default_factory=dict)
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    def reply(self, status: int, answer: Any, delay: float = 0.0) -> None:
        self.status, self.answer, self.delay = status, answer, delay

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                provider.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)))
                if provider.delay:
                    provider.stopping.wait(provider.delay)
                answer = provider.answer
                raw = answer if isinstance(answer, bytes) else json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):  # keep the test output quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):  # the client gave up (timeout test)
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy_for_localhost(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def provider():
    fake = FakeProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def make_apprise():
    """Apprise loaded exactly as production loads it: plugin_paths pointing at notify/plugins."""

    def make(*urls: str) -> apprise.Apprise:
        notifier = apprise.Apprise(asset=apprise.AppriseAsset(plugin_paths=[str(PLUGINS)]))
        for url in urls:
            assert notifier.add(url), f"apprise refused {url.split('://')[0]}://"
        return notifier

    return make


def plugin_module(name: str) -> ModuleType:
    """The plugin module apprise imported from notify/plugins/<name>.py."""
    apprise.Apprise(asset=apprise.AppriseAsset(plugin_paths=[str(PLUGINS)]))
    wanted = str(PLUGINS / f"{name}.py")
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == wanted:
            return module
    raise LookupError(f"{wanted} was not imported by apprise")


@pytest.fixture
def logs(caplog, monkeypatch):
    """Every log record at DEBUG and above, from every logger (apprise, qixian.notify, urllib3 …)."""
    for name in ("apprise", "qixian.notify"):  # the delivery layer may have turned propagation off
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="apprise")
    caplog.set_level(logging.DEBUG, logger="qixian.notify")
    return caplog
