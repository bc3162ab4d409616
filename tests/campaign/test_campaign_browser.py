"""The 专项工作 page in a real headless Chromium, as tests/web/test_browser.py drives the dashboard: a unit leader and
legal staff sign in through the form, the page fits a 390 px phone without sideways scrolling (each ledger row a card
whose steps, report periods and duty periods are on screen, not in a table's hidden scroll), the desktop keeps its
tables, and screenshots at phone and desktop width are kept in test-artifacts/screenshots/."""

import pytest

from tests.campaign.test_campaign_web import CLUE_CG, CLUE_JD, PERIOD, campaign_world, dashboard  # noqa: F401 - fixtures
from tests.web.test_browser import CHROMIUM, DESKTOP, browser, fits_the_screen, shot, signed_in  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]

# every element of the page that reaches past the window's right edge, or past the right edge of a box that clips it
# (a table's scroll), by tag, class and text: what a phone would have to scroll sideways to read
CUT_OFF = """() => [...document.querySelectorAll('main *')].filter(e => {
    const box = e.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) return false;
    if (box.right > window.innerWidth + 0.5 || box.left < -0.5) return true;
    for (let up = e.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== 'visible' && box.right > up.getBoundingClientRect().right + 0.5) return true;
    }
    return false;
}).map(e => `${e.tagName}.${e.className}: ${e.textContent.slice(0, 40)}`)"""
# the step, report period and duty period lines of the ledgers: (the label shown before their cell, the line's text,
# its box's left and right edges)
STEPS = """() => [...document.querySelectorAll('table.ledger td.steps')].flatMap(td => {
    const label = getComputedStyle(td, '::before').content;
    return [...td.querySelectorAll(':scope > span')].map(line => {
        const box = line.getBoundingClientRect();
        return [label, line.innerText, box.left, box.right];
    });
})"""


@pytest.mark.parametrize("officer", ["officer-9", "officer-7"])
def test_the_campaign_page_on_a_phone_and_a_desktop(browser, dashboard, officer):  # noqa: F811
    phone = signed_in(browser, dashboard, officer)
    phone.get_by_role("link", name="专项工作").click()
    phone.goto(f"/campaign?{PERIOD}")
    clues = "线索台账（1 条）" if officer == "officer-9" else "线索台账（2 条）"  # 城关's clue; legal staff: both
    assert phone.get_by_role("heading", name=clues).is_visible()
    assert fits_the_screen(phone)
    assert phone.evaluate(CUT_OFF) == []
    steps = phone.evaluate(STEPS)
    assert {label for label, *_ in steps} == {'"步骤与期限："', '"进展报告："', '"各周期："'}  # clues, listed cases, duties
    for label, text, left, right in steps:
        assert text.strip() and 0 <= left < right <= 390, (label, text, left, right)  # each line wholly on screen
    assert not phone.locator("table.ledger th").first.is_visible()  # cards: the column names are on each line
    shot(phone, f"campaign-{officer}-phone")
    red = "rgb(187, 34, 34)"  # #b22, as on a desktop
    card = phone.locator("tr.red", has_text=CLUE_CG)  # two steps overdue, one running
    assert card.evaluate("tr => getComputedStyle(tr).borderLeftColor") == red
    assert card.locator("td").first.evaluate("td => getComputedStyle(td).color") == red
    colours = card.locator("td.steps > span").evaluate_all("spans => spans.map(s => [s.innerText, getComputedStyle(s).color])")
    assert [text.endswith("已超期") for text, _ in colours] == [colour == red for _, colour in colours] == [False, True, True], colours
    desktop = signed_in(browser, dashboard, officer, DESKTOP)
    desktop.goto(f"/campaign?{PERIOD}")
    assert desktop.locator("table.ledger th", has_text="步骤与期限").is_visible()  # a table with its header row
    assert desktop.evaluate("getComputedStyle(document.querySelector('table.ledger tr')).display") == "table-row"
    if officer == "officer-7":
        assert desktop.locator("tr.red", has_text=CLUE_JD).is_visible()
    shot(desktop, f"campaign-{officer}-desktop")
