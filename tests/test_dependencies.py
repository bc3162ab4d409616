"""Every dependency pyproject.toml declares is used, and everything imported is declared. A runtime dependency is
imported by the engine (src/qixian) or the flows, a test dependency by the tests, and no test dependency is needed
at run time. Two runtime dependencies are used without an import statement, and each is checked for what it is
there for: psycopg (SQLAlchemy loads it for postgresql:// URLs) and tzdata (zoneinfo reads Beijing's zone from it
where the host has no time-zone database). Distribution names are mapped to the names they are imported by from
the installed packages' own records."""

import ast
import re
import sys
import tomllib
import zoneinfo
from datetime import datetime, timedelta
from importlib.metadata import packages_distributions

from sqlalchemy import create_engine

from qixian.store.database import database_url
from tests.paths import ROOT

LOADED_WITHOUT_IMPORT = {"psycopg", "tzdata"}  # each checked by its own test below
RUN_AS_TOOLS = {"ruff", "mypy"}  # test dependencies run by `make lint`, never imported (checked below)
OURS = {"qixian", "flows", "tests", "bench"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> tuple[set[str], set[str]]:
    """(runtime, test) distribution names, without versions or extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = lambda requirements: {canonical(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}  # noqa: E731
    return names(project["dependencies"]), names(project["optional-dependencies"]["test"])


def distributions() -> dict[str, set[str]]:
    """{import name: the distributions that provide it}, as installed."""
    return {module: {canonical(d) for d in dists} for module, dists in packages_distributions().items()}


def imported(*folders: str) -> set[str]:
    """The top-level modules imported in the folders' Python files, by import statements and by name
    (pytest.importorskip, importlib.import_module)."""
    found = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
                elif (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("importorskip", "import_module")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.add(str(node.args[0].value).split(".")[0])
    return found - set(sys.stdlib_module_names) - OURS


def used(modules: set[str]) -> set[str]:
    """The distributions the modules come from."""
    provided = distributions()
    return {dist for module in modules for dist in provided.get(module, {canonical(module)})}


def test_every_declared_dependency_is_imported_where_it_belongs():
    runtime, test = declared()
    at_run_time, in_tests = used(imported("src", "flows")), used(imported("tests"))
    assert runtime - at_run_time == LOADED_WITHOUT_IMPORT, "declared for run time, imported by neither src nor flows"
    assert test - in_tests == RUN_AS_TOOLS, "declared for the tests, imported by none"
    assert test & at_run_time == set(), "a test dependency imported at run time"


def test_everything_imported_is_declared():
    runtime, test = declared()
    assert used(imported("src", "flows")) - runtime == set(), "imported at run time, not among the dependencies"
    assert used(imported("tests")) - runtime - test == set(), "imported by the tests, declared nowhere"


def test_postgresql_urls_are_served_by_psycopg():
    engine = create_engine(database_url("postgresql://qixian@127.0.0.1:5432/qixian"))  # (no connection is made)
    assert engine.dialect.driver == "psycopg" and type(engine.dialect).import_dbapi().__name__ == "psycopg"


def test_beijing_time_is_found_without_the_hosts_time_zone_database():
    zoneinfo.reset_tzpath(to=[])  # as on a host without /usr/share/zoneinfo: only the tzdata package is left
    try:
        shanghai = zoneinfo.ZoneInfo.no_cache("Asia/Shanghai")
    finally:
        zoneinfo.reset_tzpath()
    assert datetime(2025, 10, 1, 12, tzinfo=shanghai).utcoffset() == timedelta(hours=8)


def test_the_lint_tools_are_configured_and_run_by_make_lint():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for tool in RUN_AS_TOOLS:
        assert tool in project["tool"], f"[tool.{tool}] missing from pyproject.toml"
        assert f"$(BIN)/{tool}" in makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0], f"make lint does not run {tool}"
    assert "make lint\nmake test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
