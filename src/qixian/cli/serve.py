"""`qixian serve`: the whole product on one machine. Without a configured Prefect API it starts a local Prefect
server first (its database under ./.qixian/prefect), then serves the scan (every minute), the refresh of the
reports page's snapshots (every five minutes) and, given a drop folder, the file ingest (every five minutes), all in
Beijing time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Annotated

import typer

from qixian.cli._output import InputError, console, open_store
from qixian.cli.options import Db, Rules
from qixian.cli.packs import in_force
from qixian.store.database import private_folder

PORT = 4200
REFRESH_SECONDS = 300  # the report snapshots (deployments/prefect.yaml's refresh-report says the same)


def serve(
    drop: Annotated[Path | None, typer.Option("--drop", help="办案系统导出事件文件的共享目录（每五分钟导入一次）")] = None,
    notify: Annotated[Path | None, typer.Option("--notify", help="提醒渠道配置目录；默认 ./notify")] = None,
    port: Annotated[int, typer.Option("--port", help="本地 Prefect 服务端口（未配置 PREFECT_API_URL 时启动）")] = PORT,
    db: Db = None,
    rules: Rules = None,
) -> None:
    """在一台机器上运行：每分钟扫描并发送提醒，可选每五分钟导入共享目录的事件文件。未配置 PREFECT_API_URL 时自动启动本地 Prefect 服务。

    示例：

        qixian serve --drop /data/case-system-export
    """
    if drop is not None and not drop.is_dir():
        raise InputError(f"共享目录 {drop} 不存在")
    if rules is not None:
        in_force(open_store(db), rules)  # refused if it names another pack than the one in force (the flows use that)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        home = Path(".qixian/prefect").resolve()
        private_folder(home)  # Prefect's own database records every flow run's parameters
        os.environ["PREFECT_HOME"] = str(home)
        console.print(f"未配置 PREFECT_API_URL：启动本地 Prefect 服务 127.0.0.1:{port}（数据在 {home}）……")
        log = open(home / "server.log", "ab")  # noqa: SIM115 - the server's log, open for as long as the server runs
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        _wait_healthy(os.environ["PREFECT_API_URL"], server, home / "server.log")
        console.print(f"[green]Prefect 服务已就绪：http://127.0.0.1:{port}（浏览器打开可看每次运行）[/green]")
    try:
        _serve_deployments(drop, notify, db, rules)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def _wait_healthy(api: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise InputError(f"本地 Prefect 服务未能启动，见 {log}")
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise InputError(f"本地 Prefect 服务 {timeout:.0f} 秒内未就绪，见 {log}")


def _serve_deployments(drop: Path | None, notify: Path | None, db: str | None, rules: Path | None) -> None:
    from prefect import serve as prefect_serve

    deployments, plan = scheduled(drop, notify, db, rules)
    for line in plan:
        console.print(f"  · {line}")
    console.print("按 Ctrl-C 停止。")
    prefect_serve(*deployments)


def scheduled(drop: Path | None, notify: Path | None, db: str | None, rules: Path | None) -> tuple[list, list[str]]:
    """The deployments serve runs on their schedules, and the plan in words. No run is given a time: each reads the
    clock when it starts."""
    from prefect.schedules import Cron, Interval

    from flows.ingest import ingest_files
    from flows.report import refresh_report
    from flows.scan import scan

    common = {"db": db, "rules": str(rules) if rules else None}
    deployments = [
        scan.to_deployment(
            name="scan-every-minute",
            schedules=[Cron("* * * * *", timezone="Asia/Shanghai")],
            parameters={**common, "notify": str(notify) if notify else None},
            description="每分钟扫描并发送到点的提醒",
        ),
        refresh_report.to_deployment(
            name="refresh-report",
            schedules=[Interval(REFRESH_SECONDS, timezone="Asia/Shanghai")],
            parameters=common,
            description="每五分钟更新看板考核报表页读取的统计快照",
        ),
    ]
    plan = ["每分钟（北京时间）：扫描计时，发送到点的提醒，超期的告知单位负责人、法制员", "每五分钟：更新看板考核报表（本月全局）的统计快照"]
    if drop is not None:
        deployments.append(
            ingest_files.to_deployment(
                name="ingest-drop-folder",
                schedules=[Cron("*/5 * * * *", timezone="Asia/Shanghai")],
                parameters={**common, "path": str(drop)},
                description="每五分钟导入共享目录中的事件文件",
            )
        )
        plan.append(f"每五分钟：导入 {drop} 中的事件文件并重新计算相关案件的计时")
    return deployments, plan
