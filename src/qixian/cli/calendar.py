"""`qixian calendar import`: for legal-affairs staff to turn next year's holiday notice into its calendar file.

Reading the notice is qixian.legaltime.calendar_notice (no I/O); this module reads the file, checks the new year against
the other year files, writes the result only when everything holds, and says what to do next."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qixian.cli._output import InputError, console, errors, rules_dir
from qixian.cli.options import Rules
from qixian.legaltime.calendar import LegalCalendar, check_year_text, defined_days
from qixian.legaltime.calendar_notice import NoticeRefused, overlaps, read_notice, render
from qixian.legaltime.yamlsource import ProblemsFound

app = typer.Typer(help="法定节假日日历：依据国务院办公厅通知导入下一年的安排。", no_args_is_help=True)

REFUSED = 1
MAX_BYTES = 256 * 1024


@app.command("import")
def import_notice(
    notice: Annotated[Path, typer.Argument(help="通知正文的文本文件（UTF-8 或 GBK）；- 表示从标准输入读取", show_default=False)],
    output: Annotated[Path | None, typer.Option("--output", help="写到哪个文件；默认 规则包/calendar/年份.yaml", show_default=False)] = None,
    url: Annotated[str, typer.Option("--url", help="通知在中国政府网的网址，写入 source")] = "",
    replace: Annotated[bool, typer.Option("--replace", help="该年的文件已存在时重新生成")] = False,
    rules: Rules = None,
) -> None:
    """读取国务院办公厅《关于YYYY年部分节假日安排的通知》，生成该年的日历文件。

    核对通知写明的星期、共N天、调休上班日是否为周末、与相邻年份的文件是否重叠；有看不懂或不一致之处，
    逐行指出并且不写入任何文件。

    示例：

        qixian calendar import notice.txt --url https://www.gov.cn/zhengce/content/...
    """
    arrangement = _read(notice)
    target = output or rules_dir(rules) / "calendar" / f"{arrangement.year}.yaml"
    if target.name != f"{arrangement.year}.yaml":
        raise InputError(f"--output 应为 {arrangement.year}.yaml（通知是 {arrangement.year} 年的），收到 {target.name}")
    if not target.parent.is_dir():
        raise InputError(f"找不到日历目录 {target.parent}")
    if target.exists() and not replace:
        raise InputError(f"{target} 已存在；确需依据这份通知重新生成，加 --replace")
    try:
        problems = overlaps(arrangement, defined_days(target.parent, skip=target if target.exists() else None))
        text = render(arrangement, url.strip())
        check_year_text(text, arrangement.year, str(target))
    except ProblemsFound as found:
        _refuse([str(p) for p in found.problems], "日历目录中的其他文件有误，先改正")
    if problems:
        _refuse([str(p) for p in problems], "与已有的年度文件重叠")
    _write(target, text)
    LegalCalendar.load(target.parent)
    console.print(_summary(arrangement, target))
    console.print(
        f"[green]已写入 {target}。[/green]下一步：\n"
        "  1. 对照通知原文逐条核对上表（放假区间、调休上班日）\n"
        "  2. qixian rules check rules                 检查规则包、运行全部例子\n"
        "  3. qixian recompute --dry-run               查看哪些期满时间会因新日历改变（不写入）\n"
        "  4. qixian rules rollout --by 姓名            上线：重新计算并记录",
        soft_wrap=True,
    )


def _read(notice: Path):
    if str(notice) == "-":
        data = typer.get_binary_stream("stdin").read(MAX_BYTES + 1)
    else:
        try:
            with notice.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise InputError(f"无法读取 {notice}：{exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"{notice} 超过 {MAX_BYTES // 1024} KB：只需通知正文")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(f"{notice} 不是 UTF-8 或 GBK 编码的文本")
    try:
        return read_notice(text)
    except NoticeRefused as refused:
        _refuse([str(p) for p in refused.problems], "通知有看不懂或不一致之处")


def _refuse(problems: list[str], why: str):
    for problem in problems:
        errors.print(problem, soft_wrap=True, markup=False)
    errors.print(f"[red]{why}（共 {len(problems)} 处），未写入任何文件。[/red]")
    raise typer.Exit(REFUSED)


def _write(target: Path, text: str) -> None:
    """Write whole or not at all: a temporary file beside it, then a rename."""
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(f"无法写入 {target}：{exc.strerror or exc}") from None


def _summary(arrangement, target: Path) -> Table:
    table = Table(title=f"{arrangement.year} 年：{target}")
    for column in ("节日", "放假", "天数", "调休上班"):
        table.add_column(column)
    workdays = arrangement.workdays()
    for name, first, last in arrangement.holidays():
        days = "、".join(f"{d:%m-%d}" for n, d in workdays if n == name) or "—"
        span = f"{first}" if first == last else f"{first} 至 {last}"
        table.add_row(name, span, str((last - first).days + 1), days)
    return table
