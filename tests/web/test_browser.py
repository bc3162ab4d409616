"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright): each role signs in
through the form and sees its cases, an officer acknowledges an overdue reminder with the button, the leader sees on
the case page that escalation stopped. Pages must fit a 390 px phone screen without sideways scrolling.
Screenshots (phone and desktop) are kept in test-artifacts/screenshots/ (or $QIXIAN_TEST_ARTIFACTS)."""

import os
from pathlib import Path

import pytest

from bench.web import LEGAL
from qixian.alerting.messages import NotifyConfig
from qixian.alerting.scan import scan
from qixian.legaltime.localtime import parse_local
from tests.fixtures.dashboard import PASSWORD, SEES, THEFT, cases_on
from tests.paths import ROOT
from tests.web.test_paging import big  # noqa: F401 - the six-page store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 860}
SHOTS = Path(os.environ.get("QIXIAN_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make test installs the test extras)")
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it as root: apt-get install chromium); no browser is downloaded"
    ),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),  # the server tests cover PostgreSQL
]


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def signed_in(browser, dashboard, officer, viewport=PHONE):
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=dashboard.url)
    page = context.new_page()
    page.goto("/")
    assert "/login" in page.url  # no data before signing in
    page.get_by_label("民警编号").fill(officer)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{dashboard.url}/")
    return page


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("officer", ["officer-1", "officer-9", "officer-7"])
def test_each_role_signs_in_and_sees_its_cases(browser, dashboard, officer):
    phone = signed_in(browser, dashboard, officer)
    assert cases_on(phone.content()) == SEES[officer]
    assert phone.locator(".who").inner_text().startswith(dashboard.store.directory().officers[officer].name)
    assert fits_the_screen(phone)
    shot(phone, f"upcoming-{officer}-phone")
    desktop = signed_in(browser, dashboard, officer, DESKTOP)
    shot(desktop, f"upcoming-{officer}-desktop")
    desktop.get_by_role("link", name="规则").click()
    assert desktop.get_by_role("heading", name="规则").is_visible()
    phone.get_by_role("link", name="考核报表").click()  # counted on the request and kept as the view's snapshot
    assert phone.locator("svg").first.is_visible() and not phone.locator(".snapshot").count()
    phone.reload()  # the next reader is served the snapshot, and told as of when
    assert phone.locator(".snapshot").inner_text().startswith("统计截至 02:30（北京时间）")
    assert phone.locator("svg").first.is_visible() and fits_the_screen(phone)
    shot(phone, f"reports-{officer}-phone")
    phone.get_by_role("button", name="退出").click()
    phone.goto("/overdue")
    assert "/login" in phone.url


def test_acknowledging_in_the_browser_stops_escalation(browser, dashboard):
    store, pack, config = dashboard.store, dashboard.pack, NotifyConfig.load(dashboard.world)
    scan(store, pack, config, parse_local("2025-10-07 00:05"))
    scan(store, pack, config, parse_local("2025-10-07 02:05"))
    officer = signed_in(browser, dashboard, "officer-1")
    officer.get_by_role("link", name="我的提醒").click()
    item = officer.locator("li.item", has_text="拘留后提请批准逮捕").filter(has_text="张某").filter(has_text="超期第2次提醒")
    shot(officer, "reminders-before-ack-phone")
    item.get_by_role("button", name="确认收到").click()
    officer.wait_for_url(f"{dashboard.url}/reminders")
    assert "已确认 2025-10-07 02:30" in item.inner_text()
    assert fits_the_screen(officer)
    shot(officer, "reminders-after-ack-phone")

    dashboard.clock.at = parse_local("2025-10-07 04:10")
    scan(store, pack, config, parse_local("2025-10-07 04:05"))
    leader = signed_in(browser, dashboard, "officer-9")
    leader.locator("li.item", has_text="拘留后提请批准逮捕").filter(has_text="张某").get_by_role("link", name=THEFT).click()
    section = leader.locator("section.clock", has_text="拘留后提请批准逮捕（张某）")
    assert "已停止升级" in section.inner_text()
    third = section.locator("li", has_text="超期第3次提醒")
    assert sorted(third.all_inner_texts()) and not any("周国平" in text for text in third.all_inner_texts())
    assert any("刘明" in text for text in third.all_inner_texts())
    assert fits_the_screen(leader)
    shot(leader, "case-escalation-stopped-phone")
    desktop = signed_in(browser, dashboard, "officer-9", DESKTOP)
    desktop.goto(f"/case?id={THEFT}")
    shot(desktop, "case-escalation-stopped-desktop")


PAGES = {
    "upcoming": "/",
    "overdue": "/overdue",
    "anomalies": "/anomalies",
    "reminders": "/reminders",
    "case": f"/case?id={THEFT}",
    "rules": "/rules",
    "rule": "/rules/crim.detention.arrest_request",
    "reports": "/reports?from=2025-09-01&to=2025-10-31",
}


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_no_page_scrolls_sideways_and_report_tables_and_charts_read_at_text_size(browser, dashboard, width):
    store, pack, config = dashboard.store, dashboard.pack, NotifyConfig.load(dashboard.world)
    for moment in ("2025-09-30 09:05", "2025-10-03 09:05", "2025-10-07 02:05"):
        scan(store, pack, config, parse_local(moment))  # reminders for the reminder page and the report's counts
    viewport = PHONE if width == "phone" else DESKTOP
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=dashboard.url)
    login = context.new_page()
    login.goto("/login")
    assert not scrolls_sideways(login)
    shot(login, f"page-login-{width}")
    page = signed_in(browser, dashboard, "officer-7", viewport)
    for name, path in PAGES.items():
        page.goto(path)
        assert page.locator("h1").first.is_visible(), name
        shot(page, f"page-{name}-{width}")
        assert not scrolls_sideways(page), f"{name} scrolls sideways at {viewport['width']} px"
    page.goto(PAGES["reports"])
    text = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('.report td')).fontSize)"))
    labels = page.evaluate("[...document.querySelectorAll('.report svg text')].map(t => t.getBoundingClientRect().height)")
    assert labels and max(labels) <= text * 1.4, (labels, text)  # chart labels no larger than the tables' text
    if width == "desktop":  # at 1280 px every column of every report table is in view, none cut off at the right
        cut = page.evaluate("""[...document.querySelectorAll('.report table')].filter(t => {
            const box = t.parentElement.getBoundingClientRect();
            return t.getBoundingClientRect().right > box.right + 0.5 || t.getBoundingClientRect().right > window.innerWidth;
        }).map(t => t.previousElementSibling ? t.previousElementSibling.textContent : t.parentElement.previousElementSibling.textContent)""")
        assert cut == [], cut


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_filter_form_and_pager_fit_the_screen_and_keep_the_filters(browser, big, width):  # noqa: F811 - `big`: the fixture imported above
    """Over a store of six pages: choosing a unit and a status in the form, then 下一页, keeps both; nothing scrolls
    sideways at 390 or 1280 px (the unit and officer lists hold names)."""
    served, _ = big
    page = signed_in(browser, served, LEGAL, PHONE if width == "phone" else DESKTOP)
    assert page.get_by_text("共 6 页").first.is_visible()
    shot(page, f"page-list-paged-{width}")
    assert not scrolls_sideways(page)
    page.get_by_label("单位").select_option(label="第2派出所")
    page.get_by_label("状态").select_option(label="正常")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/?unit=u001*")
    first = page.locator(".pager").first.inner_text()
    assert "第 1 页" in first and "共 2 页" in first, first
    page.get_by_role("link", name="下一页").first.click()
    page.wait_for_url("**page=2*")
    assert "unit=u001" in page.url and "light=green" in page.url
    assert page.locator(".pager").first.inner_text().startswith("上一页") and "第 2 页" in page.locator(".pager").first.inner_text()
    assert page.get_by_label("单位").input_value() == "u001"  # the form shows the filters in force
    shot(page, f"page-list-filtered-page-2-{width}")
    assert not scrolls_sideways(page)
