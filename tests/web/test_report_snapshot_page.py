"""The reports page served from a report snapshot, against the real server on SQLite and PostgreSQL: while the
snapshot of the view is fresh the page shows its figures and when they were counted (统计截至 …), once stale it
counts live and keeps the result; `qixian web --report-fresh` / QIXIAN_REPORT_FRESH set how long a snapshot serves;
with the real clock (stopped by freezegun) a snapshot ages as time passes."""

import dataclasses
import re
from datetime import datetime, timedelta

import uvicorn
from fastapi.testclient import TestClient

from qixian.cli import main
from qixian.legaltime.localtime import SHANGHAI, parse_local
from qixian.supervision.snapshots import View, fresh, keep, refresh, warm_views
from tests.clock import frozen_at
from tests.fixtures.dashboard import PASSWORD, SECRET, csrf_of, serving
from tests.paths import ROOT

SNAPSHOT_LINE = re.compile(r"统计截至 (\d\d:\d\d)（北京时间），数据最多滞后 (\d+) 分钟")


def assessed(page: str) -> int:
    found = re.search(r"应办结<b>(\d+)</b>", page)
    assert found, "the page shows no total"
    return int(found.group(1))


def doctored(store, pack, now: datetime, assessed: int) -> None:
    """The bureau's month to date kept as of `now`, its total changed to `assessed`: a figure the page can only have
    read from the snapshot."""
    [month] = warm_views(now)
    counted = month.compute(store, pack, now)
    keep(store, pack, month, dataclasses.replace(counted, total=dataclasses.replace(counted.total, assessed=assessed)))


def test_the_page_serves_a_fresh_snapshot_and_counts_live_once_it_is_stale(dashboard):
    store, pack, clock = dashboard.store, dashboard.pack, dashboard.clock  # 2025-10-07 02:30
    legal = dashboard.login("officer-7")
    live = assessed(legal.get("/reports").text)
    doctored(store, pack, clock.at, 4242)

    clock.at = parse_local("2025-10-07 02:40")  # ten minutes on: fresh
    page = legal.get("/reports").text
    assert SNAPSHOT_LINE.search(page).groups() == ("02:30", "10")
    assert assessed(page) == 4242 and "统计时点 2025-10-07 02:30" in page  # the snapshot's figures, as of 02:30

    clock.at = parse_local("2025-10-07 02:41")  # stale: counted now, nothing said about a snapshot
    page = legal.get("/reports").text
    assert SNAPSHOT_LINE.search(page) is None and assessed(page) == live and "统计时点 2025-10-07 02:41" in page
    assert store.report_snapshot(warm_views(clock.at)[0].key).computed_at == clock.at  # and kept for the next reader

    clock.at = parse_local("2025-10-07 02:45")
    page = legal.get("/reports").text
    assert SNAPSHOT_LINE.search(page).groups() == ("02:41", "10") and assessed(page) == live

    # another view (a unit, another period) is its own snapshot: the bureau's says nothing about it
    unit = legal.get("/reports", params={"unit": "jiaodong"}).text
    assert SNAPSHOT_LINE.search(unit) is None and "执法办案期限考核：胶东派出所" in unit
    assert SNAPSHOT_LINE.search(legal.get("/reports", params={"unit": "jiaodong"}).text).groups() == ("02:45", "10")


def test_each_role_reads_the_snapshot_of_its_own_view(dashboard):
    store, pack, clock = dashboard.store, dashboard.pack, dashboard.clock
    refresh(store, pack, clock.at)  # the bureau's month to date only
    leader = dashboard.login("officer-9").get("/reports").text
    assert "执法办案期限考核：城关派出所" in leader and SNAPSHOT_LINE.search(leader) is None  # counted for the unit
    officer = dashboard.login("officer-1").get("/reports").text
    assert "执法办案期限考核：民警 刘明" in officer and SNAPSHOT_LINE.search(officer) is None
    legal = dashboard.login("officer-7").get("/reports").text
    assert "执法办案期限考核：全局" in legal and SNAPSHOT_LINE.search(legal).groups() == ("02:30", "10")


def test_report_fresh_sets_how_long_a_snapshot_serves(world, store, pack):
    with serving(store, pack, world, report_fresh=30) as dashboard:
        legal = dashboard.login("officer-7")
        doctored(store, pack, dashboard.clock.at, 4242)
        dashboard.clock.at = parse_local("2025-10-07 03:00")
        page = legal.get("/reports").text
        assert SNAPSHOT_LINE.search(page).groups() == ("02:30", "30") and assessed(page) == 4242
        dashboard.clock.at = parse_local("2025-10-07 03:01")
        assert assessed(legal.get("/reports").text) != 4242


def test_qixian_web_takes_report_fresh_from_the_environment(store, pack, world, monkeypatch, capsys):
    """`qixian web` as ops start it, the server's run replaced by serving its application in-process."""
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app))
    monkeypatch.setenv("QIXIAN_WEB_SECRET", SECRET)
    monkeypatch.setenv("QIXIAN_REPORT_FRESH", "45")
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["web", "--db", url, "--rules", str(ROOT / "rules"), "--now", "2025-10-07 03:10"]) == 0
    doctored(store, pack, parse_local("2025-10-07 02:30"), 4242)  # 40 minutes before the page's time
    with TestClient(served["app"], follow_redirects=False) as client:
        form = client.get("/login")
        assert client.post("/login", data={"officer": "officer-7", "password": PASSWORD, "csrf": csrf_of(form.text), "next": "/"}).status_code == 303
        page = client.get("/reports").text
    assert SNAPSHOT_LINE.search(page).groups() == ("02:30", "45") and assessed(page) == 4242
    assert main(["web", "--db", url, "--report-fresh", "0"]) == 2
    assert "--report-fresh 的值无效：应不小于 1" in capsys.readouterr().err


def test_a_snapshot_ages_with_the_real_clock(world, store, pack):
    with serving(store, pack, world, real_clock=True) as dashboard, frozen_at("2025-10-07 02:30", real_asyncio=True) as clock:
        legal = dashboard.login("officer-7")
        refresh(store, pack, datetime.now(SHANGHAI))  # as the refresh-report deployment does, on the real clock
        clock.move_to(parse_local("2025-10-07 02:39"))
        assert SNAPSHOT_LINE.search(legal.get("/reports").text).groups() == ("02:30", "10")
        clock.move_to(parse_local("2025-10-07 02:40") + timedelta(seconds=1))
        assert SNAPSHOT_LINE.search(legal.get("/reports").text) is None
        month = View(parse_local("2025-10-01 00:00").date(), parse_local("2025-10-07 00:00").date())
        assert fresh(store, pack, month, datetime.now(SHANGHAI)).now == datetime.now(SHANGHAI)  # counted live, kept
