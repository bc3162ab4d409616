"""What the pages show, against the real server: traffic lights worked out by hand from the rules' limits and
reminder times, acknowledgement from the dashboard and from the signed link in the chat message (not of an overdue
reminder, and only while its officer is on the case and in the directory), escalation seen to stop on the case page,
the rule browser and the reports page."""

import re

from sqlalchemy import select

from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.legaltime.localtime import parse_local
from qixian.store.tables import AcknowledgementRow, CaseRow, OutboxRow
from tests.alerting.test_acknowledgement import reassign
from tests.fixtures.dashboard import HARBOUR, THEFT, cases_on, csrf_of

# 胶东警字第0003号: 紧急警情 handled 10-06 10:00, registration due in 24 hours (10-07 10:00); reminders 12 h, 4 h and
# 1 h before: the last, 09:00, is the warning (预警) step, so orange from 09:00, red from 10:00.
ARREST = "crim.detention.arrest_request"  # 张某: due 2025-10-06 24:00, overdue repeats every 2 hours, escalated


def listed(client, **filters) -> set[str]:
    return cases_on(client.get("/", params=filters).text)


def test_traffic_lights_follow_the_warning_step_and_the_due(dashboard):
    client = dashboard.login("officer-7")
    for at, light in (("2025-10-07 08:59", "green"), ("2025-10-07 09:00", "orange"), ("2025-10-07 09:59", "orange"), ("2025-10-07 10:00", "red")):
        dashboard.clock.at = parse_local(at)
        found = {name for name in ("green", "orange", "red") if HARBOUR in listed(client, light=name)}
        assert found == {light}, at
        assert HARBOUR in listed(client, group="警情分流") and HARBOUR not in listed(client, group="强制措施")
    assert THEFT in listed(client, light="red")  # 张某's arrest request was due 10-06 24:00
    assert listed(client, unit="jiaodong") == {HARBOUR}
    assert listed(client, officer="officer-5") == {HARBOUR}
    assert listed(client, officer="officer-2") == {THEFT}  # a co-handler's cases
    overdue = client.get("/overdue").text
    assert cases_on(overdue) == {THEFT, HARBOUR}
    assert client.get("/", params={"light": "purple"}).status_code == 400


def rows(store, **where):
    with store.session() as session:
        query = select(OutboxRow)
        for name, value in where.items():
            query = query.where(getattr(OutboxRow, name) == value)
        return list(session.exec(query.order_by(OutboxRow.id)).scalars())


def section(html: str, clock_id: int) -> str:
    """The part of a case page about one clock."""
    found = re.search(rf'<section class="clock [a-z]+" id="clock-{clock_id}">(.*?)</section>', html, re.S)
    assert found, f"no section for clock {clock_id}"
    return found.group(1)


def reminder_lines(html: str, label: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", li) for li in re.findall(r"<li class=\"overdue\">(.*?)</li>", html, re.S) if label in li]


def test_acknowledging_on_the_dashboard_stops_escalation_and_the_case_page_shows_it(dashboard):
    store, pack, config = dashboard.store, dashboard.pack, NotifyConfig.load(dashboard.world)
    scan(store, pack, config, parse_local("2025-10-07 00:05"))  # the due step: handler, legal officer, leader
    scan(store, pack, config, parse_local("2025-10-07 02:05"))  # the first repeat
    leader = dashboard.login("officer-9")
    clock = next(c for c in store.clocks(case=THEFT) if c.rule_id == ARREST and c.person == "张某")
    page = section(leader.get("/case", params={"id": THEFT}).text, clock.id)
    assert "已停止升级" not in page
    assert any("周国平" in line for line in reminder_lines(page, "超期第2次提醒"))

    officer = dashboard.login("officer-1")
    mine = officer.get("/reminders").text
    repeat = next(r for r in rows(store, recipient="officer-1", label="超期第2次提醒") if r.rule_id == ARREST)
    form = re.search(rf'action="/reminders/{repeat.id}/ack">(.*?)</form>', mine, re.S)
    assert form, "the reminder has an acknowledge button"
    answer = officer.post(f"/reminders/{repeat.id}/ack", data={"csrf": csrf_of(form.group(1)), "next": "/reminders"})
    assert answer.status_code == 303
    assert f'action="/reminders/{repeat.id}/ack"' not in officer.get("/reminders").text  # the button is gone

    dashboard.clock.at = parse_local("2025-10-07 04:10")
    scan(store, pack, config, parse_local("2025-10-07 04:05"))  # the next repeat, after the acknowledgement
    page = section(leader.get("/case", params={"id": THEFT}).text, clock.id)
    assert "已停止升级" in page and "刘明 于 2025-10-07 02:30 确认了超期提醒" in page
    recipients = {name for line in reminder_lines(page, "超期第3次提醒") for name in ("刘明", "孙静", "周国平") if name in line}
    assert recipients == {"刘明", "孙静"}  # the leader is no longer told
    assert THEFT in cases_on(leader.get("/overdue").text) and "超期提醒已确认，不再升级" in leader.get("/overdue").text


