"""Options shared by the commands that use the case store: one spelling, one help text."""

from pathlib import Path
from typing import Annotated

import typer

Db = Annotated[str | None, typer.Option("--db", help="数据库地址；默认 $QIXIAN_DB 或 ./.qixian/qixian.db（SQLite）", show_default=False)]
Rules = Annotated[Path | None, typer.Option("--rules", help="规则包目录；默认 $QIXIAN_RULES 或 ./rules", show_default=False)]
Now = Annotated[str | None, typer.Option("--now", help='按此时间计算（默认当前时间），如 "2025-10-09 09:00"', show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="输出 JSON")]
Notify = Annotated[Path | None, typer.Option("--notify", help="提醒渠道配置目录；默认 $QIXIAN_NOTIFY 或 ./notify", show_default=False)]
By = Annotated[str | None, typer.Option("--by", help="上线人（记入上线记录）；默认 $USER", show_default=False)]
