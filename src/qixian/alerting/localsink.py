"""A small local HTTP server that stands in for the SMS gateway and chat robots (for `qixian demo` and the tests):
it records every request, with the idempotency keys it carried, and answers as told."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalSink:
    def __init__(self, host: str = "127.0.0.1"):
        self.requests: list[dict] = []
        self.failing: dict[str, tuple[int, dict]] = {}  # path prefix -> (status, JSON answer)
        self.delay = 0.0  # seconds to wait before answering (a slow provider)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, 0), self._handler())
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {"raw": body.decode("utf-8", "replace")}
                keys = self.headers.get("X-Qixian-Idempotency-Key", "")
                with sink.lock:
                    sink.requests.append({"path": self.path, "keys": [k for k in keys.split(",") if k], "body": payload})
                time.sleep(sink.delay)
                status, answer = next(((s, a) for prefix, (s, a) in sink.failing.items() if self.path.startswith(prefix)), (200, {"code": 0}))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        return Handler

    def to(self, prefix: str) -> list[dict]:
        return [r for r in self.requests if r["path"].startswith(prefix)]

    def keys(self) -> list[str]:
        return [k for r in self.requests for k in r["keys"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
