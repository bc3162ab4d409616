"""`qixian web`: the dashboard (期限看板); `qixian web user ...`: who may sign in to it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from qixian.cli._output import InputError, console, now_from, open_store, rules_dir
from qixian.cli._output import table as new_table
from qixian.cli.options import Db, Now, Rules
from qixian.cli.packs import in_force
from qixian.legaltime.localtime import display
from qixian.supervision.snapshots import DEFAULT_FRESH

app = typer.Typer(invoke_without_command=True)
user_app = typer.Typer(help="看板账号：民警名录中的民警设置密码后即可登录，角色来自名录。", no_args_is_help=True)
app.add_typer(user_app, name="user")


@app.callback()
def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="监听地址；经反向代理对外时保持 127.0.0.1")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="监听端口")] = 8000,
    root_path: Annotated[str, typer.Option("--root-path", help="反向代理把看板放在子路径下时的前缀，如 /qixian")] = "",
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="受信任的反向代理地址或网段（可重复）：只采信来自它的 X-Forwarded-For；默认 $QIXIAN_TRUSTED_PROXIES（逗号分隔），都未设置时不采信任何来源",
            show_default=False,
        ),
    ] = None,
    report_fresh: Annotated[
        int,
        typer.Option(
            "--report-fresh",
            envvar="QIXIAN_REPORT_FRESH",
            min=1,
            help="考核报表页使用后台预先统计的结果，不超过此分钟数即直接显示，过期则当场统计（后台每 5 分钟更新一次）",
        ),
    ] = DEFAULT_FRESH,
    db: Db = None,
    rules: Rules = None,
    now: Now = None,
) -> None:
    """启动期限看板（需要环境变量 QIXIAN_WEB_SECRET 作为签名密钥）。民警用 qixian web user set-password 开通的账号登录。
    经本机 nginx 等反向代理对外时加 --trusted-proxy 127.0.0.1，登录暂停才按浏览器的真实地址计数。

    示例：

        QIXIAN_WEB_SECRET=... qixian web --port 8000 --trusted-proxy 127.0.0.1
    """
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from qixian.alerting.signing import web_secret
    from qixian.web.app import SERVER, create_app
    from qixian.web.auth import trusted_proxies

    try:
        secret, proxies = web_secret(), trusted_proxies(trusted_proxy)
    except ValueError as exc:  # a SigningError, or a trusted proxy that is no address
        raise InputError(str(exc)) from None
    from qixian.casework.rollout import PackInForce
    from qixian.rulebook import load_pack

    store = open_store(db)
    in_force(store, rules)  # refused here if --rules names another pack; each page then loads the pack in force
    fixed = now_from(now) if now else None
    application = create_app(
        store,
        PackInForce(store, rules_dir(rules), load_pack),
        secret=secret,
        clock=(lambda: fixed) if fixed else None,
        trusted_proxies=proxies,
        report_fresh=report_fresh,
    )
    console.print(
        f"[green]期限看板：http://{host}:{port}{root_path}/[/green]"
        + (f"（按 {display(fixed)} 计算）" if fixed else "")
        + (f"；采信 {'、'.join(proxies)} 转发的 X-Forwarded-For" if proxies else "")
    )
    uvicorn.run(application, host=host, port=port, root_path=root_path, **SERVER)


@user_app.command("set-password")
def set_password(
    officer: Annotated[str, typer.Argument(help="民警编号（名录中的 id）")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读一行作为密码（供脚本使用）")] = False,
    db: Db = None,
    now: Now = None,
) -> None:
    """为名录中的民警设置或重设看板密码（已登录的会话随之失效）。角色来自名录：单位负责人、法制员看本单位，
    roles 含 legal_affairs 的法制部门人员看全部，其他民警看自己主办、协办的案件。

    示例：

        qixian web user set-password officer-1
    """
    from qixian.web.auth import hash_password, password_problem

    store = open_store(db)
    if officer not in store.directory().officers:
        raise InputError(f"名录中没有民警 {officer}：先用 qixian directory load 载入名录，再为其中的民警设置密码")
    if password_stdin:
        password, again = sys.stdin.readline().rstrip("\n"), None
    else:
        password = typer.prompt("新密码", hide_input=True)
        again = typer.prompt("再输入一次", hide_input=True)
    problem = password_problem(password, again)
    if problem:
        raise InputError(problem)
    store.set_password_hash(officer, hash_password(password), now_from(now))
    console.print(f"[green]已为 {officer} 设置看板密码。[/green]")


@user_app.command("remove")
def remove(
    officer: Annotated[str, typer.Argument(help="民警编号")],
    db: Db = None,
) -> None:
    """取消民警的看板账号（不能再登录，已登录的会话立即失效）；名录和案件不受影响。

    示例：

        qixian web user remove officer-1
    """
    if open_store(db).remove_web_user(officer):
        console.print(f"[green]已取消 {officer} 的看板账号。[/green]")
    else:
        console.print(f"{officer} 没有看板账号，未作改动。")


@user_app.command("list")
def list_users(db: Db = None) -> None:
    """列出有看板账号的民警、角色（来自名录）和最近一次登录的时间。

    示例：

        qixian web user list
    """
    from qixian.web.access import viewer_of

    store = open_store(db)
    directory = store.directory()
    last = store.last_sign_ins()
    table = new_table("看板账号", "民警编号", "姓名", "角色", "可看范围", "密码设置于", "最近登录", wide=("民警编号", "可看范围", "角色"))
    for row in store.web_users():
        viewer = viewer_of(directory, row.officer)
        signed = display(last[row.officer]) if row.officer in last else "从未登录"
        if viewer is None:
            table.add_row(row.officer, "—", "[red]不在名录中，不能登录[/red]", "", display(row.updated_at), signed)
            continue
        scope = {"legal": "全部案件", "officer": "本人主办、协办的案件"}.get(viewer.role, "、".join(directory.units[u].name for u in viewer.units) + "的案件")
        table.add_row(row.officer, viewer.name, viewer.role_label, scope, display(row.updated_at), signed)
    console.print(table)
