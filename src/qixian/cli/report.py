"""`qixian report` (事后考核): the assessment report of a period, in the terminal or as files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich import box

from qixian.cli._output import InputError, console, now_from, open_store, print_json
from qixian.cli._output import table as new_table
from qixian.cli.options import Db, Now, Rules
from qixian.cli.packs import in_force
from qixian.legaltime.localtime import display
from qixian.supervision.reports import Scope, day_start, scope_label
from qixian.supervision.reports import report as build_report
from qixian.supervision.reportviews import MEASURES, as_csv, as_html, basis_note, basis_parts, cells, period_label, sections

FORMATS = ("table", "csv", "html", "json")


# the terminal shows these measures, with short headings (csv, html and json have them all)
SHORT = {
    "assessed": "应办结",
    "met": "按期",
    "met_late": "超期完成",
    "overdue": "当前超期",
    "overdue_rate": "超期率",
    "reminders": "提醒",
    "acknowledged": "确认",
    "to_completion_hours_median": "完成用时h",
    "ack_latency_minutes_median": "确认用时m",
}


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option} 应为日期，如 2025-10-01，收到 {text!r}") from None


def report(
    start: Annotated[str, typer.Option("--from", help="起始日期（含），如 2025-10-01", show_default=False)],
    end: Annotated[str, typer.Option("--to", help="截止日期（含当日），如 2025-10-31", show_default=False)],
    unit: Annotated[str | None, typer.Option("--unit", help="只看一个单位（名录中的单位编号）", show_default=False)] = None,
    officer: Annotated[str | None, typer.Option("--officer", help="只看一名主办民警（名录中的民警编号）", show_default=False)] = None,
    fmt: Annotated[str, typer.Option("--format", help="table（终端表格）、csv、html（含图表的单页）或 json")] = "table",
    output: Annotated[Path | None, typer.Option("--output", help="写入文件（默认输出到终端）", show_default=False)] = None,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            help="专项工作台账：clues（线索）、listings（挂牌督办）、duties（常态化工作）、counts（按单位统计）；html 格式一页列出全部",
            show_default=False,
        ),
    ] = None,
    db: Db = None,
    rules: Rules = None,
    now: Now = None,
) -> None:
    """考核报表：期间内期满的计时按期完成、超期完成、当前超期、超期率，按提醒类型、规则、单位、民警、周分组，
    以及提醒至完成用时、确认用时、暂停时间、延长与异常。计时按期满时间归属期间。加 --ledger 输出专项工作台账。

    示例：

        qixian report --from 2025-10-01 --to 2025-10-31 --unit chengguan --format html --output 十月.html

        qixian report --from 2026-10-01 --to 2026-10-31 --ledger clues --format csv --output 线索台账.csv
    """
    first, last = _day("--from", start), _day("--to", end)
    if last < first:
        raise InputError(f"--to {last} 早于 --from {first}：截止日期应不早于起始日期")
    if fmt not in FORMATS:
        raise InputError(f"--format 应为 {'、'.join(FORMATS)} 之一，收到 {fmt!r}")
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    directory = store.directory()
    if unit is not None and unit not in directory.units:
        raise InputError(f"名录中没有单位 {unit}：可用的单位编号为 {'、'.join(directory.units) or '（名录为空，先运行 qixian directory load）'}")
    if officer is not None and officer not in directory.officers:
        raise InputError(f"名录中没有民警 {officer}：请用名录中的民警编号（qixian directory load 载入的 id）")
    if ledger is not None:
        _ledger(store, pack, ledger, fmt, output, day_start(first), day_start(last + timedelta(days=1)), moment, Scope(unit, officer))
        return
    result = build_report(store, pack, day_start(first), day_start(last + timedelta(days=1)), moment, Scope(unit, officer))
    if fmt == "table":
        _print_tables(result)
        return
    if fmt == "json":
        if output is None:
            print_json(result.as_dict())
            return
        import json

        text = json.dumps(result.as_dict(), ensure_ascii=False, indent=2)
    else:
        text = as_csv(result) if fmt == "csv" else as_html(result)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"[green]报表已写入 {output}[/green]（{result.scope_label}，{period_label(result)}）")


def _ledger(store, pack, kind: str, fmt: str, output: Path | None, start, end, moment, scope: Scope) -> None:
    """A campaign ledger (qixian.ledgers) in the terminal, as CSV (one ledger) or as one HTML page (all of them)."""
    from qixian.supervision import ledgers

    if kind not in ledgers.KINDS:
        raise InputError(f"--ledger 应为 {'、'.join(f'{k}（{v}）' for k, v in ledgers.KINDS.items())} 之一，收到 {kind!r}")
    if fmt == "json":
        raise InputError("台账的格式为 table、csv 或 html")
    found = ledgers.build(store, pack, start, end, moment, ledgers.narrow_to(scope), scope_label(scope, store.directory()))
    if fmt == "table":
        headings, body = ledgers.rows(found, kind)
        table = new_table(f"{ledgers.KINDS[kind]}：{found.scope_label}（{len(body)} 行）", *headings, wide=tuple(headings))
        for row in body:
            table.add_row(*(str(value) for value in row), style="red" if "是" in row[-1:] or (kind == "duties" and row[5]) else None)
        console.print(table)
        return
    text = ledgers.ledger_csv(found, kind) if fmt == "csv" else ledgers.ledger_html(found)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"[green]台账已写入 {output}[/green]（{found.scope_label}）")


def _print_tables(result) -> None:
    total = result.total
    console.print(f"[bold]执法办案期限考核：{result.scope_label}，{period_label(result)}[/bold]（按期满时间归属；统计时点 {display(result.now)}）")
    console.print(
        f"应办结 {total.assessed}，[green]按期完成 {total.met}[/green]，[yellow]超期完成 {total.met_late}[/yellow]，"
        f"[bold red]当前超期 {total.overdue}[/bold red]，超期率 {cells(total)[5]}；未到期 {total.pending}；"
        f"提醒 {total.reminders} 次（超期 {total.overdue_reminders}），已确认 {total.acknowledged}"
    )
    for part in basis_parts(result):  # law and working standards apart, at a glance
        console.print(f"  {part}")
    if note := basis_note(result):
        console.print(f"  [dim]{note}[/dim]")
    for title, rows in sections(result):
        if not rows:
            continue
        table = new_table(
            title,
            "名称",
            *SHORT.values(),
            wide=("名称",),
            right=tuple(SHORT.values()),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 0),
            show_edge=False,
        )  # ten columns in 80
        table.columns[0].min_width = 12
        for row in rows[:30]:
            shown = [value for (name, _), value in zip(MEASURES, cells(row.tally), strict=False) if name in SHORT]
            if row.tally.overdue:
                shown[3] = f"[bold red]{shown[3]}[/bold red]"
            table.add_row(row.label, *shown)
        console.print(table)
        if len(rows) > 30:
            console.print(f"（另有 {len(rows) - 30} 行，用 --format csv 或 html 查看全部）")
    _print_list("暂停时间（按原因）", ("原因", "本期暂停（小时）", "计时数"), [(r, f"{h:.1f}", str(n)) for r, h, n in result.paused])
    _print_list("延长（本期批准）", ("延长事项", "次数"), [(e, str(n)) for e, n in result.extensions])
    _print_list("异常", ("异常", "案件", "规则", "人员", "说明"), [(f.label, f.case, f.rule, f.person or "（本案）", f.message) for f in result.anomalies])


def _print_list(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    if not rows:
        console.print(f"{title}：无")
        return
    table = new_table(title, *columns, wide=columns[:1] + columns[-1:], title_justify="left")
    for row in rows:
        table.add_row(*row)
    console.print(table)
