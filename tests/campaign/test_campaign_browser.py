"""The 专项工作 page in a real headless Chromium, as tests/web/test_browser.py drives the dashboard: a unit leader and
legal staff sign in through the form, the page fits a 390 px phone without sideways scrolling, and screenshots at
phone and desktop width are kept in test-artifacts/screenshots/."""

import pytest

from tests.campaign.test_campaign_web import CLUE_JD, PERIOD, campaign_world, dashboard  # noqa: F401 - fixtures
from tests.web.test_browser import CHROMIUM, DESKTOP, browser, fits_the_screen, shot, signed_in  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


@pytest.mark.parametrize("officer", ["officer-9", "officer-7"])
def test_the_campaign_page_on_a_phone_and_a_desktop(browser, dashboard, officer):  # noqa: F811
    phone = signed_in(browser, dashboard, officer)
    phone.get_by_role("link", name="专项工作").click()
    phone.goto(f"/campaign?{PERIOD}")
    clues = "线索台账（1 条）" if officer == "officer-9" else "线索台账（2 条）"   # 城关's clue; legal staff: both
    assert phone.get_by_role("heading", name=clues).is_visible()
    assert fits_the_screen(phone)
    shot(phone, f"campaign-{officer}-phone")
    desktop = signed_in(browser, dashboard, officer, DESKTOP)
    desktop.goto(f"/campaign?{PERIOD}")
    if officer == "officer-7":
        assert desktop.locator("tr.red", has_text=CLUE_JD).is_visible()
    shot(desktop, f"campaign-{officer}-desktop")
