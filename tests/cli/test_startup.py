"""A command loads what it uses: `qixian ingest` starts without the web server, the flows, the report templates or
Alembic (checked in a process of its own: the test run has imported everything)."""

import subprocess
import sys

from tests.paths import ROOT

NOT_FOR_INGEST = ("fastapi", "prefect", "jinja2", "apprise", "alembic", "qixian.web", "qixian.supervision")


def test_ingest_imports_only_what_it_uses(tmp_path):
    probe = (
        "import sys\n"
        "from qixian.cli import main\n"
        f"main(['ingest', 'examples/events.jsonl', '--db', 'sqlite:///{tmp_path}/missing.db'])\n"
        f"print(sorted(m for m in {NOT_FOR_INGEST!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "qixian db upgrade" in done.stderr  # it did run: the store is not there


def test_help_lists_every_command():
    from qixian.cli import COMMANDS

    done = subprocess.run(
        [sys.executable, "-c", "from qixian.cli import main; main(['--help'])"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env={"COLUMNS": "200", "PATH": ""},
    )
    commands = done.stdout.split("─ 命令 ─", 1)[1]
    listed = {
        line.split()[1]: line for line in commands.splitlines() if line.startswith("│ ") and not line.startswith("│  ") and len(line.split()) > 2
    }  # not a help's next line
    assert sorted(listed) == sorted(COMMANDS)
    assert all(not line.isascii() for line in listed.values())  # each with its help, in Chinese
