"""`qixian health` (for ops and probes; `--alert` is the dead-man's switch), `qixian audit verify` and
`qixian audit checkpoint`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.markup import escape

from qixian.ops import audit
from qixian.cli._output import InputError, console, now_from, open_store, print_json, rules_dir, table as new_table
from qixian.cli.alerting import Notify
from qixian.cli.options import Db, Json, Now, Rules
from qixian.ops.health import OK, UNHEALTHY, WARNING, alert as send_alert, check
from qixian.legaltime.localtime import display
from qixian.alerting.messages import NotifyConfig, NotifyConfigError

UNHEALTHY_EXIT = 1
STATUS = {OK: "[green]正常[/green]", WARNING: "[yellow]注意[/yellow]", UNHEALTHY: "[bold red]异常[/bold red]"}

audit_app = typer.Typer(help="发送记录（证据）：核对是否被改动，签发检查点。", no_args_is_help=True)


def health(
    alert: Annotated[bool, typer.Option("--alert", help="异常时通过 notify/channels.yaml 的 ops 渠道告知运维（供 cron/systemd 定时运行）")] = False,
    interval: Annotated[int, typer.Option("--interval", min=1, help="扫描间隔（分钟）：超过 3 个间隔没有完成扫描即为异常")] = 1,
    as_json: Json = False, db: Db = None, rules: Rules = None, notify: Notify = None, now: Now = None,
) -> None:
    """系统是否正常：最近一次扫描及延迟、待发队列、无法送达、隔离区、案件库文件权限、节假日日历、在用的规则包、停机补发。异常时以状态码 1 退出（供探针使用）。

    示例：

        qixian health

        qixian health --alert --interval 1      # cron 每 5 分钟运行：3 分钟没有完成扫描即告知运维
    """
    moment, folder = now_from(now), rules_dir(rules)
    config = _channels(notify, lambda c: c.ops, "--alert 需要运维渠道：在 notify/channels.yaml 中写 ops: [渠道地址, ...]") \
        if alert else None
    report = check(db, folder, moment, timedelta(minutes=interval))
    alerted = send_alert(report, config) if config else []
    if as_json:
        print_json({**report.as_json(), "alerted": [{"url": a.url, "ok": a.ok} for a in alerted]})
    else:
        table = new_table(f"Qixian 运行状况（{display(moment)}）：{STATUS[report.status]}", "检查", "状态", "说明", wide=("说明",))
        for item in report.checks:
            table.add_row(item.label, STATUS[item.status], item.summary)
        console.print(table)
        _told("告知运维", alerted)
    if alerted and not any(a.ok for a in alerted):
        console.print("[bold red]所有运维渠道都未送达：检查 notify/channels.yaml 的 ops 地址与网络。[/bold red]")
    if report.status == UNHEALTHY:
        raise typer.Exit(UNHEALTHY_EXIT)


Checkpoints = Annotated[Optional[list[str]], typer.Option(
    "--checkpoint", help="运维保存的检查点（以 QXAUDIT1 开头的一行），可重复给出", show_default=False)]
CheckpointFile = Annotated[Optional[Path], typer.Option(
    "--checkpoints", help="保存检查点的文件（其中每行以 QXAUDIT1 开头的都是检查点；可直接存下收到的消息）", show_default=False)]


def _key(needed: str | None = None) -> bytes | None:
    """The audit key, or a one-line error: an unusable one always, a missing one when `needed` says what for."""
    try:
        key = audit.signing_key()
    except audit.AuditKeyError as exc:
        raise InputError(str(exc)) from None
    if key is None and needed:
        raise InputError(f"{needed}需要审计密钥：{audit.NO_KEY}")
    return key


def _kept(lines: list[str] | None, file: Path | None, key: bytes | None) -> list[audit.Checkpoint]:
    texts = list(lines or [])
    if file is not None:
        try:
            texts.append(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"无法读取检查点文件 {file}：{exc}") from None
    try:
        return [point for found_in in texts for point in audit.read_checkpoints(found_in, key)]
    except ValueError as exc:  # AuditKeyError too
        raise InputError(str(exc)) from None


def _broken(result: audit.Verified) -> None:
    """Print where the chain breaks and exit 1."""
    console.print(f"[bold red]{escape(audit.described(result.broken))}[/bold red]此后的记录不能作为证据，请从备份核对。",
                  soft_wrap=True)
    raise typer.Exit(UNHEALTHY_EXIT)


@audit_app.command("verify")
def verify(checkpoint: Checkpoints = None, checkpoints: CheckpointFile = None, db: Db = None) -> None:
    """核对发送记录的哈希链（每条记录带有前一条的哈希和自身内容、所发文字的哈希，配置审计密钥后用密钥封印）：被改动、删除或重算的，指出第一条出问题的记录；对照运维保存的检查点，还能发现末尾被删去的记录。

    示例：

        QIXIAN_AUDIT_KEY_FILE=/etc/qixian/audit.key qixian audit verify --checkpoints 检查点.txt
    """
    key = _key()
    kept = _kept(checkpoint, checkpoints, key)
    result = audit.verify(open_store(db), key, kept)
    if result.broken is not None:
        _broken(result)
    if result.unchecked:
        console.print(f"[bold red]发送记录 {result.rows} 条，链接无误，但其中 {result.unchecked} 条用审计密钥封印，未能核对："
                      f"设置 {audit.KEY_ENV} 或 {audit.KEY_FILE_ENV} 后重新核对。[/bold red]", soft_wrap=True)
    elif result.rows == 0:
        console.print("[green]发送记录为空。[/green]")
    else:
        console.print(f"[green]发送记录完整：{result.rows} 条，哈希链核对无误。[/green]")
    if result.rows:
        console.print(f"末条哈希 {result.head}（第 {result.rows} 条，{display(result.last_at)}）", soft_wrap=True)
    if key is None:
        console.print(f"[yellow]{audit.NO_KEY}：只核对了未封印记录的哈希与链接。[/yellow]", soft_wrap=True)
    elif result.sealed:
        earlier = result.rows - result.sealed
        console.print(f"用审计密钥（编号 {result.key}）封印 {result.sealed} 条" +
                      (f"；此前 {earlier} 条写入时尚未配置密钥，由其后封印的记录覆盖。" if earlier else "。"))
    elif result.rows:
        console.print("[yellow]尚无用审计密钥封印的记录（扫描写入时是否配置了审计密钥？）：链条可被有权写库者重算，"
                      "只有对照检查点才能发现。[/yellow]", soft_wrap=True)
    if kept:
        console.print(f"[green]对照 {len(kept)} 个检查点：没有记录被删去，也没有被重算。[/green]")
    else:
        console.print("未对照检查点：末尾的记录被删去（或全部删除）只有对照运维保存的检查点才能发现（--checkpoint）。")
    if result.unchecked:
        raise typer.Exit(UNHEALTHY_EXIT)


@audit_app.command("checkpoint")
def checkpoint(
    send: Annotated[bool, typer.Option("--send", help="同时发到 notify/channels.yaml 的 ops 与 audit 渠道")] = False,
    db: Db = None, notify: Notify = None, now: Now = None,
) -> None:
    """签发检查点：核对整条发送记录后，输出记录条数与末条哈希（用审计密钥签名）。运维、法制部门把这一行保存在数据库之外，日后 qixian audit verify --checkpoint 据此发现被删去的记录或被重算的链条。日报流程每天自动发送。核对失败的不签发，以状态码 1 退出（--send 时把失败告知这些渠道）。

    示例：

        qixian audit checkpoint --send
    """
    key, moment = _key("签发检查点"), now_from(now)
    config = _channels(notify, lambda c: c.ops + c.audit,
                       "--send 需要运维或审计渠道：在 notify/channels.yaml 中写 ops: [...] 或 audit: [...]") if send else None
    result, point = audit.checkpoint(open_store(db), key, moment)
    if point is not None:
        typer.echo(point.line)
    _told("检查点发至" if point else "核对失败告知", audit.send_checkpoint(result, point, config) if config else [])
    if point is None:
        _broken(result)


def _channels(notify, needed: Callable[[NotifyConfig], tuple], missing: str) -> NotifyConfig:
    """notify/channels.yaml, or a one-line error when it cannot be read or names none of the channels `needed`."""
    try:
        config = NotifyConfig.load(notify)
    except NotifyConfigError as exc:
        raise InputError(str(exc)) from None
    if not needed(config):
        raise InputError(missing)
    return config


def _told(what: str, told) -> None:
    for sent in told:
        colour = "green" if sent.ok else "red"
        console.print(f"[{colour}]{what} {escape(sent.url)}：{'已送达' if sent.ok else '未送达'}[/{colour}]", soft_wrap=True)
