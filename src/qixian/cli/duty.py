"""`qixian duty open | done | list`: the recurring duties of units (日梳理、周研判、月会商)."""

from __future__ import annotations

from typing import Annotated

import typer

from qixian.casework import campaign
from qixian.cli._output import InputError, console, now_from, open_store, print_json
from qixian.cli._output import table as new_table
from qixian.cli.options import Db, Json, Now, Rules
from qixian.cli.packs import in_force
from qixian.engine.clocks import ClockState
from qixian.legaltime.localtime import display
from qixian.supervision.clockview import state_of

app = typer.Typer(help="常态化工作：各单位的日梳理、周研判、月会商（按周期计时，漏做的计为超期）。", no_args_is_help=True)

Unit = Annotated[list[str] | None, typer.Option("--unit", help="单位编号（见单位、民警名录），可写多次", show_default=False)]
At = Annotated[str | None, typer.Option("--at", help='发生时间（默认当前时间），如 "2026-10-09 16:00"', show_default=False)]


@app.command("open")
def duty_open(
    unit: Unit = None,
    all_units: Annotated[bool, typer.Option("--all", help="名录中的全部单位")] = False,
    at: At = None,
    db: Db = None,
    rules: Rules = None,
    now: Now = None,
) -> None:
    """开始某些单位的常态化工作计时：自此时所在的周期起，每个周期须有一条完成记录。已开始的单位不变。

    示例：

        qixian duty open --unit chengguan --at "2026-09-14 09:00"

        qixian duty open --all
    """
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    units = sorted(store.directory().units) if all_units else list(unit or [])
    if not units:
        raise InputError("请用 --unit 指定单位，或 --all 表示名录中的全部单位")
    unknown = [u for u in units if u not in store.directory().units]
    if unknown:
        raise InputError(f"名录中没有单位 {'、'.join(unknown)}：先用 qixian directory load 导入单位、民警名录")
    report = campaign.open_duties(store, pack, units, now_from(at, "--at") if at else moment, moment)
    console.print(f"已开始 {report.accepted} 个单位的常态化工作计时（其余已开始）。")


@app.command("done")
def duty_done(
    unit: Annotated[str, typer.Option("--unit", help="单位编号", show_default=False)],
    duty: Annotated[str, typer.Option("--duty", help="工作名称或规则编号：日梳理、周研判、月会商", show_default=False)],
    at: At = None,
    period: Annotated[str | None, typer.Option("--period", help="补记某一周期时写明，如 2026-W40、2026-10、2026-10-08", show_default=False)] = None,
    by: Annotated[str | None, typer.Option("--by", help="记录人（民警编号）", show_default=False)] = None,
    note: Annotated[str | None, typer.Option("--note", help="备注", show_default=False)] = None,
    db: Db = None,
    rules: Rules = None,
    now: Now = None,
) -> None:
    """记录一个单位完成了一次常态化工作（满足其所在周期；写 --period 则补记该周期，期满后记录的为超期完成）。

    示例：

        qixian duty done --unit chengguan --duty 周研判 --at "2026-10-09 16:00" --by officer-9
    """
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    try:
        report = campaign.record_duty(store, pack, unit, duty, now_from(at, "--at") if at else moment, moment, period=period, by=by, note=note)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    said = "已记录" if report.accepted else "此前已记录（未改变）"
    console.print(f"{said}：{store.directory().unit_name(unit)} {campaign.duty_named(pack, duty).name}。")


@app.command("list")
def duty_list(unit: Unit = None, as_json: Json = False, db: Db = None, rules: Rules = None, now: Now = None) -> None:
    """列出各单位常态化工作的周期：周期、期满时间、完成情况（超期的为红色）。

    示例：

        qixian duty list --unit chengguan
    """
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    rows = campaign.duty_periods(store, pack, units=unit)
    if as_json:
        print_json([{**r, "state": state_of(r["clock"], moment), "clock": r["clock"].id, "due": display(r["clock"].due_at)} for r in rows])
        return
    table = new_table(f"常态化工作（{len(rows)} 个周期）", "单位", "工作", "周期", "期满", "状态", wide=("单位", "工作"))
    for r in rows:
        state = state_of(r["clock"], moment)
        label = {
            ClockState.OVERDUE: "[bold red]超期未做[/bold red]",
            ClockState.MET: "按期完成",
            ClockState.MET_LATE: "[red]超期完成[/red]",
            ClockState.CANCELLED: "已停止",
        }.get(state, "进行中")
        table.add_row(r["unit_name"], r["duty"], r["period"], display(r["clock"].due_at), label)
    console.print(table)
