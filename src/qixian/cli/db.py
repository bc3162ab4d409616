"""`qixian db ...`: the case store's schema."""

import typer
from rich.markup import escape

from qixian.cli._output import InputError, console
from qixian.cli.options import Db
from qixian.store.database import UnusableDatabase, database_url, shown
from qixian.store.database import upgrade as run_upgrade

app = typer.Typer(help="案件库：建表与升级。", no_args_is_help=True)


@app.command("upgrade")
def upgrade(db: Db = None) -> None:
    """建立或升级案件库的表（Alembic 迁移）；可重复运行。

    示例：

        qixian db upgrade --db postgresql://postgres@127.0.0.1:5432/qixian
    """
    url = database_url(db)
    try:
        before, after = run_upgrade(url)
    except UnusableDatabase as exc:
        raise InputError(str(exc)) from None
    if before == after:
        console.print(f"[green]案件库已是最新（迁移 {after}），无需升级：{escape(shown(url))}[/green]", soft_wrap=True)
    elif before is None:
        console.print(f"[green]已建立案件库的表（迁移 {after}）：{escape(shown(url))}[/green]", soft_wrap=True)
    else:
        console.print(f"[green]案件库已从迁移 {before} 升级到 {after}：{escape(shown(url))}[/green]", soft_wrap=True)
