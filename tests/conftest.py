import shutil
from pathlib import Path

import pytest

from qixian.legaltime.calendar import LegalCalendar
from tests.paths import RULES

# Fixtures shared across test folders: the case store on SQLite and PostgreSQL, the local sink with its notify/
# folder, and the dashboard served over them.
pytest_plugins = ["tests.fixtures.stores", "tests.fixtures.sinks", "tests.fixtures.dashboard"]


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
