"""`qixian clocks`: the clocks of every case, or those due soon."""

from __future__ import annotations

from typing import Annotated

import typer

from qixian.cli._output import InputError, console, now_from, open_store, print_json
from qixian.cli._output import table as new_table
from qixian.cli.options import Db, Json, Now, Rules
from qixian.cli.packs import in_force
from qixian.engine.clocks import OPEN_STATES, ClockState
from qixian.legaltime.localtime import SHANGHAI, display
from qixian.supervision.clockview import STATES, left, state_of

COLOURS = {
    ClockState.RUNNING: "green",
    ClockState.PROVISIONAL: "yellow",
    ClockState.PAUSED: "yellow",
    ClockState.OVERDUE: "bold red",
    ClockState.MET: "dim",
    ClockState.MET_LATE: "red",
    ClockState.CANCELLED: "dim",
    ClockState.RESTARTED: "dim",
}


def clocks(
    case: Annotated[str | None, typer.Option("--case", help="只看此案件")] = None,
    state: Annotated[str | None, typer.Option("--state", help="running paused met met_late overdue cancelled provisional")] = None,
    due_before: Annotated[str | None, typer.Option("--due-before", help="只看此时间之前期满的未完成计时")] = None,
    due_after: Annotated[str | None, typer.Option("--due-after", help="只看此时间及以后期满的未完成计时")] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多列出多少条")] = 200,
    as_json: Json = False,
    db: Db = None,
    rules: Rules = None,
    now: Now = None,
) -> None:
    """列出计时：期满时间、剩余时间和状态（颜色：绿 计时中，黄 暂停/临时，红 超期）。

    示例：

        qixian clocks --state overdue --now "2025-10-09 09:00"

        qixian clocks --due-after "2025-10-09 09:00" --due-before "2025-10-09 10:00"
    """
    if state is not None and state not in STATES:
        raise InputError(f"--state 应为 {'、'.join(STATES)} 之一")
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    before = now_from(due_before, "--due-before") if due_before else None
    after = now_from(due_after, "--due-after") if due_after else None
    rows = [
        r for r in store.clocks(case=case, due_before=before, due_after=after, open_only=state in OPEN_STATES) if state is None or state_of(r, moment) == state
    ][:limit]
    if as_json:
        print_json(
            [
                {
                    "case": r.case_id,
                    "person": r.person or None,
                    "rule": r.rule_id,
                    "rule_name": pack.name_of(r.rule_id),
                    "version": r.rule_version or None,
                    "state": state_of(r, moment),
                    "due": r.due_at.astimezone(SHANGHAI).isoformat() if r.due_at else None,
                    "due_display": r.due_display,
                    "provisional": r.provisional,
                    "left": left(r, moment),
                    "next_reminder": r.next_reminder_at.astimezone(SHANGHAI).isoformat() if r.next_reminder_at else None,
                }
                for r in rows
            ]
        )
        return
    table = new_table(f"计时（{len(rows)} 条，按 {display(moment)}）", "案件", "人员", "规则", "期满", "剩余", "状态", wide=("案件", "规则"))
    for r in rows:
        current = state_of(r, moment)
        colour = COLOURS[current]
        table.add_row(r.case_id, r.person, pack.name_of(r.rule_id), r.due_display or "—", left(r, moment), f"[{colour}]{STATES[current]}[/{colour}]")
    console.print(table)
