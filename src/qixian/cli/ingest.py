"""`qixian ingest`: events in from a file, a folder or a view in the case system, clocks out."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from qixian.casework.feeds import FeedReport, files_in, ingest_path, ingest_sql
from qixian.cli._output import InputError, console, now_from, open_store
from qixian.cli._output import table as new_table
from qixian.cli.options import Db, Now, Rules
from qixian.cli.packs import in_force


def ingest(
    path: Annotated[Path | None, typer.Argument(help="事件文件（JSON Lines 或 CSV）或文件夹")] = None,
    sql: Annotated[str | None, typer.Option("--sql", help="办案系统数据库地址（轮询视图）")] = None,
    query: Annotated[str | None, typer.Option("--query", help="与 --sql 同用：查询事件的 SQL，可用 :watermark")] = None,
    watermark_column: Annotated[str, typer.Option("--watermark-column", help="水位列：每次记下读到的最大值")] = "at",
    source: Annotated[str, typer.Option("--source", help="事件来源系统名：同一来源、同一事件编号只采用一次")] = "case-system",
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl 或 csv（默认按扩展名）")] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="文件编码：utf-8，或较早的办案系统导出的 gb18030")] = "utf-8",
    db: Db = None,
    rules: Rules = None,
    now: Now = None,
) -> None:
    """导入办案系统的事件并重新计算相关案件的计时；无法采用的事件进入隔离区，说明原因。

    示例：

        qixian ingest examples/events.jsonl
    """
    if (path is None) == (not sql):  # an empty --sql is no address
        raise InputError("请给出事件文件/文件夹，或 --sql 数据库地址与 --query 查询，二者选一")
    if sql and not query:
        raise InputError("--sql 需要同时给出 --query")
    if path is not None and not path.exists():
        raise InputError(f"找不到 {path}")
    if fmt not in (None, "jsonl", "csv"):
        raise InputError("--format 应为 jsonl 或 csv")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"--encoding {encoding} 不是可识别的编码：应为 utf-8 或 gb18030") from None
    moment, store = now_from(now), open_store(db)
    try:
        pack = in_force(store, rules)
        if sql:
            assert query is not None, "--sql without --query was refused above"
            report = ingest_sql(store, pack, sql, query, source=source, now=moment, watermark_column=watermark_column)
        else:
            assert path is not None, "without --sql a path was required above"
            total = sum(_count_lines(f) for f in files_in(path))
            with Progress(
                TextColumn("导入事件"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True, disable=total < 20000
            ) as bar:
                task = bar.add_task("ingest", total=total)
                report = ingest_path(
                    store, pack, path, source=source, now=moment, fmt=fmt, parallel=True, progress=lambda n: bar.advance(task, n), encoding=encoding
                )
    finally:  # the database closed here, its write-ahead log copied in (SQLite), not left to the process's end
        store.engine.dispose()
    print_report(report)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def print_report(report: FeedReport) -> None:
    columns = ("读入", "采用", "重复（未改变）", "隔离", "涉及案件", "计时变化")
    table = new_table("导入结果", *columns, right=columns)
    table.add_row(
        str(report.lines),
        f"[green]{report.accepted}[/green]",
        str(report.duplicate),
        f"[red]{report.quarantined}[/red]" if report.quarantined else "0",
        str(report.cases),
        str(report.clocks_changed),
    )
    console.print(table)
    if report.quarantined:
        console.print("[yellow]有事件进入隔离区：qixian quarantine list 查看原因，改正后 qixian quarantine retry 重新导入。[/yellow]")
    if report.warned:
        console.print(f"[yellow]已采用、但需核对：{report.warned} 条（案件的单位或主办民警不在名录中）[/yellow]")
        for warning in report.warnings[:20]:
            console.print(warning, style="yellow", soft_wrap=True, markup=False)
        if report.warned > 20:
            console.print(f"其余 {report.warned - 20} 条未列出。", style="yellow")
