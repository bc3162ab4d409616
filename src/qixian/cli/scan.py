"""`qixian scan`: owe the reminders whose time has come, send them, record the deliveries."""

from __future__ import annotations

from typing import Annotated

import typer

from qixian.alerting.failures import failing
from qixian.alerting.messages import LEVELS, NotifyConfig, NotifyConfigError, sms_segments
from qixian.alerting.scan import scan as run_scan
from qixian.cli._output import InputError, console, errors, now_from, open_store, print_json
from qixian.cli._output import table as new_table
from qixian.cli.options import Db, Json, Notify, Now, Rules
from qixian.cli.packs import in_force
from qixian.legaltime.localtime import display
from qixian.ops import audit
from qixian.store.scanlock import ScanBusy


def scan(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只显示将要发送的提醒，不发送、不记录")] = False,
    as_json: Json = False,
    db: Db = None,
    rules: Rules = None,
    notify: Notify = None,
    now: Now = None,
) -> None:
    """扫描一次：到点的提醒写入待发队列并发送（短信、工作群），超期的同时告知单位负责人、法制员。同一时刻重复运行不会重复发送。

    示例：

        qixian scan --now "2025-10-05 09:00" --dry-run
    """
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    try:
        config = NotifyConfig.load(notify)
        report = run_scan(store, pack, config, moment, dry_run=dry_run)
    except (NotifyConfigError, audit.AuditKeyError) as exc:
        raise InputError(str(exc)) from None
    except ScanBusy as exc:
        errors.print(f"[red]错误：[/red]{exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        print_json(
            [
                {
                    "recipient": m.recipient,
                    "name": m.name,
                    "level": m.level,
                    "digest": m.digest,
                    "channel": m.channel,
                    "keys": m.keys,
                    "items": [
                        {
                            "id": ident,
                            "case": i.case,
                            "rule": i.rule_name,
                            "step": i.step,
                            "person": i.person or None,
                            "due": i.due,
                            "left": i.left,
                            "level": i.level,
                            "late": i.late,
                        }
                        for ident, i in zip(m.ids, m.items, strict=False)
                    ],
                    "sms": m.text,
                    "chat": m.chat,
                }
                for m in report.messages
            ]
        )
        return
    title = f"扫描 {display(moment)}：{report.scanned.clocks} 个计时到点，{len(report.scanned.owed)} 条提醒" + ("（演练，未发送）" if dry_run else "")
    table = new_table(title, "收件人", "级别", "提醒", "短信", wide=("收件人", "短信"), right=("提醒",))
    for message in report.messages:
        table.add_row(message.name, LEVELS[message.level], str(len(message.keys)), f"{message.text}（{sms_segments(message.text)}段）")
    console.print(table)
    if report.scanned.replayed:
        console.print(f"[yellow]先补算了 {report.scanned.replayed} 起案件的计时：它们的事件已导入、计时尚未按事件重算（上一次导入或重算被中断）。[/yellow]")
    delivered = report.delivered
    if not dry_run:
        console.print(
            f"已发送 {delivered.sent} 条消息（{delivered.attempts} 次尝试）；稍后重试 {delivered.failed}；"
            f"达到渠道发送上限、顺延发送 {delivered.deferred}；无法送达 {delivered.undeliverable}"
        )
        if delivered.failed or delivered.undeliverable:
            for failure in failing(store, moment):
                console.print(failure.line(), style="yellow", soft_wrap=True, markup=False)
    if report.scanned.digests:
        console.print(f"每日超期汇总：{report.scanned.digests} 人（重复提醒次数已满、仍超期的计时，每人每天一条）")
    if report.scanned.caught_up:
        late = new_table(
            f"停机补发：{report.scanned.caught_up} 个计时在无人扫描时跨过了提醒节点，每个只发最严重的一条，标为补发",
            "案件",
            "人员",
            "规则",
            "跨过的节点",
            "节点时间",
            wide=("案件", "规则", "跨过的节点"),
            title_style="yellow",
        )
        for clock in report.scanned.late[:20]:
            crossed = f"{clock.label}（共 {clock.crossed} 个）" if clock.crossed > 1 else clock.label
            late.add_row(clock.case_id, clock.person, pack.name_of(clock.rule_id), crossed, display(clock.step_at))
        console.print(late)
        if report.scanned.caught_up > 20:
            console.print(f"其余 {report.scanned.caught_up - 20} 个见 qixian health --json（catch_up）。")
    for problem in report.scanned.problems[:20]:
        console.print(f"[yellow]名录问题：{problem}[/yellow]", soft_wrap=True)
