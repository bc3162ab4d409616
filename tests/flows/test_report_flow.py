"""The weekly report flow, run for real through a Prefect server: artifacts kept, the unit leader told once."""

import json

from qixian.legaltime.localtime import parse_local
from qixian.store.repository import Store
from tests.paths import ROOT


def test_weekly_report_flow(prefect_server, sample_db, sink, notify_folder):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.report import weekly_report
    from qixian.supervision.summaries import period

    db, store = sample_db, Store.open(sample_db)
    # as of Wednesday 2025-10-08: last week is Monday 09-29 to Sunday 10-05
    assert [d.isoformat() for d in period("weekly", parse_local("2025-10-08 09:00").date())] == ["2025-09-29", "2025-10-06"]
    state = weekly_report(db=db, rules=str(ROOT / "rules"), notify=str(notify_folder), as_of="2025-10-08 09:00", return_state=True)
    assert state.is_completed()
    result = state.result()
    begin, end, now = parse_local("2025-09-29 00:00"), parse_local("2025-10-06 00:00"), parse_local("2025-10-08 09:00")
    due_in_week = [c for c in store.clocks() if c.due_at and begin <= c.due_at < end and c.outcome not in ("cancelled", "restarted")]
    assert result["assessed"] == len([c for c in due_in_week if c.outcome or c.due_at <= now]) > 0
    assert result["overdue"] == len([c for c in due_in_week if c.open and c.due_at <= now])
    leader = sink.to("/sms/13900000009")  # 周国平, the unit leader, has no chat: SMS
    assert len(leader) == 1 and "城关派出所" in leader[0]["body"]["message"] and f"应办结{result['assessed']}" in leader[0]["body"]["message"]
    assert result["leaders_told"] == 1 and result["leaders_failed"] == []

    again = weekly_report(db=db, rules=str(ROOT / "rules"), notify=str(notify_folder), as_of="2025-10-08 10:00")
    assert again["leaders_told"] == 1 and len(sink.to("/sms/13900000009")) == 1  # the same week: not sent twice

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["qixian-report-weekly", "qixian-report-weekly-units"])))
    kinds = {a.key: a for a in artifacts}
    assert set(kinds) == {"qixian-report-weekly", "qixian-report-weekly-units"}
    units = json.loads(kinds["qixian-report-weekly-units"].data)
    assert [(u["单位"], u["应办结"]) for u in units] == [("城关派出所", result["assessed"])]
    assert "执法办案期限考核" in kinds["qixian-report-weekly"].data


def test_daily_report_sends_the_delivery_logs_checkpoint_to_ops(prefect_server, sample_db, sink, notify_folder, monkeypatch, capsys):
    from flows.report import daily_report
    from qixian.cli import main
    from qixian.ops import audit

    monkeypatch.setenv(audit.KEY_ENV, "daily-report-test-audit-key-0123456789abcdef")
    channels = notify_folder / "channels.yaml"
    channels.write_text(channels.read_text(encoding="utf-8") + f'ops: ["json://127.0.0.1:{sink.port}/ops"]\n', encoding="utf-8")
    result = daily_report(db=sample_db, rules=str(ROOT / "rules"), notify=str(notify_folder), as_of="2025-10-08 09:00")
    [kept] = sink.to("/ops")
    assert kept["body"]["title"] == "发送记录检查点" and result["audit_checkpoint"] in kept["body"]["message"]
    rows = audit.verify(Store.open(sample_db), audit.signing_key()).rows
    assert rows >= 1 and f"count={rows} " in result["audit_checkpoint"]  # the leader's summary, sealed and counted
    capsys.readouterr()
    assert main(["audit", "verify", "--db", sample_db, "--checkpoint", kept["body"]["message"]]) == 0
    assert "对照 1 个检查点" in capsys.readouterr().out
