"""The legal-time core stays plain Python: no Prefect, database or apprise (architecture decision 2)."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = ["periods", "calendar", "localtime", "deadlines", "yamlsource"]
FORBIDDEN = {"prefect", "sqlmodel", "sqlalchemy", "apprise", "alembic", "psycopg", "fastapi", "qixian.cli"}
SOURCE = Path(__file__).resolve().parents[2] / "src" / "qixian"


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_sources_import_nothing_outer():
    for module in CORE:
        for name in imported_names(SOURCE / f"{module}.py"):
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), f"{module}.py imports {name}"


def test_importing_the_core_loads_nothing_outer():
    code = ("import sys\n" + "".join(f"import qixian.{m}\n" for m in CORE)
            + f"print(sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
