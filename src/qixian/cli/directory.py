"""`qixian directory load`: the units and officers reminders go to."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qixian.casework.directory import read_directory
from qixian.cli._output import InputError, console, errors, open_store
from qixian.cli.options import Db
from qixian.legaltime.yamlsource import ProblemsFound

app = typer.Typer(help="单位与民警名录（提醒发给谁）。", no_args_is_help=True)


@app.command("load")
def directory_load(
    file: Annotated[Path, typer.Argument(help="名录文件（units、officers），如 notify/directory.yaml")],
    db: Db = None,
) -> None:
    """载入单位与民警名录（替换原名录）：手机号、工作群地址、单位负责人、法制员、值班电话。

    示例：

        qixian directory load notify/directory.yaml
    """
    if not file.is_file():
        raise InputError(f"找不到名录文件 {file}")
    try:
        directory = read_directory(file)
    except ProblemsFound as found:
        for problem in found.problems:
            errors.print(str(problem), soft_wrap=True, markup=False)
        raise typer.Exit(1) from None
    open_store(db).replace_directory(directory)
    console.print(f"[green]名录已载入：{len(directory.units)} 个单位，{len(directory.officers)} 名民警。[/green]")
