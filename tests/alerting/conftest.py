"""A real local HTTP server standing in for the SMS gateway and the chat robots: it records every request and
answers as each test tells it to."""

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import ROOT
from tests.store.conftest import db_url, pack, pg_url, store  # noqa: F401 - the same SQLite/PostgreSQL fixtures


class Sink:
    def __init__(self):
        self.requests: list[dict] = []
        self.failing: dict[str, tuple[int, dict]] = {}  # path prefix -> (status, json answer)
        self.lock = threading.Lock()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {"raw": body.decode("utf-8", "replace")}
                keys = self.headers.get("X-Qixian-Idempotency-Key", "")
                with sink.lock:
                    sink.requests.append({"path": self.path, "keys": [k for k in keys.split(",") if k], "body": payload})
                status, answer = next(((s, a) for prefix, (s, a) in sink.failing.items() if self.path.startswith(prefix)),
                                      (200, {"code": 0}))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler

    def to(self, prefix: str) -> list[dict]:
        return [r for r in self.requests if r["path"].startswith(prefix)]

    def keys(self) -> list[str]:
        return [k for r in self.requests for k in r["keys"]]


@pytest.fixture
def sink():
    server = Sink()
    yield server
    server.server.shutdown()


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
