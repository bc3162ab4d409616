"""`qixian serve` as ops start it on one machine: it brings up a local Prefect server, serves the scan, the scan
runs on the minute, and stopping serve stops the server too."""

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

from qixian.store.database import upgrade
from tests.paths import ROOT

QIXIAN = Path(sys.executable).with_name("qixian")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_serve_runs_the_scan_on_the_minute_and_stops_cleanly(tmp_path):
    db = f"sqlite:///{tmp_path}/q.db"
    upgrade(db)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "QIXIAN_DB": db,
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        }
    )
    serve = subprocess.Popen(
        [str(QIXIAN), "serve", "--port", str(port), "--rules", str(ROOT / "rules"), "--notify", str(ROOT / "notify")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []

    def scan_completed() -> bool:
        return any("Flow run 'scan " in line and "Finished in state Completed" in line for line in lines)

    threading.Thread(target=lambda: lines.extend(iter(serve.stdout.readline, "")), daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not scan_completed():
            assert serve.poll() is None, "".join(lines)
            time.sleep(1)
        output = "".join(lines)
        assert "Prefect 服务已就绪" in output and "scan-every-minute" in output
        assert scan_completed(), output
        assert listening(port)
        # Prefect's own database (every run's parameters) is in folders only the owner can open
        assert {stat.S_IMODE(f.stat().st_mode) for f in (tmp_path / ".qixian", tmp_path / ".qixian" / "prefect")} == {0o700}
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            raise
    for _ in range(30):
        if not listening(port):
            break
        time.sleep(1)
    assert not listening(port), "the local Prefect server was left running"
