"""`qixian audit verify` and `qixian audit checkpoint`: the sealed delivery log checked against kept checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, overload

import typer
from rich.markup import escape

from qixian.cli._output import InputError, console, now_from, open_store
from qixian.cli.health import UNHEALTHY_EXIT, channels, told
from qixian.cli.options import Db, Notify, Now
from qixian.legaltime.localtime import display
from qixian.ops import audit

app = typer.Typer(help="发送记录（证据）：核对是否被改动，签发检查点。", no_args_is_help=True)


Checkpoints = Annotated[list[str] | None, typer.Option("--checkpoint", help="运维保存的检查点（以 QXAUDIT1 开头的一行），可重复给出", show_default=False)]


CheckpointFile = Annotated[
    Path | None, typer.Option("--checkpoints", help="保存检查点的文件（其中每行以 QXAUDIT1 开头的都是检查点；可直接存下收到的消息）", show_default=False)
]


@overload
def _key(needed: str) -> bytes: ...
@overload
def _key(needed: None = None) -> bytes | None: ...
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


def _broken(broken: audit.Broken) -> None:
    """Print where the chain breaks and exit 1."""
    console.print(f"[bold red]{escape(audit.described(broken))}[/bold red]此后的记录不能作为证据，请从备份核对。", soft_wrap=True)
    raise typer.Exit(UNHEALTHY_EXIT)


@app.command("verify")
def verify(checkpoint: Checkpoints = None, checkpoints: CheckpointFile = None, db: Db = None) -> None:
    """核对发送记录的哈希链（每条记录带有前一条的哈希和自身内容、所发文字的哈希，配置审计密钥后用密钥封印）：被改动、删除或重算的，指出第一条出问题的记录；对照运维保存的检查点，还能发现末尾被删去的记录。

    示例：

        QIXIAN_AUDIT_KEY_FILE=/etc/qixian/audit.key qixian audit verify --checkpoints 检查点.txt
    """
    key = _key()
    kept = _kept(checkpoint, checkpoints, key)
    result = audit.verify(open_store(db), key, kept)
    if result.broken is not None:
        _broken(result.broken)
    if result.unchecked:
        console.print(
            f"[bold red]发送记录 {result.rows} 条，链接无误，但其中 {result.unchecked} 条用审计密钥封印，未能核对："
            f"设置 {audit.KEY_ENV} 或 {audit.KEY_FILE_ENV} 后重新核对。[/bold red]",
            soft_wrap=True,
        )
    elif result.rows == 0:
        console.print("[green]发送记录为空。[/green]")
    else:
        console.print(f"[green]发送记录完整：{result.rows} 条，哈希链核对无误。[/green]")
    if result.rows:
        assert result.last_at is not None, "a log with rows has a last row's time"
        console.print(f"末条哈希 {result.head}（第 {result.rows} 条，{display(result.last_at)}）", soft_wrap=True)
    if key is None:
        console.print(f"[yellow]{audit.NO_KEY}：只核对了未封印记录的哈希与链接。[/yellow]", soft_wrap=True)
    elif result.sealed:
        earlier = result.rows - result.sealed
        console.print(
            f"用审计密钥（编号 {result.key}）封印 {result.sealed} 条" + (f"；此前 {earlier} 条写入时尚未配置密钥，由其后封印的记录覆盖。" if earlier else "。")
        )
    elif result.rows:
        console.print(
            "[yellow]尚无用审计密钥封印的记录（扫描写入时是否配置了审计密钥？）：链条可被有权写库者重算，只有对照检查点才能发现。[/yellow]", soft_wrap=True
        )
    if kept:
        console.print(f"[green]对照 {len(kept)} 个检查点：没有记录被删去，也没有被重算。[/green]")
    else:
        console.print("未对照检查点：末尾的记录被删去（或全部删除）只有对照运维保存的检查点才能发现（--checkpoint）。")
    if result.unchecked:
        raise typer.Exit(UNHEALTHY_EXIT)


@app.command("checkpoint")
def checkpoint(
    send: Annotated[bool, typer.Option("--send", help="同时发到 notify/channels.yaml 的 ops 与 audit 渠道")] = False,
    db: Db = None,
    notify: Notify = None,
    now: Now = None,
) -> None:
    """签发检查点：核对整条发送记录后，输出记录条数与末条哈希（用审计密钥签名）。运维、法制部门把这一行保存在数据库之外，日后 qixian audit verify --checkpoint 据此发现被删去的记录或被重算的链条。日报流程每天自动发送。核对失败的不签发，以状态码 1 退出（--send 时把失败告知这些渠道）。

    示例：

        qixian audit checkpoint --send
    """  # noqa: E501 - the help's first paragraph is one line: typer would join a broken line with a space, in Chinese
    key, moment = _key("签发检查点"), now_from(now)
    config = channels(notify, lambda c: c.ops + c.audit, "--send 需要运维或审计渠道：在 notify/channels.yaml 中写 ops: [...] 或 audit: [...]") if send else None
    result, point = audit.checkpoint(open_store(db), key, moment)
    if point is not None:
        typer.echo(point.line)
    told("检查点发至" if point else "核对失败告知", audit.send_checkpoint(result, point, config) if config else [])
    if point is None:
        assert result.broken is not None, "checkpoint() withholds a checkpoint only from a log that breaks"
        _broken(result.broken)
