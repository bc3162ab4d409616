"""`qixian ack`: an officer acknowledges an overdue reminder."""

from __future__ import annotations

from typing import Annotated

import typer

from qixian.cli._output import InputError, console, now_from, open_store
from qixian.cli.options import Db, Now
from qixian.legaltime.localtime import display
from qixian.store.people import AcknowledgeError


def ack(
    outbox_id: Annotated[int, typer.Argument(help="提醒编号（qixian scan --json 中每条提醒的 id）")],
    officer: Annotated[str, typer.Option("--officer", help="确认的民警编号（只能确认发给自己、且自己仍在名录中并负责该案的提醒）", show_default=False)],
    db: Db = None,
    now: Now = None,
) -> None:
    """确认收到一条提醒：记录谁、何时确认；确认超期提醒后，该期限此后的重复超期提醒不再发给单位负责人等升级对象（计时照常）。

    示例：

        qixian ack 42 --officer officer-1
    """
    moment, store = now_from(now), open_store(db)
    try:
        record, new = store.acknowledge(outbox_id, officer, "cli", moment)
    except AcknowledgeError as exc:
        raise InputError(str(exc)) from None
    when = display(record.at)
    if new:
        console.print(f"[green]已确认提醒 {outbox_id}（{officer}，{when}）。[/green]")
    else:
        console.print(f"提醒 {outbox_id} 已于 {when} 由 {record.officer} 确认过，未重复记录。")