def chat_links(dashboard, sink, monkeypatch, at: str) -> dict[str, list[str]]:
    """{label: paths} of the links in officer-1's chat messages (the only chat robot in the directory) after a scan
    at `at`, with the dashboard's address and key set as the scan reads them."""
    monkeypatch.setenv("QIXIAN_WEB_SECRET", "test-secret-" + "x" * 40)
    monkeypatch.setenv("QIXIAN_WEB_URL", dashboard.url)
    scan(dashboard.store, dashboard.pack, NotifyConfig.load(dashboard.world), parse_local(at))
    found: dict[str, list[str]] = {}
    for request in sink.to("/chat/officer-1"):
        for label, link in re.findall(r"\[([^]]+)\]\((http://[^)]+)\)", request["body"]["message"]):
            assert link.startswith(f"{dashboard.url}/ack/")
            found.setdefault(label, []).append(link[len(dashboard.url) :])
    return found


def test_the_signed_link_in_the_chat_message_acknowledges(dashboard, sink, monkeypatch):
    store = dashboard.store
    path = chat_links(dashboard, sink, monkeypatch, "2025-10-06 09:00")["确认收到"][0]  # the day before the due
    assert not any("/ack/" in str(r["body"]) for r in sink.to("/sms/"))  # SMS stays short: no link
    with dashboard.client() as phone:  # no sign-in: the token is the credential
        page = phone.get(path)
        assert page.status_code == 200 and "确认收到" in page.text and store.count(AcknowledgementRow) == 0
        assert phone.post(path).status_code == 200
        assert "已确认" in phone.get(path).text
        forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        assert phone.post(forged).status_code == 400
        dashboard.clock.at = parse_local("2025-10-13 09:01")  # seven days after the message: expired
        expired = phone.get(path)
        assert expired.status_code == 400 and "已过期" in expired.text
    with store.session() as session:
        ack = session.exec(select(AcknowledgementRow)).scalars().one()
    assert (ack.officer, ack.channel) == ("officer-1", "link")


def test_an_overdue_reminders_link_asks_the_officer_to_sign_in_and_stops_no_escalation(dashboard, sink, monkeypatch):
    links = chat_links(dashboard, sink, monkeypatch, "2025-10-07 00:05")
    assert list(links) == ["登录看板确认"]  # every reminder is overdue by now
    path = links["登录看板确认"][0]
    with dashboard.client() as phone:  # anyone in the chat group
        page = phone.get(path)
        assert page.status_code == 200 and "须本人登录期限看板确认" in page.text
        assert 'method="post"' not in page.text and 'href="/reminders"' in page.text
        refused = phone.post(path)
        assert refused.status_code == 400 and "须本人登录期限看板确认" in refused.text
    assert dashboard.store.count(AcknowledgementRow) == 0  # so the leaders are still told


def test_a_link_stops_when_its_officer_leaves_the_case_or_the_directory(dashboard, sink, monkeypatch):
    store = dashboard.store
    path = chat_links(dashboard, sink, monkeypatch, "2025-10-06 09:00")["确认收到"][0]
    reassign(store, "officer-3", [], THEFT)  # the case handed to officer-3
    with dashboard.client() as phone:
        for answer in (phone.get(path), phone.post(path)):
            assert answer.status_code == 400 and "所属案件已不由您负责" in answer.text
            assert not any(who in answer.text for who in ("officer-3", "赵强", "officer-1", "刘明"))
        reassign(store, "officer-3", ["officer-1"], THEFT)  # back on it as a co-handler
        assert phone.get(path).status_code == 200
        directory = store.directory()
        del directory.officers["officer-1"]  # then removed from the directory
        store.replace_directory(directory)
        for answer in (phone.get(path), phone.post(path)):
            assert answer.status_code == 400 and "所属案件已不由您负责" in answer.text
    assert store.count(AcknowledgementRow) == 0


def test_the_rule_browser_explains_each_rule(dashboard):
    client = dashboard.login("officer-3")
    index = client.get("/rules").text
    linked = set(re.findall(r'href="/rules/([^"]+)"', index))
    assert linked == set(dashboard.pack.ids)
    rule = dashboard.pack.versions(ARREST)[-1]
    page = client.get(f"/rules/{ARREST}").text
    assert rule.name in page and rule.basis[0].cite in page and "起算" in page and "提醒" in page
    assert client.get("/rules/no.such.rule").status_code == 404


