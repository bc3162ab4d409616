"""`qixian deadline`: one due time, computed as the law counts it, with its explanation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import typer

from qixian.cli._output import InputError, console, print_json, rules_dir
from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.deadlines import Deadline, DeadlineError, Extension, Pause, Restart, compute_deadline, count_before
from qixian.legaltime.localtime import TimeFormatError, parse_local
from qixian.legaltime.periods import DurationError, parse_duration
from qixian.legaltime.yamlsource import ProblemsFound

_TO = re.compile(r"^\s*(?:to|至|=)\s*", re.IGNORECASE)
_BY = re.compile(r"^\s*(?:by|\+|延长)\s*", re.IGNORECASE)


def deadline(
    start: Annotated[str, typer.Option("--from", help='起算时间，如 "2025-09-29 15:40"（无时区即北京时间）')],
    limit: Annotated[str, typer.Option("--limit", help='期限：3日、24小时、2个月、5个工作日、半个月、"3 days"')],
    custody: Annotated[bool, typer.Option("--custody", help="在押 / 被限制人身自由：期满日遇节假日不顺延")] = False,
    extend: Annotated[
        list[str] | None, typer.Option("--extend", help='延长，可多次："4日" 延长4日，"至30日" 延长至30日；批准时间写在 @ 后："4日 @ 2025-10-01 09:00"')
    ] = None,
    pause: Annotated[
        list[str] | None, typer.Option("--pause", help='暂停（不计入的期间），可多次："2025-10-03 10:00..2025-10-05 09:00"；未恢复写 "2025-10-03 10:00.."')
    ] = None,
    restart: Annotated[list[str] | None, typer.Option("--restart", help="重新计算期限的时间，可多次")] = None,
    before: Annotated[str | None, typer.Option("--before", help="倒推期限：须在这一将来时刻（如举行听证的时间）之前 --limit 完成，自该时刻向前推算")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    rules: Annotated[Path | None, typer.Option("--rules", help="规则包目录（读取其中的 calendar/）；默认 $QIXIAN_RULES 或 ./rules")] = None,
) -> None:
    """计算一个期限的期满时间，并逐步说明计算依据。

    示例：

        qixian deadline --from "2025-09-29 15:40" --limit "3日" --custody

        qixian deadline --from "2026-01-05 09:00" --limit "30日" --extend "30日 @ 2026-02-01 10:00" --pause "2026-01-10 09:00..2026-01-20 17:00"

        qixian deadline --from "2026-03-02 10:00" --before "2026-03-20 09:00" --limit "7日"
    """
    calendar = _load_calendar(rules)
    if before is not None and (extend or pause or restart):
        raise InputError("--before（倒推期限）不能与 --extend、--pause、--restart 同用")
    try:
        if before is not None:
            result = count_before(parse_local(start), parse_local(before), parse_duration(limit), calendar, custody=custody)
        else:
            result = compute_deadline(
                parse_local(start),
                parse_duration(limit),
                calendar,
                custody=custody,
                extensions=[_extension(text) for text in extend or ()],
                pauses=[_pause(text) for text in pause or ()],
                restarts=[Restart(parse_local(text)) for text in restart or ()],
            )
    except (DurationError, TimeFormatError, DeadlineError) as exc:
        raise InputError(str(exc)) from None
    if as_json:
        print_json(result.as_dict())
    else:
        show(result)


def show(result: Deadline) -> None:
    """The due time in colour, then the numbered explanation."""
    if result.paused:
        console.print("[bold yellow]计时暂停中，暂无期满时间[/bold yellow]")
    else:
        colour = "yellow" if result.provisional else "green"
        tag = "（临时结果）" if result.provisional else ""
        console.print(f"[bold {colour}]期满：{result.due_display}{tag}[/bold {colour}]")
    for number, step in enumerate(result.explanation, 1):
        style = "red" if step.startswith("异常") else ("yellow" if step.startswith("⚠") else "")
        console.print(f"  {number}. {step}", style=style, soft_wrap=True)


def _load_calendar(option: Path | None) -> LegalCalendar:
    try:
        return LegalCalendar.load(rules_dir(option) / "calendar")
    except ProblemsFound as found:
        raise InputError(f"日历文件有误：{found.problems[0]}（共 {len(found.problems)} 处）") from None


def _extension(text: str) -> Extension:
    amount, _, when = text.partition("@")
    mode: Literal["by", "to"] = "by"
    if _TO.match(amount):
        mode, amount = "to", _TO.sub("", amount)
    else:
        amount = _BY.sub("", amount)
    return Extension(parse_duration(amount), mode, parse_local(when) if when.strip() else None)


def _pause(text: str) -> Pause:
    begin, sep, end = text.partition("..")
    if not sep:
        raise InputError(f'暂停 {text!r} 应写成 "开始..恢复"，如 "2025-10-03 10:00..2025-10-05 09:00"；尚未恢复写 "2025-10-03 10:00.."')
    return Pause(parse_local(begin), parse_local(end) if end.strip() else None)
