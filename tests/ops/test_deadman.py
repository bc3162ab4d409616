"""The dead-man's switch: `qixian health --alert`, run by cron or a systemd timer (not by Prefect), tells ops on
their own channel when no scan has completed for 3 intervals; while scans run, it sends nothing."""

import os
import subprocess
import sys
from pathlib import Path

from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.casework.directory import read_directory
from qixian.legaltime.localtime import parse_local
from tests.paths import RULES

QIXIAN = str(Path(sys.executable).with_name("qixian"))


def with_ops(notify_folder, sink):
    channels = notify_folder / "channels.yaml"
    channels.write_text(channels.read_text(encoding="utf-8") + f'ops: ["json://127.0.0.1:{sink.port}/ops"]\n', encoding="utf-8")


def health_alert(db_url, notify_folder, now):
    """As cron runs it: a separate process, settings from the environment."""
    env = {**os.environ, "QIXIAN_DB": db_url, "QIXIAN_RULES": str(RULES), "QIXIAN_NOTIFY": str(notify_folder)}
    return subprocess.run([QIXIAN, "health", "--alert", "--now", now], env=env, capture_output=True, text=True, timeout=120)


def test_ops_are_alerted_when_scans_stop_and_not_while_they_run(store, db_url, pack, notify_folder, sink):
    with_ops(notify_folder, sink)
    store.replace_directory(read_directory(notify_folder / "directory.yaml"))
    scan(store, pack, NotifyConfig.load(notify_folder), parse_local("2025-10-05 09:00"))
    quiet = health_alert(db_url, notify_folder, "2025-10-05 09:02")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert sink.to("/ops") == []
    stopped = health_alert(db_url, notify_folder, "2025-10-05 09:10")  # 10 minutes: more than 3 one-minute intervals
    assert stopped.returncode == 1 and "已送达" in stopped.stdout
    alerts = sink.to("/ops")
    assert len(alerts) == 1
    assert "异常" in alerts[0]["body"]["title"] and "最近一次扫描" in alerts[0]["body"]["message"]


def test_the_alert_goes_out_when_the_database_itself_is_down(notify_folder, sink):
    with_ops(notify_folder, sink)
    stopped = health_alert("postgresql://postgres@127.0.0.1:1/none", notify_folder, "2025-10-05 09:10")
    assert stopped.returncode == 1
    assert len(sink.to("/ops")) == 1 and "案件库" in sink.to("/ops")[0]["body"]["message"]


def test_alert_without_an_ops_channel_says_what_to_configure(notify_folder, tmp_path):
    env = {**os.environ, "QIXIAN_DB": f"sqlite:///{tmp_path}/q.db", "QIXIAN_NOTIFY": str(notify_folder)}
    done = subprocess.run([QIXIAN, "health", "--alert"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "ops" in done.stderr
