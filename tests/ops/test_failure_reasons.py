"""Why sending fails, said where people look: with the SMS gateway's address needing an environment variable that
is not set and the chat robot answering 500, the scan's output, `qixian health` (the channels check) and the scan
flow's result name each failing channel with its reason, when, and what to do (all read by qixian.alerting.failures)."""

import json
import re

from qixian.alerting.failures import failing
from qixian.cli import main
from qixian.legaltime.localtime import parse_local
from qixian.store.repository import Store
from tests.paths import ROOT, RULES

MISSING = "渠道地址需要环境变量 QIXIAN_SMS_GATEWAY，但它没有设置"


def broken_gateway(notify_folder, monkeypatch) -> None:
    monkeypatch.delenv("QIXIAN_SMS_GATEWAY", raising=False)
    channels = notify_folder / "channels.yaml"
    text = channels.read_text(encoding="utf-8").splitlines()
    text[0] = 'sms: "json://${QIXIAN_SMS_GATEWAY}/sms/{phone}"'
    channels.write_text("\n".join(text) + "\n", encoding="utf-8")


def run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_scan_and_health_say_why_sending_failed(db_url, notify_folder, sink, capsys, monkeypatch):
    broken_gateway(notify_folder, monkeypatch)
    sink.failing["/chat/"] = (500, {"errcode": 1, "errmsg": "robot disabled"})
    common = ["--db", db_url, "--rules", str(RULES)]
    assert main(["directory", "load", str(notify_folder / "directory.yaml"), "--db", db_url]) == 0
    assert main(["ingest", str(ROOT / "examples" / "events.jsonl"), *common, "--now", "2025-09-29 16:00"]) == 0
    code, out = run(capsys, "scan", *common, "--notify", str(notify_folder), "--now", "2025-10-05 09:00")
    assert code == 0 and "已发送 0 条消息" in out
    assert "渠道配置发送失败（2025-10-05 09:00" in out and MISSING in out and "设置所缺的环境变量" in out
    assert "，刘明）" in out or "，周国平）" in out or "，孙静）" in out or "，赵强）" in out  # names, not ids

    code, out = run(capsys, "health", "--json", *common, "--now", "2025-10-05 09:01")
    channels = json.loads(out)["checks"]["channels"]
    assert channels["status"] == "unhealthy"
    by_kind = {f["channel"]: f for f in channels["failing"]}
    assert set(by_kind) == {"config"}  # no channel could even be tried
    assert by_kind["config"]["reason"] == MISSING and by_kind["config"]["at"].startswith("2025-10-05T09:00")
    code, out = run(capsys, "health", *common, "--now", "2025-10-05 09:01")
    flat = re.sub(r"[\s│┃]", "", out)  # the table folds long lines
    assert "发送渠道" in flat and MISSING.replace(" ", "") in flat

    monkeypatch.setenv("QIXIAN_SMS_GATEWAY", f"127.0.0.1:{sink.port}")  # the gateway set; the chat robot still down
    code, out = run(capsys, "scan", *common, "--notify", str(notify_folder), "--now", "2025-10-05 09:10")
    assert "已发送 0 条消息" not in out
    code, out = run(capsys, "health", "--json", *common, "--now", "2025-10-05 09:11")
    failing_now = json.loads(out)["checks"]["channels"]["failing"]
    assert [(f["channel"], f["recipient"]) for f in failing_now] == [("chat", "刘明")]  # SMS took over; config is fixed
    assert "500" in failing_now[0]["reason"] and "工作群地址" in failing_now[0]["to_do"]

    sink.failing.clear()  # the robot is back
    assert main(["scan", *common, "--notify", str(notify_folder), "--now", "2025-10-06 09:00"]) == 0
    capsys.readouterr()
    assert failing(Store.open(db_url), parse_local("2025-10-06 09:01")) == []
    code, out = run(capsys, "health", "--json", *common, "--now", "2025-10-06 09:01")
    assert json.loads(out)["checks"]["channels"]["status"] == "ok"
