"""The documentation is part of the product: commands have help with examples and are named in the README."""

import re
from pathlib import Path

import typer

from qixian.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_is_exactly_the_two_make_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert re.search(r"```\nmake demo\nmake test\n```", quick)


def test_readme_has_a_section_for_each_user():
    for section in ("## 办案民警", "## 法制部门", "## 运维"):
        assert section in README


def leaf_commands(group, prefix="qixian"):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            assert command.help, f"{prefix} {name}"
            yield from leaf_commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def test_every_command_has_help_with_an_example_and_is_in_the_readme():
    names = []
    for name, command in leaf_commands(typer.main.get_command(app)):
        names.append(name)
        assert command.help and "示例：" in command.help, name
        assert name in README, name
    assert "qixian rules check" in names


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_top_level_folders_say_what_they_are_for():
    for folder in ("flows", "rules", "notify", "deployments", "tests", "bench"):
        assert (ROOT / folder).is_dir(), folder
    for folder in ("flows", "notify", "deployments", "rules"):
        assert (ROOT / folder / "README.md").is_file(), folder


def test_every_production_command_in_the_readme_is_run_by_the_production_check():
    """deployments/check-production.sh runs the README's production commands (with its own database names, host and
    port): each command's program and subcommands, and each variable exported, appear in it."""
    ops = README.split("**生产环境**", 1)[1].split("```", 2)[1]
    script = (ROOT / "deployments" / "check-production.sh").read_text(encoding="utf-8")
    commands = [line for line in ops.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) >= 12
    for line in commands:
        if line.startswith("export "):
            assert f"export {line.split()[1].split('=')[0]}=" in script, line
            continue
        words = [w for w in line.split() if "=" not in w]  # VAR=value prefixes set the environment
        path = []
        for word in words:
            if path and not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            path.append(word)
        assert " ".join(path) in script, line
