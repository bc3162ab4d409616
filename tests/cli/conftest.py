import pytest

from qixian.cli import main


@pytest.fixture
def db(tmp_path, capsys):
    """A new SQLite case store made by `qixian db upgrade`, its output swallowed."""
    url = f"sqlite:///{tmp_path}/q.db"
    assert main(["db", "upgrade", "--db", url]) == 0
    capsys.readouterr()
    return url
