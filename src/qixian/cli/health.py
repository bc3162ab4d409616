"""`qixian health`: for ops and probes; `--alert` is the dead-man's switch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

import typer
from rich.markup import escape

from qixian.alerting.messages import NotifyConfig, NotifyConfigError
from qixian.cli._output import InputError, console, now_from, print_json, rules_dir
from qixian.cli._output import table as new_table
from qixian.cli.options import Db, Json, Notify, Now, Rules
from qixian.legaltime.localtime import display
from qixian.ops.health import OK, UNHEALTHY, WARNING, check
from qixian.ops.health import alert as send_alert

UNHEALTHY_EXIT = 1


STATUS = {OK: "[green]正常[/green]", WARNING: "[yellow]注意[/yellow]", UNHEALTHY: "[bold red]异常[/bold red]"}


def health(
    alert: Annotated[bool, typer.Option("--alert", help="异常时通过 notify/channels.yaml 的 ops 渠道告知运维（供 cron/systemd 定时运行）")] = False,
    interval: Annotated[int, typer.Option("--interval", min=1, help="扫描间隔（分钟）：超过 3 个间隔没有完成扫描即为异常")] = 1,
    as_json: Json = False,
    db: Db = None,
    rules: Rules = None,
    notify: Notify = None,
    now: Now = None,
) -> None:
    """系统是否正常：最近一次扫描及延迟、待发队列、无法送达、隔离区、案件库文件权限、节假日日历、在用的规则包、停机补发。异常时以状态码 1 退出（供探针使用）。

    示例：

        qixian health

        qixian health --alert --interval 1      # cron 每 5 分钟运行：3 分钟没有完成扫描即告知运维
    """
    moment, folder = now_from(now), rules_dir(rules)
    config = channels(notify, lambda c: c.ops, "--alert 需要运维渠道：在 notify/channels.yaml 中写 ops: [渠道地址, ...]") if alert else None
    report = check(db, folder, moment, timedelta(minutes=interval))
    alerted = send_alert(report, config) if config else []
    if as_json:
        print_json({**report.as_json(), "alerted": [{"url": a.url, "ok": a.ok} for a in alerted]})
    else:
        table = new_table(f"Qixian 运行状况（{display(moment)}）：{STATUS[report.status]}", "检查", "状态", "说明", wide=("说明",))
        for item in report.checks:
            table.add_row(item.label, STATUS[item.status], item.summary)
        console.print(table)
        told("告知运维", alerted)
    if alerted and not any(a.ok for a in alerted):
        console.print("[bold red]所有运维渠道都未送达：检查 notify/channels.yaml 的 ops 地址与网络。[/bold red]")
    if report.status == UNHEALTHY:
        raise typer.Exit(UNHEALTHY_EXIT)


def channels(notify, needed: Callable[[NotifyConfig], tuple], missing: str) -> NotifyConfig:
    """notify/channels.yaml, or a one-line error when it cannot be read or names none of the channels `needed`."""
    try:
        config = NotifyConfig.load(notify)
    except NotifyConfigError as exc:
        raise InputError(str(exc)) from None
    if not needed(config):
        raise InputError(missing)
    return config


def told(what: str, told) -> None:
    for sent in told:
        colour = "green" if sent.ok else "red"
        console.print(f"[{colour}]{what} {escape(sent.url)}：{'已送达' if sent.ok else '未送达'}[/{colour}]", soft_wrap=True)
