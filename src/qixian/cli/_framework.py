"""The command-line framework (typer over click) in Chinese: usage errors, help headings and the help option, for
every command. `chinese(command)` prepares the click command tree that typer builds; `usage_error(exc)` says a usage
error in one Chinese line."""

from __future__ import annotations

import re

import typer
from typer import rich_utils
from typer._click import exceptions as click_errors
from typer._click.core import Context
from typer._click.formatting import HelpFormatter

HELP = "显示本帮助并退出"
_TYPES = {
    "int": "<整数>",
    "float": "<数字>",
    "str": "<文字>",
    "Path": "<路径>",
    "list[str]": "<文字>...",
    "list[int]": "<整数>...",
    "list[Path]": "<路径>...",
}  # an option's value in the help

# the fixed strings of typer's help pages and error panels
rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
rich_utils.OPTIONS_PANEL_TITLE = "选项"
rich_utils.COMMANDS_PANEL_TITLE = "命令"
rich_utils.ERRORS_PANEL_TITLE = "错误"
rich_utils.REQUIRED_LONG_STRING = "[必填]"
rich_utils.DEFAULT_STRING = "[默认：{}]"
rich_utils.ENVVAR_STRING = "[环境变量：{}]"
rich_utils.DEPRECATED_STRING = "（已停用）"
rich_utils.ABORTED_TEXT = "已中止"
rich_utils.RICH_HELP = "[blue]{command_path} {help_option}[/] 查看用法"


class ChineseFormatter(HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args.replace("[OPTIONS]", "[选项]").replace("COMMAND [ARGS]...", "命令 [参数]..."), "用法：" if prefix is None else prefix)


class ChineseContext(Context):
    formatter_class = ChineseFormatter


def chinese(command):
    """`command` and every command under it with Chinese usage lines and a Chinese help option; returns it."""
    command.context_class = ChineseContext
    help_option = command.get_help_option(ChineseContext(command))
    if help_option is not None:
        help_option.help = HELP
    for param in command.params + ([help_option] if help_option is not None else []):
        if param.metavar is not None:
            continue
        if param.param_type_name == "option":
            param.metavar = "" if getattr(param, "is_flag", False) else _TYPES.get(param.bare_type(), "<值>")
        else:  # an argument by what it is in the usage line, and its value's type in Chinese in the help
            param.metavar = _label(param)
            shown = _TYPES.get(param.bare_type(), "<值>")
            param.display_type_rich = lambda ctx, shown=shown: shown
    for sub in getattr(command, "commands", {}).values():
        chinese(sub)
    return command


def _label(param) -> str:
    """An option by its flag (`--officer`), an argument by what its help says it is (`提醒编号`)."""
    if getattr(param, "opts", None) and param.param_type_name == "option":
        return "/".join(param.opts)
    words = re.split(r"[（(，,；;：:]", getattr(param, "help", None) or "", maxsplit=1)[0].strip()
    return words or (param.name or "参数")


# what click, typer and pydantic say of a bad value -> Chinese
_VALUES = (
    (re.compile(r"valid integer"), lambda m: "应为整数"),
    (re.compile(r"valid number|valid float"), lambda m: "应为数字"),
    (re.compile(r"valid boolean"), lambda m: "应为 true 或 false"),
    (re.compile(r"greater than or equal to (\S+)"), lambda m: f"应不小于 {m[1]}"),
    (re.compile(r"greater than (\S+)"), lambda m: f"应大于 {m[1]}"),
    (re.compile(r"less than or equal to (\S+)"), lambda m: f"应不大于 {m[1]}"),
    (re.compile(r"less than (\S+)"), lambda m: f"应小于 {m[1]}"),
    (re.compile(r"^(.*) is not one of (.*)\.$"), lambda m: f"{m[1]} 不在可选值中，应为 {m[2]} 之一"),
    (re.compile(r"^(?:File|Directory|Path) (.*) does not exist"), lambda m: f"找不到 {m[1]}"),
    (re.compile(r"^(?:File|Directory|Path) (.*) is a directory"), lambda m: f"{m[1]} 是文件夹，应为文件"),
    (re.compile(r"^(?:File|Directory|Path) (.*) is a file"), lambda m: f"{m[1]} 是文件，应为文件夹"),
    (re.compile(r"^(?:File|Directory|Path) (.*) is not readable"), lambda m: f"{m[1]} 无法读取"),
    (re.compile(r"does not match the formats? (.*)\.$"), lambda m: f"格式应为 {m[1]}"),
)


def _bad_value(message: str) -> str:
    for pattern, said in _VALUES:
        found = pattern.search(message)
        if found:
            return said(found)
    return "取值无效"


# click's own usage messages (not tied to one parameter) -> Chinese
_USAGE = (
    (re.compile(r"No such command '([^']*)'(?:\. Did you mean '([^']*)'\?)?"), lambda m: f"没有命令 {m[1]}" + (f"（是否要用 {m[2]}？）" if m[2] else "")),
    (re.compile(r"Missing command"), lambda m: "缺少子命令"),
    (re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)"), lambda m: f"多余的参数：{m[1]}"),
    (re.compile(r"Option '(.*)' requires (?:an argument|(\d+) arguments)"), lambda m: f"选项 {m[1]} 后面需要" + (f" {m[2]} 个值" if m[2] else "一个值")),
    (re.compile(r"Option '(.*)' does not take a value"), lambda m: f"选项 {m[1]} 不带值"),
    (re.compile(r"Argument '(.*)' takes (\d+) values"), lambda m: f"参数 {m[1]} 需要 {m[2]} 个值"),
)


def usage_error(exc: typer.TyperException) -> str:
    """One Chinese line for a click/typer usage error: what is missing or wrong, and where to look."""
    if isinstance(exc, click_errors.MissingParameter) and exc.param is not None:
        kind = "选项" if exc.param.param_type_name == "option" else "参数"
        said = f"缺少{kind} {_label(exc.param)}"
    elif isinstance(exc, click_errors.NoSuchOption):
        close = "、".join(sorted(exc.possibilities or ()))
        said = f"没有选项 {exc.option_name}" + (f"（是否要用 {close}？）" if close else "")
    elif isinstance(exc, click_errors.BadParameter) and exc.param is not None:
        said = f"{_label(exc.param)} 的值无效：{_bad_value(exc.message)}"
    elif isinstance(exc, click_errors.BadParameter):
        said = f"取值无效：{_bad_value(exc.message)}"
    else:
        message = getattr(exc, "message", "") or str(exc)
        said = next((say(found) for pattern, say in _USAGE if (found := pattern.search(message))), None) or (message if not message.isascii() else "命令行有误")
    ctx = getattr(exc, "ctx", None)
    return said + (f"（{ctx.command_path} --help 查看用法）" if ctx else "")
