"""The layers: each package imports only the packages below it (README.md's layout, bottom first). The pure ones,
the plain-Python modules safetext and faults and the packages legaltime, rulebook and engine, import no database,
Prefect, apprise or web library either, and nothing from the packages built on them."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "qixian"
LAYERS = ["safetext", "faults", "legaltime", "rulebook", "engine", "store", "casework", "alerting", "supervision", "ops", "web", "cli"]
PURE = ["safetext", "faults", "legaltime", "rulebook", "engine"]
ABOVE = ["casework", "alerting", "supervision", "ops", "store", "web", "cli", "flows"]
FORBIDDEN = {"prefect", "sqlmodel", "sqlalchemy", "apprise", "alembic", "psycopg", "fastapi", "jinja2", *(f"qixian.{package}" for package in ABOVE), "flows"}


def sources(package: str) -> list[Path]:
    single = SOURCE / f"{package}.py"
    return [single] if single.exists() else sorted((SOURCE / package).rglob("*.py"))


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
    paths = sources(package)
    assert paths
    for path in paths:
        for name in imported_names(path):
            assert not forbidden(name), f"{path.relative_to(SOURCE)} imports {name}"


@pytest.mark.parametrize("package", LAYERS)
def test_each_package_imports_only_the_layers_below(package):
    above = {f"qixian.{p}" for p in LAYERS[LAYERS.index(package) + 1 :]} | ({"flows"} if package != "cli" else set())  # cli runs the flows
    for path in sources(package):
        where = str(path.relative_to(SOURCE))
        for name in imported_names(path):
            upward = any(name == a or name.startswith(a + ".") for a in above)
            assert not upward, f"{where} imports {name}, a layer above {package}"


def test_importing_the_pure_packages_loads_nothing_outer():
    modules = [".".join(("qixian", *path.relative_to(SOURCE).with_suffix("").parts)) for package in PURE for path in sources(package)]
    code = (
        "import sys\n"
        + "".join(f"import {m.removesuffix('.__init__')}\n" for m in modules)
        + f"print(sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
