"""One way to print: rich consoles for results and errors, JSON, and where the rule pack is."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

USAGE = 2  # bad input: the command line or a value in it


class InputError(Exception):
    """A value the user typed that we cannot use; printed as one line, exit status 2."""


def print_json(data) -> None:
    """JSON on stdout, UTF-8, not escaped, so officers can read it and tools can parse it."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def rules_dir(option: Path | None) -> Path:
    """The rule pack folder: --rules, else $QIXIAN_RULES, else ./rules, else the project's own rules/."""
    chosen = option or os.environ.get("QIXIAN_RULES")
    if chosen:  # asked for by name: use it or say why not, never fall back silently
        if not Path(chosen, "calendar").is_dir():
            raise InputError(f"规则包目录 {chosen} 不存在或其中没有 calendar/ 子目录")
        return Path(chosen)
    for candidate in (Path("rules"), Path(__file__).resolve().parents[3] / "rules"):
        if Path(candidate, "calendar").is_dir():
            return candidate
    raise InputError("找不到规则包目录 rules/：请用 --rules DIR 或环境变量 QIXIAN_RULES 指定")


def now_from(option: str | None):
    """--now T, or the real now, in Beijing time: every answer that depends on the time takes it."""
    from datetime import datetime

    from qixian.localtime import SHANGHAI, TimeFormatError, parse_local

    if option is None:
        return datetime.now(SHANGHAI)
    try:
        return parse_local(option)
    except TimeFormatError as exc:
        raise InputError(f"--now：{exc}") from None


def open_store(db: str | None):
    """The case store at --db / $QIXIAN_DB, or a one-line error saying to run `qixian db upgrade`."""
    from qixian.store.repository import Store, StoreError

    try:
        return Store.open(db)
    except StoreError as exc:
        raise InputError(str(exc)) from None
