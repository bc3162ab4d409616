"""The dashboard as `qixian web` serves it, with no clock given: it reads the real time at each request. The clock is
stopped (freezegun) a minute either side of a session's end and of an acknowledgement link's end; the link is made
by a scan that also reads the real clock (`qixian scan` without --now). A dashboard that read the time once at start,
or read UTC as Beijing time, would let the session or the link live on past its end, or end it early."""

import re
from datetime import timedelta

import pytest

from qixian.alerting.signing import LINK_LIFETIME
from qixian.cli import main
from qixian.legaltime.localtime import parse_local
from qixian.web.auth import SESSION_HOURS
from tests.clock import frozen_at
from tests.fixtures.dashboard import serving
from tests.paths import RULES


@pytest.fixture
def dashboard_on_real_time(world, store, pack):
    with serving(store, pack, world, real_clock=True) as served:
        yield served


def at(moment: str, delta: timedelta = timedelta()):
    return parse_local(moment) + delta


def test_a_session_ends_twelve_hours_after_sign_in_by_the_real_clock(dashboard_on_real_time):
    dashboard = dashboard_on_real_time
    signed_in, hours = "2025-10-07 02:30", timedelta(hours=SESSION_HOURS)
    with frozen_at(signed_in, real_asyncio=True) as clock:
        client = dashboard.login("officer-1")
        clock.move_to(at(signed_in, hours - timedelta(minutes=1)))
        page = client.get("/")
        assert page.status_code == 200 and "2025-10-07 14:29" in page.text  # the page shows the moment it read
        clock.move_to(at(signed_in, hours + timedelta(minutes=1)))
        ended = client.get("/")
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")


def test_an_acknowledgement_link_works_for_seven_days_from_the_scan_by_the_real_clock(dashboard_on_real_time, db_url, sink, monkeypatch, capsys):
    dashboard = dashboard_on_real_time
    monkeypatch.setenv("QIXIAN_WEB_SECRET", "test-secret-" + "x" * 40)
    monkeypatch.setenv("QIXIAN_WEB_URL", dashboard.url)
    scanned = "2025-10-06 09:00"  # the day before the arrest request's due: the officer's reminder carries a link
    with frozen_at(scanned):
        assert main(["scan", "--db", db_url, "--rules", str(RULES), "--notify", str(dashboard.world)]) == 0
    capsys.readouterr()
    links = [
        link
        for request in sink.to("/chat/officer-1")
        for label, link in re.findall(r"\[([^]]+)\]\((http://[^)]+)\)", request["body"]["message"])
        if label == "确认收到"
    ]
    assert links
    with frozen_at(scanned, real_asyncio=True) as clock, dashboard.client() as phone:
        clock.move_to(at(scanned, LINK_LIFETIME - timedelta(minutes=1)))
        page = phone.get(links[0])
        assert page.status_code == 200 and "确认收到" in page.text and "已过期" not in page.text
        clock.move_to(at(scanned, LINK_LIFETIME + timedelta(minutes=1)))
        expired = phone.get(links[0])
        assert expired.status_code == 400 and "已过期" in expired.text
