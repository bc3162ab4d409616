"""A SQLite case store (password hashes, phone numbers, suspects' names) is its owner's only: the folder 0700, the
database and the -wal/-shm files SQLite makes beside it 0600, whatever the umask; `qixian health` names any that
others can read, with the chmod that fixes it."""

import json
import os
import stat
import subprocess

import pytest

from qixian.casework.directory import read_directory
from qixian.cli import main
from qixian.store.repository import Store
from tests.paths import ROOT, RULES


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask():
    """The umask most servers run with (0022), which would leave files SQLite creates world-readable."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def write_while_open(url: str) -> Store:
    """A store with a write committed and its connection still open, so the -wal and -shm files exist."""
    store = Store.open(url)
    store.replace_directory(read_directory(ROOT / "notify" / "directory.yaml"))
    return store


def health_permissions(capsys, url: str) -> dict:
    capsys.readouterr()
    main(["health", "--json", "--db", url, "--rules", str(RULES)])
    return json.loads(capsys.readouterr().out)["checks"]["permissions"]


def test_db_upgrade_and_writes_leave_the_folder_0700_and_every_file_0600(tmp_path, usual_umask, capsys):
    database = tmp_path / "srv" / ".qixian" / "qixian.db"
    url = f"sqlite:///{database}"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert (mode(tmp_path / "srv"), mode(database.parent), mode(database)) == (0o700, 0o700, 0o600)
    store = write_while_open(url)
    try:
        assert {side: mode(f"{database}{side}") for side in ("-wal", "-shm")} == {"-wal": 0o600, "-shm": 0o600}
        permissions = health_permissions(capsys, url)
    finally:
        store.engine.dispose()
    assert permissions == {"status": "ok", "summary": f"案件库 {database} 仅所有者可读写", "loose": []}


def test_sqlite_gives_the_wal_and_shm_files_the_database_file_mode(tmp_path, usual_umask):
    """Why creating the database file 0600 is enough: SQLite copies its mode to the files it makes beside it."""
    database = tmp_path / "qixian.db"
    assert main(["db", "upgrade", "--db", f"sqlite:///{database}"]) == 0
    os.chmod(database, 0o640)
    store = write_while_open(f"sqlite:///{database}")
    try:
        assert (mode(f"{database}-wal"), mode(f"{database}-shm")) == (0o640, 0o640)
    finally:
        store.engine.dispose()


def test_health_names_a_chmod_644_database_and_the_commands_that_fix_it(tmp_path, usual_umask, capsys):
    home = tmp_path / "qixian data"
    database = home / "qixian.db"
    url = f"sqlite:///{database}"
    assert main(["db", "upgrade", "--db", url]) == 0
    os.chmod(database, 0o644)
    os.chmod(home, 0o755)
    permissions = health_permissions(capsys, url)  # health's own look at the store made -wal and -shm, 644 as well
    files = [database, f"{database}-wal", f"{database}-shm"]
    assert permissions["status"] == "warning"
    assert permissions["loose"] == [{"path": str(home), "mode": "755", "fix": f"chmod 700 '{home}'"}] + [
        {"path": str(path), "mode": "644", "fix": f"chmod 600 '{path}'"} for path in files
    ]
    assert permissions["summary"] == (
        f"本机其他用户可访问案件库（含密码哈希、手机号、嫌疑人姓名）：{home}（755）、{database}（644）、{database}-wal（644）、"
        f"{database}-shm（644）。运行 chmod 700 '{home}'；chmod 600 " + " ".join(f"'{path}'" for path in files)
    )
    capsys.readouterr()
    main(["health", "--db", url, "--rules", str(RULES)])
    assert "注意" in capsys.readouterr().out
    for each in permissions["loose"]:
        subprocess.run(each["fix"], shell=True, check=True)
    assert health_permissions(capsys, url)["status"] == "ok"
    assert (mode(home), mode(database)) == (0o700, 0o600)


def test_on_postgresql_there_is_no_file_to_check(pg_url, capsys):
    permissions = health_permissions(capsys, pg_url)
    assert permissions == {"status": "ok", "summary": "案件库不是本机文件：由数据库服务器控制访问", "loose": []}