def test_the_reports_page_is_scoped_by_role(dashboard):
    period = {"from": "2025-10-01", "to": "2025-10-31"}
    leader = dashboard.login("officer-9").get("/reports", params=period).text
    assert "执法办案期限考核：城关派出所" in leader and "<svg" in leader and "胶东派出所" not in leader
    officer = dashboard.login("officer-1").get("/reports", params=period).text
    assert "执法办案期限考核：民警 刘明" in officer
    legal = dashboard.login("officer-7")
    assert "执法办案期限考核：全局" in legal.get("/reports", params=period).text
    assert "执法办案期限考核：胶东派出所" in legal.get("/reports", params={**period, "unit": "jiaodong"}).text
    bad = legal.get("/reports", params={"from": "10/01"})
    assert bad.status_code == 400 and "应为日期" in bad.text


def test_control_and_bidi_characters_never_reach_a_page(dashboard):
    """Ingest strips them; a title stored before it did, or a name in the directory, is stripped by the pages too."""
    store = dashboard.store
    with store.session() as session:
        case = session.get(CaseRow, THEFT)
        case.title, case.co_handlers = "盗窃\u202e案\x1b[31m\x07\u2066甲\u2069", ["officer-2\u200f"]
        session.add(case)
        session.commit()
    page = dashboard.login("officer-7").get("/case", params={"id": THEFT}).text
    assert "盗窃案[31m甲" in page and "officer-2" in page
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", page)


def test_the_case_page_names_the_kind_unit_and_officers_and_reads_event_data(dashboard):
    page = dashboard.login("officer-7").get("/case", params={"id": THEFT}).text
    text = re.sub(r"<[^>]+>", "", page)
    assert "类别 刑事案件 · 单位 城关派出所 · 主办 刘明 · 协办 王芳" in text
    assert "报案方式：上门报案" in text and "天数：4  批准人：县局局长" in text
    for code in ("criminal", "{&#39;", "{'", "case_registered_online"):  # (a link to a rule has its id)
        assert code not in text, code


def test_a_clock_past_its_repeats_stays_red_and_says_it_is_in_the_daily_digest(dashboard):
    """张某's arrest request (due 10-06 24:00, repeats every 2 hours) folds into the digest after 6 repeats, 10-07 12:00."""
    client = dashboard.login("officer-7")

    def arrest_section() -> str:
        case = client.get("/case", params={"id": THEFT}).text
        found = re.search(r'<section class="clock red" id="clock-\d+">\s*<h3>[^<]*<span[^>]*></span>拘留后提请批准逮捕.*?</section>', case, re.S)
        assert found, "the arrest request clock is red"
        return found.group(0)

    dashboard.clock.at = parse_local("2025-10-07 11:59")
    assert "已转入每日超期汇总" not in arrest_section()  # still repeating
    dashboard.clock.at = parse_local("2025-10-07 12:00")
    assert "超期，已转入每日超期汇总" in arrest_section()
    overdue = client.get("/overdue").text
    assert THEFT in cases_on(overdue) and "超期，已转入每日超期汇总" in overdue


def test_a_pending_reminder_on_the_case_page_says_why_its_last_send_failed(dashboard, world, monkeypatch):
    from tests.ops.test_failure_reasons import MISSING, broken_gateway

    broken_gateway(world, monkeypatch)
    scan(dashboard.store, dashboard.pack, NotifyConfig.load(world), parse_local("2025-10-06 09:00"))
    client = dashboard.login("officer-7")
    dashboard.clock.at = parse_local("2025-10-06 09:01")
    page = client.get("/case", params={"id": THEFT}).text
    pending = re.findall(r"待发送.*?</li>", page, re.S)
    assert pending and all(f"上次发送失败（渠道配置，2025-10-06 09:00）：{MISSING}" in item for item in pending)


def test_an_officers_reminders_list_the_daily_digest_without_an_acknowledge_button(dashboard, world):
    scan(dashboard.store, dashboard.pack, NotifyConfig.load(world), parse_local("2025-10-20 08:31"))
    dashboard.clock.at = parse_local("2025-10-20 08:32")
    page = dashboard.login("officer-1").get("/reminders").text
    digest = re.search(r'<li class="item red" id="reminder-\d+">(?:(?!</li>).)*每日超期汇总(?:(?!</li>).)*</li>', page, re.S)
    assert digest and re.search(r"每日超期汇总，共 \d+ 项：请逐案办理", digest.group(0)) and "确认收到" not in digest.group(0)
