"""The report snapshots' refresh, run for real through a Prefect server, and scheduled every five minutes both by
`qixian serve` and in deployments/prefect.yaml."""

from datetime import timedelta

import yaml

from qixian.legaltime.localtime import parse_local
from qixian.rulebook import load_pack
from qixian.store.repository import Store
from qixian.supervision.snapshots import View, fresh, warm_views
from tests.paths import ROOT


def test_the_refresh_flow_keeps_the_month_to_date_snapshot(prefect_server, sample_db):
    from flows.report import refresh_report

    store, pack = Store.open(sample_db), load_pack(ROOT / "rules")
    now = parse_local("2025-10-08 09:00")
    [month] = warm_views(now)
    assert month == View(parse_local("2025-10-01 00:00").date(), now.date())
    state = refresh_report(db=sample_db, rules=str(ROOT / "rules"), as_of="2025-10-08 09:00", return_state=True)
    assert state.is_completed()
    assert state.result() == {"views": [month.key], "dropped": 0}
    kept = fresh(store, pack, month, now + timedelta(minutes=1))
    assert kept is not None and kept == month.compute(store, pack, now) and kept.total.assessed > 0

    a_day_later = refresh_report(db=sample_db, rules=str(ROOT / "rules"), as_of="2025-10-09 09:01")
    assert a_day_later["dropped"] == 1 and store.report_snapshot(month.key) is None  # 10-01..10-08, more than a day old


def test_serve_and_the_deployments_refresh_the_snapshots_every_five_minutes():
    from flows.report import refresh_report
    from qixian.cli.serve import REFRESH_SECONDS, scheduled

    deployments, plan = scheduled(None, None, None, None)
    [served] = [d for d in deployments if d.name == "refresh-report"]
    assert served.flow_name == refresh_report.name == "qixian-report-refresh"
    assert [s.schedule.interval for s in served.schedules] == [timedelta(seconds=REFRESH_SECONDS)] == [timedelta(minutes=5)]
    assert any("考核报表" in line for line in plan)
    listed = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    [declared] = [d for d in listed if d["name"] == "refresh-report"]
    assert declared["entrypoint"] == "flows/report.py:refresh_report" and [s["interval"] for s in declared["schedules"]] == [REFRESH_SECONDS]
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule  # what `prefect deploy` reads it with

    [schedule] = [_schedule_config_to_deployment_schedule(s)["schedule"] for s in declared["schedules"]]
    assert schedule.interval == timedelta(minutes=5) and schedule.timezone == "Asia/Shanghai"
