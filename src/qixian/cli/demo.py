"""`qixian demo`: a short tour of the product on the embedded default (grows with the product)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from qixian.cli._output import console, rules_dir
from qixian.engine.clocks import ClockState, Event, replay
from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.deadlines import Extension, Pause, compute_deadline
from qixian.legaltime.localtime import display, parse_local
from qixian.legaltime.periods import parse_duration
from qixian.rulebook import load_pack

# (情形, 法律依据, 起算, 期限, 在押, 延长, 暂停)
TOUR = [
    ("拘留后通知家属", "刑诉法第八十五条", "2025-09-30 22:10", "24小时", True, [], []),
    ("拘留后提请批准逮捕（在押）", "刑诉法第九十一条", "2025-09-29 15:40", "3日", True, [], []),
    ("同一起算、不在押的3日期限", "刑诉法第一百零五条", "2025-09-29 15:40", "3日", False, [], []),
    (
        "治安案件办案期限，延长一次并扣除鉴定期间",
        "治安管理处罚法(2025)第一百一十八条",
        "2026-01-05 09:00",
        "30日",
        False,
        [("30日", "2026-02-01 10:00")],
        [("2026-01-10 09:00", "2026-01-20 17:00")],
    ),
    ("逮捕后侦查羁押（月末起算）", "刑诉法第一百五十六条", "2026-01-31 16:00", "2个月", True, [], []),
    ("行政复议答复（工作日）", "行政复议法第四十八条、第八十八条", "2026-09-28 10:00", "10个工作日", False, [], []),
    ("取保候审最长期限（跨入未收录的2027年）", "刑诉法第七十九条", "2026-02-28 11:00", "12个月", False, [], []),
]


def demo(
    rules: Annotated[Path | None, typer.Option("--rules", help="规则包目录；默认 $QIXIAN_RULES 或 ./rules")] = None,
) -> None:
    """演示：按法律规定计算几个典型期限并说明依据。

    示例：

        qixian demo
    """
    calendar = LegalCalendar.load(rules_dir(rules) / "calendar")
    console.print(Panel.fit(f"期限 Qixian：法定期限计算演示（日历已收录 {calendar.years[0]}–{calendar.years[-1]} 年）", style="bold cyan"))
    table = Table(title="典型期限", show_lines=False)
    table.add_column("情形", overflow="fold")
    for column in ("起算", "期限", "在押", "期满"):
        table.add_column(column, no_wrap=True)
    results = []
    for name, basis, start, limit, custody, extensions, pauses in TOUR:
        result = compute_deadline(
            parse_local(start),
            parse_duration(limit),
            calendar,
            custody=custody,
            extensions=[Extension(parse_duration(a), at=parse_local(t)) for a, t in extensions],
            pauses=[Pause(parse_local(a), parse_local(b)) for a, b in pauses],
        )
        results.append((f"{name}（{basis}）", result))
        due = f"[yellow]{result.due_display} 临时[/yellow]" if result.provisional else f"[green]{result.due_display}[/green]"
        extra = "".join(f"\n+延长{a}" for a, _ in extensions) + ("\n+暂停" if pauses else "")
        table.add_row(name, start, limit + extra, "是" if custody else "否", due)
    console.print(table)
    for name, result in results[1:4:2] + results[-1:]:
        console.rule(f"[bold]为什么是 {result.due_display}[/bold]：{name}", align="left")
        for n, step in enumerate(result.explanation, 1):
            console.print(f"{n}. {step}", soft_wrap=True)
    _case_tour(rules_dir(rules))
    _main_job(rules_dir(rules))
    console.print('自己试一试：[bold]qixian deadline --from "2025-09-29 15:40" --limit "3日" --custody[/bold]')


# A theft case across National Day 2025: two suspects detained; one arrested, the other bailed.
CASE = [
    ("case_registered_online", "2025-09-28 20:05", None, {"channel": "上门报案"}),
    ("receipt_issued", "2025-09-28 20:05", None, {}),
    ("case_accepted", "2025-09-28 21:00", None, {}),
    ("case_filed", "2025-09-29 10:00", None, {}),
    ("detained", "2025-09-29 15:40", "张某", {}),
    ("detained", "2025-09-29 16:10", "李某", {}),
    ("sent_to_custody", "2025-09-29 19:00", "张某", {}),
    ("sent_to_custody", "2025-09-29 19:30", "李某", {}),
    ("family_notified", "2025-09-30 09:00", "张某", {}),
    ("family_notified", "2025-09-30 17:00", "李某", {}),
    ("first_interrogated", "2025-09-29 21:00", "张某", {}),
    ("first_interrogated", "2025-09-29 22:00", "李某", {}),
    ("arrest_requested", "2025-10-02 11:00", "张某", {}),
    ("bail_granted", "2025-10-02 16:00", "李某", {}),
    ("arrest_approved", "2025-10-08 15:00", "张某", {}),
    ("arrested", "2025-10-08 17:30", "张某", {}),
]
STATE_STYLE = {
    ClockState.RUNNING: ("计时中", "green"),
    ClockState.PROVISIONAL: ("计时中（临时）", "yellow"),
    ClockState.PAUSED: ("暂停", "yellow"),
    ClockState.MET: ("按期完成", "dim"),
    ClockState.MET_LATE: ("超期完成", "red"),
    ClockState.OVERDUE: ("已超期", "bold red"),
    ClockState.CANCELLED: ("不再适用", "dim"),
    ClockState.RESTARTED: ("已重新计算", "dim"),
}


def _case_tour(folder: Path) -> None:
    pack = load_pack(folder)
    now = parse_local("2025-10-09 09:00")
    events = [Event(kind, parse_local(at), person, data) for kind, at, person, data in CASE]
    clocks = sorted(replay(pack, events, case="（2025）城关刑字第0001号", facts={"kind": "criminal"}), key=lambda c: (c.due is None, c.due or now))
    console.rule(f"[bold]一起案件的全部期限[/bold]：盗窃案，两名嫌疑人国庆前被刑拘（按 {display(now)} 的情况）", align="left")
    console.print(f"默认规则包：{len(pack.ids)} 条规则；本案 {len(events)} 个办案事件产生 {len(clocks)} 个计时。")
    table = Table()
    for column in ("规则", "人员", "期满", "状态"):
        table.add_column(column, overflow="fold")
    for clock in clocks:
        label, style = STATE_STYLE[clock.state(now)]
        due = clock.deadline.due_display or "—"
        table.add_row(clock.rule.name, clock.person or "（本案）", due, f"[{style}]{label}[/{style}]")
    console.print(table)
    arrest = next(c for c in clocks if c.rule.id == "crim.custody.investigation")
    console.print(f"逮捕后侦查羁押期满 {arrest.deadline.due_display}；为什么：")
    for n, step in enumerate(arrest.deadline.explanation, 1):
        console.print(f"{n}. {step}", soft_wrap=True)


def _main_job(rules: Path) -> None:
    """The product's main job on the embedded default: a generated feed into a fresh SQLite store, one scan through a
    real Prefect flow run, reminders delivered to a local HTTP server standing in for the SMS gateway and chat robots."""
    import os
    import shutil
    import time as clock

    from qixian.alerting.localsink import LocalSink
    from qixian.casework.feedlines import check, read_lines
    from qixian.casework.feeds import ingest_items
    from qixian.casework.samplefeed import Feed, directory
    from qixian.engine.directory import Officer, Unit
    from qixian.store.database import private_folder, upgrade
    from qixian.store.repository import Store

    began = clock.perf_counter()
    now = parse_local("2025-10-09 09:00")
    work = Path(".qixian/demo")
    shutil.rmtree(work, ignore_errors=True)
    private_folder(work)
    url = f"sqlite:///{work}/demo.db"
    upgrade(url)
    store, pack, sink = Store.open(url), load_pack(rules), LocalSink()
    console.rule("[bold]提醒的全过程[/bold]：300 起案件的事件 → 计时 → 到点提醒（Prefect 流程）→ 短信与工作群", align="left")
    sample = directory(f"json://127.0.0.1:{sink.port}/chat")
    units, staff = sample.units, sample.officers
    store.replace_directory(sample)
    notify = work / "notify"
    shutil.copytree(Path(__file__).resolve().parents[3] / "notify" / "templates", notify / "templates")
    (notify / "channels.yaml").write_text(
        f'sms: "json://127.0.0.1:{sink.port}/sms/{{phone}}"\nlevels: {{notice: [chat, sms], warning: [chat, sms, duty], overdue: [chat, sms, duty]}}\n',
        encoding="utf-8",
    )
    lines = "\n".join(Feed(seed=7, start=now - timedelta(days=20), days=20).lines(300)) + "\n"
    items = [check("feed", n, raw, item, pack.events) for n, raw, item in read_lines("feed.jsonl", lines)]
    report = ingest_items(store, pack, items, source="demo", now=now)
    console.print(
        f"导入 {report.accepted} 个事件（{report.cases} 起案件），产生 {report.clocks_changed} 个计时；"
        f"按 {display(now)} 扫描一次（Prefect 流程运行，首次启动本地 Prefect 约需十余秒）……"
    )
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    os.environ.setdefault("PREFECT_HOME", str(Path(".qixian/prefect").resolve()))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    import flows.scan as scan_flow

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        state = scan_flow.scan(db=url, rules=str(rules), notify=str(notify), as_of=display(now), return_state=True)
    result = state.result()
    console.print(
        f"Prefect 流程运行 {state.name}：{result['clocks']} 个计时到点，{result['owed']} 条提醒，"
        f"发送 {result['sent']} 条消息（{result['caught_up']} 个计时为补发）。"
    )
    table = Table(title="发给谁：本地 HTTP 服务（代替短信网关和工作群机器人）收到的消息")
    for column in ("收件人", "单位", "渠道", "提醒数", "内容（节选）"):
        table.add_column(column, overflow="fold")
    phones = {o.phone: o for o in staff.values()} | {u.duty_phone: u for u in units.values()}
    for request in sink.requests[:12]:
        who = request["path"].rsplit("/", 1)[-1]
        person = staff.get(who) or phones.get(who)
        name = person.name + ("值班室" if isinstance(person, Unit) else "") if person else who
        unit = units[person.unit].name if isinstance(person, Officer) else (person.name if person else "")
        text = request["body"].get("message", "").replace("\n", " ")
        table.add_row(name, unit, "工作群" if request["path"].startswith("/chat/") else "短信", str(len(request["keys"])), text[:70] + "…")
    console.print(table)
    keys = sink.keys()
    console.print(
        f"共 {len(sink.requests)} 条消息，含 {len(keys)} 条提醒，每条提醒的幂等键只出现一次：{len(keys) == len(set(keys))}；"
        f"工作群 {len(sink.to('/chat/'))} 条，短信 {len(sink.to('/sms/'))} 条。"
    )
    soon = store.clocks(due_after=now, due_before=now + timedelta(days=3))
    late = store.clocks(due_before=now)
    console.print(
        f"[bold red]已超期 {len([c for c in late if not c.paused])}[/bold red]   "
        f"[bold yellow]三天内到期 {len(soon)}[/bold yellow]   "
        f'（详见 qixian clocks --db {url} --now "{display(now)}"）'
    )
    sink.close()
    console.print(f"演示用时 {clock.perf_counter() - began:.0f} 秒；数据在 {work}/。")
