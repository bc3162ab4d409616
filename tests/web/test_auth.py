"""Signing in, against the real server: no data without a session, forms refused without their token, wrong
passwords refused, sessions that cannot be forged and end when the officer signs out, the password changes or the
account is removed, and each role seeing exactly its cases (worked out by hand from the directory in tests/fixtures/dashboard.py)."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from qixian.legaltime.localtime import parse_local
from qixian.store.signins import ADDRESS_FAILURES, OFFICER_EVERYWHERE, OFFICER_FAILURES, PAUSE, paused_until
from qixian.store.tables import AcknowledgementRow, OutboxRow, WebSessionRow
from qixian.web.auth import SESSION_COOKIE, hash_password, session_key
from tests.fixtures.dashboard import FIGHT, HARBOUR, PASSWORD, SEES, THEFT, cases_on, csrf_of

PAGES = ["/", "/overdue", "/anomalies", "/reminders", "/rules", "/rules/crim.detention.arrest_request", "/reports", f"/case?id={THEFT}", "/?light=red"]


def test_no_page_gives_data_without_signing_in(dashboard):
    with dashboard.client() as client:
        for page in PAGES:
            response = client.get(page)
            assert response.status_code == 303, page
            assert response.headers["location"].startswith("/login?next="), page
            assert "城关" not in response.text and "拘留" not in response.text, page
        refused = client.post("/reminders/1/ack", data={"csrf": "0" * 32})
        assert refused.status_code == 403 and "校验码" in refused.text
        login = client.get("/login")
        assert login.status_code == 200 and "民警编号" in login.text and THEFT not in login.text
        assert client.get("/static/style.css").status_code == 200
    assert dashboard.store.count(AcknowledgementRow) == 0


def test_wrong_password_and_unknown_officer_are_refused_alike(dashboard):
    with dashboard.client() as client:
        token = csrf_of(client.get("/login").text)
        for officer, password in (("officer-1", "wrong password 1"), ("officer-404", PASSWORD), ("officer-1", ""), ("x" * 300, PASSWORD)):
            response = client.post("/login", data={"officer": officer, "password": password, "csrf": token})
            assert response.status_code == 401 and "民警编号或密码不正确" in response.text
            assert SESSION_COOKIE not in response.cookies
        assert client.get("/").status_code == 303


def attempt(client, officer: str, password: str, address: str | None = None):
    """One sign-in from 127.0.0.1, with `address` in X-Forwarded-For (as a reverse proxy would report the browser's)."""
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/login", data={"officer": officer, "password": password, "csrf": csrf_of(client.get("/login").text)}, headers=headers)


def test_guessing_an_officers_password_pauses_that_id_for_a_while(dashboard):
    with dashboard.client() as client:
        for _ in range(OFFICER_FAILURES):
            assert attempt(client, "officer-1", "a guess 12345").status_code == 401
        paused = attempt(client, "officer-1", PASSWORD)  # the right password, but the id is paused
        assert paused.status_code == 429 and SESSION_COOKIE not in paused.cookies
        assert "暂停登录至 2025-10-07 02:45（约 15 分钟）" in paused.text  # the dashboard's clock stands at 02:30
        for _ in range(OFFICER_FAILURES):  # an unknown id is answered alike
            assert attempt(client, "officer-404", "a guess 12345").status_code == 401
        assert attempt(client, "officer-404", PASSWORD).status_code == 429
    dashboard.login("officer-2")  # others sign in as usual
    dashboard.clock.at += timedelta(minutes=10)
    with dashboard.client() as client:
        assert "约 5 分钟" in attempt(client, "officer-1", PASSWORD).text
        dashboard.clock.at += timedelta(minutes=5)
        assert attempt(client, "officer-1", PASSWORD).status_code == 303
    attempts = [(r.officer, r.ok) for r in dashboard.store.sign_ins()]
    assert attempts.count(("officer-1", False)) == OFFICER_FAILURES and attempts[-1] == ("officer-1", True)
    assert ("officer-2", True) in attempts and len(attempts) == 2 * OFFICER_FAILURES + 2  # paused tries are not counted


def test_a_success_or_a_new_password_starts_an_ids_count_again(dashboard):
    with dashboard.client() as client:
        for _ in range(OFFICER_FAILURES - 1):
            assert attempt(client, "officer-1", "a guess 12345").status_code == 401
        assert attempt(client, "officer-1", PASSWORD).status_code == 303
        for _ in range(OFFICER_FAILURES - 1):
            assert attempt(client, "officer-1", "a guess 12345").status_code == 401
        dashboard.clock.at += timedelta(minutes=1)
        dashboard.store.set_password_hash("officer-1", hash_password(PASSWORD), dashboard.clock.at)
        assert attempt(client, "officer-1", "a guess 12345").status_code == 401
        assert attempt(client, "officer-1", PASSWORD).status_code == 303


def test_many_ids_tried_from_one_address_pause_that_address(dashboard):
    with dashboard.client() as client:
        for number in range(ADDRESS_FAILURES):
            assert attempt(client, f"officer-{100 + number}", "a guess 12345").status_code == 401
        assert attempt(client, "officer-2", PASSWORD).status_code == 429  # each id failed once only: the address
    dashboard.clock.at += PAUSE
    dashboard.login("officer-2")


def test_an_id_paused_at_one_address_signs_in_from_another_but_guessing_from_many_pauses_it_everywhere(proxied_dashboard):
    dashboard = proxied_dashboard
    with dashboard.client() as client:
        for _ in range(OFFICER_FAILURES):
            assert attempt(client, "officer-1", "a guess 12345", "10.0.0.1").status_code == 401
        assert attempt(client, "officer-1", PASSWORD, "10.0.0.1").status_code == 429
        assert attempt(client, "officer-1", PASSWORD, "10.0.0.2").status_code == 303  # nobody locks an officer out
    dashboard.clock.at += timedelta(minutes=1)  # (a success starts the id's count again)
    with dashboard.client() as client:
        for number in range(OFFICER_EVERYWHERE):  # under every per-address limit, 50 in all
            address = f"10.0.1.{number // (OFFICER_FAILURES - 1)}"
            assert attempt(client, "officer-1", "a guess 12345", address).status_code == 401
        assert attempt(client, "officer-1", PASSWORD, "10.0.2.1").status_code == 429
        assert attempt(client, "officer-2", PASSWORD, "10.0.2.1").status_code == 303
    assert {r.client for r in dashboard.store.sign_ins()} >= {"10.0.0.1", "10.0.0.2", "10.0.1.0", "10.0.2.1"}


def test_x_forwarded_for_from_a_client_that_is_no_trusted_proxy_changes_nothing(dashboard):
    with dashboard.client() as client:  # a program on the dashboard's own machine
        for number in range(OFFICER_FAILURES):
            assert attempt(client, "officer-1", "a guess 12345", f"10.0.3.{number}").status_code == 401
        assert attempt(client, "officer-1", PASSWORD, "10.0.3.99").status_code == 429  # still the same address
    assert {r.client for r in dashboard.store.sign_ins()} == {"127.0.0.1"}


def test_a_trusted_proxys_x_forwarded_for_gives_the_browsers_address(proxied_dashboard):
    with proxied_dashboard.client() as client:
        assert attempt(client, "officer-1", "a guess 12345", "10.0.4.1").status_code == 401
        # a browser sending its own X-Forwarded-For: the proxy appends the address it saw, and that one counts
        assert attempt(client, "officer-1", "a guess 12345", "6.6.6.6, 10.0.4.2").status_code == 401
    assert [r.client for r in proxied_dashboard.store.sign_ins()] == ["10.0.4.1", "10.0.4.2"]


def test_the_pause_ends_when_enough_failures_have_left_the_window():
    at = parse_local("2025-10-07 09:00")
    minutes = [at + timedelta(minutes=m) for m in range(OFFICER_FAILURES)]
    assert paused_until(minutes[:-1], minutes[:-1], []) is None
    assert paused_until(minutes, minutes, []) == minutes[0] + PAUSE
    assert paused_until([*minutes, minutes[-1]], [*minutes, minutes[-1]], []) == minutes[1] + PAUSE
    assert paused_until([], minutes * (OFFICER_EVERYWHERE // OFFICER_FAILURES), []) == minutes[0] + PAUSE
    assert paused_until(minutes, minutes, [at] * ADDRESS_FAILURES) == minutes[0] + PAUSE
    assert paused_until([], [], [at + timedelta(minutes=3)] * ADDRESS_FAILURES) == at + timedelta(minutes=3) + PAUSE


def test_the_login_form_needs_its_token(dashboard):
    with dashboard.client() as client:
        client.get("/login")
        for token in (None, "0" * 32):
            data = {"officer": "officer-1", "password": PASSWORD} | ({"csrf": token} if token else {})
            response = client.post("/login", data=data)
            assert response.status_code == 403 and SESSION_COOKIE not in response.cookies
    with dashboard.client() as other:  # a token from another browser's login page does not fit this one's cookie
        token = csrf_of(other.get("/login").text)
    with dashboard.client() as client:
        client.get("/login")
        assert client.post("/login", data={"officer": "officer-1", "password": PASSWORD, "csrf": token}).status_code == 403


def test_acknowledging_needs_the_session_token(dashboard):
    from qixian.alerting.messages import NotifyConfig
    from qixian.alerting.scan import scan

    scan(dashboard.store, dashboard.pack, NotifyConfig.load(dashboard.world), parse_local("2025-10-07 00:05"))
    with dashboard.store.session() as session:
        mine = session.exec(select(OutboxRow).where(OutboxRow.recipient == "officer-1")).scalars().first()
    client = dashboard.login("officer-1")
    page = client.get("/reminders")
    assert f"/reminders/{mine.id}/ack" in page.text
    assert client.post(f"/reminders/{mine.id}/ack", data={}).status_code == 403
    assert client.post(f"/reminders/{mine.id}/ack", data={"csrf": "f" * 32}).status_code == 403
    foreign = csrf_of(dashboard.login("officer-3").get("/reminders").text)  # another officer's session's token
    assert client.post(f"/reminders/{mine.id}/ack", data={"csrf": foreign}).status_code == 403
    assert dashboard.store.count(AcknowledgementRow) == 0
    done = client.post(f"/reminders/{mine.id}/ack", data={"csrf": csrf_of(page.text), "next": "/reminders"})
    assert done.status_code == 303 and done.headers["location"] == "/reminders"
    with dashboard.store.session() as session:
        ack = session.exec(select(AcknowledgementRow)).scalars().one()
    assert (ack.outbox_id, ack.officer, ack.channel) == (mine.id, "officer-1", "dashboard")


def test_someone_elses_reminder_cannot_be_acknowledged(dashboard):
    from qixian.alerting.messages import NotifyConfig
    from qixian.alerting.scan import scan

    scan(dashboard.store, dashboard.pack, NotifyConfig.load(dashboard.world), parse_local("2025-10-07 00:05"))
    with dashboard.store.session() as session:
        leaders = session.exec(select(OutboxRow).where(OutboxRow.recipient == "officer-9")).scalars().first()
    client = dashboard.login("officer-1")
    token = csrf_of(client.get("/reminders").text)
    refused = client.post(f"/reminders/{leaders.id}/ack", data={"csrf": token})
    assert refused.status_code == 400 and f"提醒 {leaders.id} 不是发给您的：只能确认发给自己的提醒" in refused.text
    assert "officer-9" not in refused.text and "周国平" not in refused.text  # whose it is, is not said
    assert dashboard.store.count(AcknowledgementRow) == 0


@pytest.mark.parametrize("officer", sorted(SEES))
def test_each_role_sees_exactly_its_cases(dashboard, officer):
    client = dashboard.login(officer)
    listed = cases_on(client.get("/").text)
    assert listed == SEES[officer]
    for case in (THEFT, FIGHT, HARBOUR):
        page = client.get("/case", params={"id": case})
        if case in SEES[officer]:
            assert page.status_code == 200 and "时间线" in page.text and "计算依据" in page.text
        else:
            assert page.status_code == 404 and "时间线" not in page.text


def test_a_forged_or_stale_session_is_refused(dashboard):
    client = dashboard.login("officer-1")
    assert client.get("/").status_code == 200
    genuine = client.cookies[SESSION_COOKIE]
    with dashboard.client() as attacker:
        for forged in (genuine[:-1] + ("A" if genuine[-1] != "A" else "B"), "officer-7", ""):
            attacker.cookies.set(SESSION_COOKIE, forged)
            assert attacker.get("/").status_code == 303
    dashboard.store.set_password_hash("officer-1", hash_password("a new password 8"), parse_local("2025-10-07 02:00"))
    assert client.get("/").status_code == 303  # the password changed: the old session ends
    dashboard.clock.at = parse_local("2025-10-07 15:00")
    fresh = dashboard.login("officer-1", "a new password 8")
    assert fresh.get("/").status_code == 200
    dashboard.clock.at = parse_local("2025-10-08 04:00")  # 13 hours later: past the session's 12
    assert fresh.get("/").status_code == 303


def copy_of(client) -> httpx.Client:
    """Another browser holding the same session cookie (as one copied off the officer's machine would be)."""
    copy = httpx.Client(base_url=client.base_url, follow_redirects=False, timeout=30)
    copy.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    return copy


def test_signing_out_ends_the_session_wherever_its_cookie_was_copied(dashboard):
    client, other = dashboard.login("officer-1"), dashboard.login("officer-1")  # two browsers of the same officer
    with copy_of(client) as copy:
        assert copy.get("/").status_code == 200
        signed_out = client.post("/logout", data={"csrf": csrf_of(client.get("/reminders").text)})
        assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login"
        for page in PAGES:
            refused = copy.get(page)
            assert refused.status_code == 303 and refused.headers["location"].startswith("/login?next="), page
    assert other.get("/").status_code == 200  # the officer's other session goes on
    assert dashboard.store.count(WebSessionRow) == 1


def test_removing_the_account_ends_its_sessions_and_sessions_are_held_only_as_digests(dashboard):
    client = dashboard.login("officer-3")
    cookie = client.cookies[SESSION_COOKIE]
    with dashboard.store.session() as session:
        held = session.exec(select(WebSessionRow)).scalars().one()
    assert held.officer == "officer-3" and held.id == session_key(cookie) and cookie not in held.id
    assert dashboard.store.remove_web_user("officer-3")
    assert client.get("/").status_code == 303 and dashboard.store.count(WebSessionRow) == 0
