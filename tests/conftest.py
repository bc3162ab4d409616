import shutil
from pathlib import Path

import pytest

from qixian.calendar import LegalCalendar

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
DATA = ROOT / "tests" / "data" / "rules"


@pytest.fixture(scope="session")
def calendar() -> LegalCalendar:
    """The shipped calendar data, as the engine loads it."""
    return LegalCalendar.load(RULES / "calendar")


@pytest.fixture
def make_pack(tmp_path):
    """A pack folder with the shipped settings, events and calendar, plus the given rule files."""

    def make(*files: Path | tuple[str, str], name: str = "pack") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(RULES / "settings.yaml", folder)
        shutil.copy(RULES / "events.yaml", folder)
        shutil.copytree(RULES / "calendar", folder / "calendar")
        for item in files:
            if isinstance(item, tuple):
                (folder / item[0]).write_text(item[1], encoding="utf-8")
            else:
                shutil.copy(item, folder / item.name)
        return folder

    return make


def frozen_at(at: str, **options):
    """The real clock (datetime.now, time.time) stopped at `at`, Beijing time as officers write it (freezegun): for
    the code that reads the clock itself when no time is given. Subprocesses keep the real clock."""
    from freezegun import freeze_time

    from qixian.localtime import parse_local

    return freeze_time(parse_local(at), **options)
