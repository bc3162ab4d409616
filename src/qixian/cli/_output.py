"""One way to print: rich consoles for results and errors, JSON, and where the rule pack is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

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
    """The rule pack folder (see qixian.ops.config.rules_dir), or a one-line error."""
    from qixian.ops.config import ConfigError
    from qixian.ops.config import rules_dir as resolve

    try:
        return resolve(option)
    except ConfigError as exc:
        raise InputError(str(exc)) from None


def now_from(option: str | None, name: str = "--now"):
    """--now T (or the option `name`), or the real now, in Beijing time: every answer that depends on the time
    takes it."""
    from datetime import datetime

    from qixian.legaltime.localtime import SHANGHAI, TimeFormatError, parse_local

    if option is None:
        return datetime.now(SHANGHAI)
    try:
        return parse_local(option)
    except TimeFormatError as exc:
        raise InputError(f"{name}：{exc}") from None


def open_store(db: str | None):
    """The case store at --db / $QIXIAN_DB, or a one-line error saying to run `qixian db upgrade`."""
    from qixian.store.repository import Store, StoreError

    try:
        return Store.open(db)
    except StoreError as exc:
        raise InputError(str(exc)) from None


def table(title: str | None, *columns: str, wide: tuple[str, ...] = (), right: tuple[str, ...] = (), **options):
    """A rich table that keeps short tokens whole at 80 columns: the `wide` columns (names, messages, raw lines)
    fold onto more lines (their headings stay whole); every other column holds short tokens (a time, a count, a state such as 超期完成 or
    已超期8天17小时) and its cells and heading are never split ( … marks one cut on a terminal far too narrow)."""
    from rich.cells import cell_len
    from rich.table import Table

    grid = Table(title=title, **options)
    for column in columns:
        justify: Literal["right", "left"] = "right" if column in right else "left"
        if column in wide:
            grid.add_column(column, overflow="fold", min_width=cell_len(column), justify=justify)
        else:
            grid.add_column(column, no_wrap=True, overflow="ellipsis", min_width=cell_len(column), justify=justify)
    return grid
