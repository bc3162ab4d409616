"""The pure packages stay plain Python: legaltime, rulebook and engine import no database, Prefect, apprise or web
library, and nothing from the packages built on them (see the layout in README.md)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "qixian"
PURE = ["legaltime", "rulebook", "engine"]
ABOVE = ["casework", "alerting", "supervision", "ops", "store", "web", "cli", "flows"]
FORBIDDEN = {"prefect", "sqlmodel", "sqlalchemy", "apprise", "alembic", "psycopg", "fastapi", "jinja2",
             *(f"qixian.{package}" for package in ABOVE), "flows"}


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "qixian":
                names |= {f"qixian.{alias.name}" for alias in node.names}
    return names


def forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


@pytest.mark.parametrize("package", PURE)
def test_pure_sources_import_nothing_outer(package):
    sources = sorted((SOURCE / package).rglob("*.py"))
    assert sources
    for path in sources:
        for name in imported_names(path):
            assert not forbidden(name), f"{path.relative_to(SOURCE)} imports {name}"


def test_importing_the_pure_packages_loads_nothing_outer():
    modules = [".".join(("qixian", *path.relative_to(SOURCE).with_suffix("").parts))
               for package in PURE for path in sorted((SOURCE / package).rglob("*.py"))]
    code = ("import sys\n" + "".join(f"import {m.removesuffix('.__init__')}\n" for m in modules)
            + f"print(sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
