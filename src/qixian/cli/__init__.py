"""The `qixian` command: a thin adapter over the engine. One module per command or command group, named as it."""

from __future__ import annotations

import gc
import importlib
import sys
from concurrent.futures.process import BrokenProcessPool

import typer
from rich.markup import escape
from sqlalchemy.exc import OperationalError
from typer._click.exceptions import NoArgsIsHelpError

from qixian.cli._framework import chinese, usage_error
from qixian.cli._output import USAGE, InputError, errors

# The commands, in the order `qixian --help` lists them, each defined by the module of its name under qixian.cli: a
# command by the function of its name, a group of commands by the module's `app`. Only the module of the command
# being run is imported (`qixian ingest` starts without the web server, the flows or the report templates).
COMMANDS = (
    "deadline",
    "demo",
    "rules",
    "calendar",
    "db",
    "ingest",
    "quarantine",
    "clocks",
    "case",
    "recompute",
    "scan",
    "directory",
    "serve",
    "report",
    "duty",
    "ack",
    "web",
    "health",
    "audit",
)


def build(names=COMMANDS) -> typer.Typer:
    """The `qixian` app with the commands `names` (all by default)."""
    app = typer.Typer(
        name="qixian",
        help="期限 Qixian：公安执法办案法定期限引擎。计算期满时间并逐步说明依据。",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_group)  # a group even when one command is registered
    for name in names:
        module = importlib.import_module(f"qixian.cli.{name}")
        if isinstance(getattr(module, "app", None), typer.Typer):
            app.add_typer(module.app, name=name)
        else:
            app.command(name)(getattr(module, name))
    return app


def _group() -> None:
    pass


def __getattr__(name: str):
    if name == "app":  # every command, for whoever walks the whole tree (the documentation tests)
        return build()
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; usage errors and bad values print one line and exit 2."""
    args = sys.argv[1:] if argv is None else argv
    only = args[:1] if args and args[0] in COMMANDS else COMMANDS  # help, no command or a mistyped one: all of them
    gc.disable()  # loading the command's modules makes objects that live as long as the process, and no garbage
    try:
        command = chinese(typer.main.get_command(build(only)))
    finally:
        gc.enable()
    try:
        result = command.main(args=argv, prog_name="qixian", standalone_mode=False)
    except InputError as exc:
        errors.print(f"[red]错误：[/red]{exc}", soft_wrap=True)
        return USAGE
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        errors.print("已中止")
        return 1
    except OperationalError as exc:  # the database failed under a running command: full disk, restart, lost connection
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        errors.print(
            f"[red]错误：[/red]案件库出错，命令未完成：{escape(reason)}。已写入的都是完整的事务，导入的事件已标记待重算；"
            "排除故障（如磁盘空间、数据库服务）后再次运行同一命令即可补全。",
            soft_wrap=True,
        )
        return 1
    except BrokenProcessPool:
        errors.print(
            "[red]错误：[/red]重算计时的工作进程意外退出（可能被终止或内存不足）。已导入的事件都已标记待重算，"
            "没有丢失：再次运行同一命令（或等下一次扫描）即可补算。",
            soft_wrap=True,
        )
        return 1
    except NoArgsIsHelpError as exc:
        errors.print(exc.format_message())
        return USAGE
    except typer.TyperException as exc:  # usage errors: unknown option, missing value, bad choice
        errors.print(f"[red]错误：[/red]{escape(usage_error(exc))}", soft_wrap=True)
        return getattr(exc, "exit_code", USAGE)
    return result if isinstance(result, int) else 0


def run() -> None:
    """The `qixian` program: the command, then the process's end. What is still held (the modules, the rule pack) is
    frozen first, so that the interpreter's collections at exit do not walk it all again: after an ingest they took
    0.25-1 s on a busy machine, 0.07 s frozen. (Tests call main(), which freezes nothing.)"""
    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
