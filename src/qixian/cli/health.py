"""`qixian health` (for ops and probes; `--alert` is the dead-man's switch) and `qixian audit verify`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from qixian import audit
from qixian.cli._output import InputError, console, now_from, open_store, print_json, rules_dir
from qixian.cli.alerting import Notify
from qixian.cli.options import Db, Json, Now, Rules
from qixian.health import OK, UNHEALTHY, WARNING, alert as send_alert, check
from qixian.localtime import display
from qixian.messages import NotifyConfig, NotifyConfigError

UNHEALTHY_EXIT = 1
STATUS = {OK: "[green]正常[/green]", WARNING: "[yellow]注意[/yellow]", UNHEALTHY: "[bold red]异常[/bold red]"}

audit_app = typer.Typer(help="发送记录（证据）：核对是否被改动。", no_args_is_help=True)


def health(
    alert: Annotated[bool, typer.Option("--alert", help="异常时通过 notify/channels.yaml 的 ops 渠道告知运维（供 cron/systemd 定时运行）")] = False,
    interval: Annotated[int, typer.Option("--interval", min=1, help="扫描间隔（分钟）：超过 3 个间隔没有完成扫描即为异常")] = 1,
    as_json: Json = False, db: Db = None, rules: Rules = None, notify: Notify = None, now: Now = None,
) -> None:
    """系统是否正常：最近一次扫描及延迟、待发队列、无法送达、隔离区、案件库文件权限、节假日日历、在用的规则包、停机补发。异常时以状态码 1 退出（供探针使用）。

    Example:

        qixian health

        qixian health --alert --interval 1      # cron 每 5 分钟运行：3 分钟没有完成扫描即告知运维
    """
    moment, folder = now_from(now), rules_dir(rules)
    config = None
    if alert:
        try:
            config = NotifyConfig.load(notify)
        except NotifyConfigError as exc:
            raise InputError(str(exc)) from None
        if not config.ops:
            raise InputError("--alert 需要运维渠道：在 notify/channels.yaml 中写 ops: [渠道地址, ...]")
    report = check(db, folder, moment, timedelta(minutes=interval))
    alerted = send_alert(report, config) if config else []
    if as_json:
        print_json({**report.as_json(), "alerted": [{"url": a.url, "ok": a.ok} for a in alerted]})
    else:
        table = Table(title=f"Qixian 运行状况（{display(moment)}）：{STATUS[report.status]}")
        for column in ("检查", "状态", "说明"):
            table.add_column(column, overflow="fold")
        for item in report.checks:
            table.add_row(item.label, STATUS[item.status], item.summary)
        console.print(table)
        for sent in alerted:
            colour = "green" if sent.ok else "red"
            console.print(f"[{colour}]告知运维 {sent.url}：{'已送达' if sent.ok else '未送达'}[/{colour}]", soft_wrap=True)
    if alerted and not any(a.ok for a in alerted):
        console.print("[bold red]所有运维渠道都未送达：检查 notify/channels.yaml 的 ops 地址与网络。[/bold red]")
    if report.status == UNHEALTHY:
        raise typer.Exit(UNHEALTHY_EXIT)


@audit_app.command("verify")
def verify(db: Db = None) -> None:
    """核对发送记录的哈希链：每条记录带有前一条的哈希和自身内容的哈希，被改动、删除或截断的，指出第一条出问题的记录。

    Example:

        qixian audit verify --db postgresql://postgres@127.0.0.1:5432/qixian
    """
    result = audit.verify(open_store(db))
    if result.broken is None:
        console.print(f"[green]发送记录完整：{result.rows} 条，哈希链核对无误。[/green]")
        return
    broken = result.broken
    when = f"（{display(broken.at)}，{broken.recipient}）" if broken.at else ""
    console.print(f"[bold red]发送记录第 {broken.id} 条{when}：{broken.reason}。[/bold red]此后的记录不能作为证据，"
                  "请从备份核对。", soft_wrap=True)
    raise typer.Exit(UNHEALTHY_EXIT)
