from pathlib import Path

import pytest

from qixian.calendar import LegalCalendar

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"


@pytest.fixture(scope="session")
def calendar() -> LegalCalendar:
    """The shipped calendar data, as the engine loads it."""
    return LegalCalendar.load(RULES / "calendar")
