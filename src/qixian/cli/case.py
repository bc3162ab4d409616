"""`qixian case show`: one case's timeline and clocks."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from qixian.cli._output import InputError, console, now_from, open_store
from qixian.cli.clocks import COLOURS
from qixian.cli.options import Db, Now, Rules
from qixian.cli.packs import in_force
from qixian.legaltime.localtime import display
from qixian.supervision.clockview import STATES, left, state_of

app = typer.Typer(help="案件：时间线与计时。", no_args_is_help=True)


@app.command("show")
def case_show(
    case_id: Annotated[str, typer.Argument(help="案件编号")],
    db: Db = None,
    rules: Rules = None,
    now: Now = None,
) -> None:
    """一个案件的时间线（事件）和全部计时，附每个期满时间的计算说明。

    示例：

        qixian case show "（2025）城关刑字第0001号"
    """
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    info = store.case(case_id)
    events = store.events_of(case_id)
    if info is None and not events:
        raise InputError(f"没有案件 {case_id!r}")
    if info is not None:
        directory = store.directory()
        helpers = "、".join(directory.name_of(o) for o in info.co_handlers or ())
        console.print(
            f"[bold]{escape(case_id)}[/bold] {escape(info.title or '')}  类别：{escape(pack.kind_label(info.kind))}  "
            f"单位：{escape(directory.unit_name(info.unit))}  "
            f"主办：{escape(directory.name_of(info.handler) if info.handler else '—')}" + (f"  协办：{escape(helpers)}" if helpers else ""),
            soft_wrap=True,
        )
    console.rule("时间线")
    for e in events:
        who = f" {e.person}" if e.person else ""
        data = f"  {pack.data_text(e.data)}" if e.data else ""
        console.print(f"{display(e.at)}  {pack.event_name(e.type)}{who}{data}", soft_wrap=True, markup=False)
    console.rule("计时")
    for r in store.clocks(case=case_id):
        current = state_of(r, moment)
        colour = COLOURS[current]
        name = pack.name_of(r.rule_id)
        who = f"（{r.person}）" if r.person else ""
        console.print(f"[bold]{name}{who}[/bold] 期满 {r.due_display or '—'}  [{colour}]{STATES[current]}[/{colour}] {left(r, moment)}")
        for n, step in enumerate(r.explanation, 1):
            console.print(f"    {n}. {step}", soft_wrap=True, markup=False)
