"""`qixian db ...`: the case store's schema."""

import typer

from qixian.cli._output import console
from qixian.cli.options import Db
from qixian.store.database import database_url, upgrade as run_upgrade

app = typer.Typer(help="案件库：建表与升级。", no_args_is_help=True)


@app.command("upgrade")
def upgrade(db: Db = None) -> None:
    """建立或升级案件库的表（Alembic 迁移）；可重复运行。

    示例：

        qixian db upgrade --db postgresql://postgres@127.0.0.1:5432/qixian
    """
    url = database_url(db)
    run_upgrade(url)
    shown = url.split("@")[-1] if "@" in url else url
    console.print(f"[green]案件库已是最新：{shown}[/green]")
