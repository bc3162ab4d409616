"""`qixian ingest`, `quarantine`, `clocks`, `case show`, `recompute`: events in, clocks out."""

from __future__ import annotations

import codecs

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape

from qixian.cli._output import InputError, console, now_from, open_store, print_json, rules_dir, table as new_table
from qixian.cli.options import Db, Json, Now, Rules
from qixian.casework import rollout as rollouts
from qixian.cli import rules as rules_cli
from qixian.cli.rules import in_force, load, warn_failing_examples
from qixian.supervision.clockview import STATES, left, state_of
from qixian.casework.feeds import FeedReport, files_in, ingest_items, ingest_path, ingest_sql
from qixian.casework.feedlines import check, read_lines
from qixian.legaltime.localtime import SHANGHAI, display
from qixian.casework.recompute import recompute as run_recompute, replay_pending

COLOURS = {"running": "green", "provisional": "yellow", "paused": "yellow", "overdue": "bold red",
           "met": "dim", "met_late": "red", "cancelled": "dim", "restarted": "dim"}

quarantine_app = typer.Typer(help="隔离区：无法采用的事件及原因。", no_args_is_help=True)
case_app = typer.Typer(help="案件：时间线与计时。", no_args_is_help=True)


def ingest(
    path: Annotated[Optional[Path], typer.Argument(help="事件文件（JSON Lines 或 CSV）或文件夹")] = None,
    sql: Annotated[Optional[str], typer.Option("--sql", help="办案系统数据库地址（轮询视图）")] = None,
    query: Annotated[Optional[str], typer.Option("--query", help="与 --sql 同用：查询事件的 SQL，可用 :watermark")] = None,
    watermark_column: Annotated[str, typer.Option("--watermark-column", help="水位列：每次记下读到的最大值")] = "at",
    source: Annotated[str, typer.Option("--source", help="事件来源系统名：同一来源、同一事件编号只采用一次")] = "case-system",
    fmt: Annotated[Optional[str], typer.Option("--format", help="jsonl 或 csv（默认按扩展名）")] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="文件编码：utf-8，或较早的办案系统导出的 gb18030")] = "utf-8",
    db: Db = None, rules: Rules = None, now: Now = None,
) -> None:
    """导入办案系统的事件并重新计算相关案件的计时；无法采用的事件进入隔离区，说明原因。

    示例：

        qixian ingest examples/events.jsonl
    """
    if (path is None) == (sql is None):
        raise InputError("请给出事件文件/文件夹，或 --sql 数据库地址与 --query 查询，二者选一")
    if sql and not query:
        raise InputError("--sql 需要同时给出 --query")
    if path is not None and not path.exists():
        raise InputError(f"找不到 {path}")
    if fmt not in (None, "jsonl", "csv"):
        raise InputError("--format 应为 jsonl 或 csv")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"--encoding {encoding} 不是可识别的编码：应为 utf-8 或 gb18030") from None
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    if sql:
        report = ingest_sql(store, pack, sql, query, source=source, now=moment, watermark_column=watermark_column)
    else:
        total = sum(_count_lines(f) for f in files_in(path))
        with Progress(TextColumn("导入事件"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=total < 20000) as bar:
            task = bar.add_task("ingest", total=total)
            report = ingest_path(store, pack, path, source=source, now=moment, fmt=fmt, parallel=True,
                                 progress=lambda n: bar.advance(task, n), encoding=encoding)
    _print_report(report)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _print_report(report: FeedReport) -> None:
    columns = ("读入", "采用", "重复（未改变）", "隔离", "涉及案件", "计时变化")
    table = new_table("导入结果", *columns, right=columns)
    table.add_row(str(report.lines), f"[green]{report.accepted}[/green]", str(report.duplicate),
                  f"[red]{report.quarantined}[/red]" if report.quarantined else "0", str(report.cases),
                  str(report.clocks_changed))
    console.print(table)
    if report.quarantined:
        console.print("[yellow]有事件进入隔离区：qixian quarantine list 查看原因，改正后 qixian quarantine retry 重新导入。[/yellow]")
    if report.warned:
        console.print(f"[yellow]已采用、但需核对：{report.warned} 条（案件的单位或主办民警不在名录中）[/yellow]")
        for warning in report.warnings[:20]:
            console.print(warning, style="yellow", soft_wrap=True, markup=False)
        if report.warned > 20:
            console.print(f"其余 {report.warned - 20} 条未列出。", style="yellow")


@quarantine_app.command("list")
def quarantine_list(
    all_: Annotated[bool, typer.Option("--all", help="包括已重新导入的")] = False,
    as_json: Json = False, db: Db = None,
) -> None:
    """列出隔离区中的事件：编号、原始内容、原因。

    示例：

        qixian quarantine list
    """
    rows = open_store(db).quarantined(include_resolved=all_)
    if as_json:
        print_json([{"quarantine_id": r.id, "id": r.source_id, "origin": r.source, "line": r.line, "raw": r.raw,
                     "reason": r.reason, "resolved": r.resolved_at is not None} for r in rows])
        return
    table = new_table(f"隔离区（{len(rows)} 条）", "序号", "事件编号", "来源", "原始内容", "原因", wide=("事件编号", "来源", "原始内容", "原因"))
    for r in rows:
        table.add_row(str(r.id), r.source_id or "", f"{r.source}:{r.line}", r.raw[:300], r.reason)
    console.print(table)


@quarantine_app.command("retry")
def quarantine_retry(
    ids: Annotated[Optional[list[int]], typer.Argument(help="隔离序号；不写则重试全部")] = None,
    source: Annotated[str, typer.Option("--source", help="事件来源系统名")] = "case-system",
    db: Db = None, rules: Rules = None, now: Now = None,
) -> None:
    """按当前规则包重新检查隔离区中的事件（例如补充了事件类型之后）；通过的导入，仍不通过的留在隔离区并更新原因。

    示例：

        qixian quarantine retry 3 4
    """
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    rows = [r for r in store.quarantined() if not ids or r.id in ids]
    items = []
    for row in rows:
        for _, raw, item in read_lines(row.source, row.raw + "\n", "jsonl"):
            items.append(check(row.source, row.line, raw, item, pack.events, pack.settings.case_kinds))
    store.resolve_quarantined([r.id for r in rows], moment)
    report = ingest_items(store, pack, items, source=source, now=moment)
    _print_report(report)


def clocks(
    case: Annotated[Optional[str], typer.Option("--case", help="只看此案件")] = None,
    state: Annotated[Optional[str], typer.Option("--state", help="running paused met met_late overdue cancelled provisional")] = None,
    due_before: Annotated[Optional[str], typer.Option("--due-before", help="只看此时间之前期满的未完成计时")] = None,
    due_after: Annotated[Optional[str], typer.Option("--due-after", help="只看此时间及以后期满的未完成计时")] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多列出多少条")] = 200,
    as_json: Json = False, db: Db = None, rules: Rules = None, now: Now = None,
) -> None:
    """列出计时：期满时间、剩余时间和状态（颜色：绿 计时中，黄 暂停/临时，红 超期）。

    示例：

        qixian clocks --state overdue --now "2025-10-09 09:00"

        qixian clocks --due-after "2025-10-09 09:00" --due-before "2025-10-09 10:00"
    """
    if state is not None and state not in STATES:
        raise InputError(f"--state 应为 {'、'.join(STATES)} 之一")
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    before = now_from(due_before, "--due-before") if due_before else None
    after = now_from(due_after, "--due-after") if due_after else None
    rows = [r for r in store.clocks(case=case, due_before=before, due_after=after,
                                    open_only=state in ("running", "paused", "overdue", "provisional"))
            if state is None or state_of(r, moment) == state][:limit]
    if as_json:
        print_json([{"case": r.case_id, "person": r.person or None, "rule": r.rule_id, "rule_name": pack.name_of(r.rule_id),
                     "version": r.rule_version or None,
                     "state": state_of(r, moment), "due": r.due_at.astimezone(SHANGHAI).isoformat() if r.due_at else None,
                     "due_display": r.due_display, "provisional": r.provisional, "left": left(r, moment),
                     "next_reminder": r.next_reminder_at.astimezone(SHANGHAI).isoformat() if r.next_reminder_at else None}
                    for r in rows])
        return
    table = new_table(f"计时（{len(rows)} 条，按 {display(moment)}）", "案件", "人员", "规则", "期满", "剩余", "状态",
                      wide=("案件", "规则"))
    for r in rows:
        current = state_of(r, moment)
        colour = COLOURS[current]
        table.add_row(r.case_id, r.person, pack.name_of(r.rule_id), r.due_display or "—", left(r, moment), f"[{colour}]{STATES[current]}[/{colour}]")
    console.print(table)


@case_app.command("show")
def case_show(
    case_id: Annotated[str, typer.Argument(help="案件编号")],
    db: Db = None, rules: Rules = None, now: Now = None,
) -> None:
    """一个案件的时间线（事件）和全部计时，附每个期满时间的计算说明。

    示例：

        qixian case show "（2025）城关刑字第0001号"
    """
    moment, store = now_from(now), open_store(db)
    pack = in_force(store, rules)
    info = store.case(case_id)
    events = store.events_of(case_id)
    if info is None and not events:
        raise InputError(f"没有案件 {case_id!r}")
    if info is not None:
        directory = store.directory()
        helpers = "、".join(directory.name_of(o) for o in info.co_handlers or ())
        console.print(f"[bold]{escape(case_id)}[/bold] {escape(info.title or '')}  类别：{escape(pack.kind_label(info.kind))}  "
                      f"单位：{escape(directory.unit_name(info.unit))}  "
                      f"主办：{escape(directory.name_of(info.handler) if info.handler else '—')}"
                      + (f"  协办：{escape(helpers)}" if helpers else ""), soft_wrap=True)
    console.rule("时间线")
    for e in events:
        who = f" {e.person}" if e.person else ""
        data = f"  {pack.data_text(e.data)}" if e.data else ""
        console.print(f"{display(e.at)}  {pack.event_name(e.type)}{who}{data}", soft_wrap=True, markup=False)
    console.rule("计时")
    for r in store.clocks(case=case_id):
        current = state_of(r, moment)
        colour = COLOURS[current]
        name = pack.name_of(r.rule_id)
        who = f"（{r.person}）" if r.person else ""
        console.print(f"[bold]{name}{who}[/bold] 期满 {r.due_display or '—'}  [{colour}]{STATES[current]}[/{colour}] {left(r, moment)}")
        for n, step in enumerate(r.explanation, 1):
            console.print(f"    {n}. {step}", soft_wrap=True, markup=False)


MOVED_SHOWN = 500  # moved dues listed in the terminal; the count says how many there are in all

By = Annotated[Optional[str], typer.Option("--by", help="上线人（记入上线记录）；默认 $USER", show_default=False)]


def recompute(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只报告哪些期满时间会变化，不写入")] = False,
    pending: Annotated[bool, typer.Option("--pending", help="只补算计时落后于事件的案件（导入或重算被中断后；"
                                                            "qixian health 的\"计时重算\"），不记为上线")] = False,
    by: By = None, db: Db = None, rules: Rules = None, now: Now = None,
) -> None:
    """按规则包（或新日历）重新计算全部案件的计时，并报告哪些期满时间变化、变化多少；写入时与 qixian rules rollout
    相同（例子须全部通过），记为一次规则包上线。

    示例：

        qixian recompute --rules /path/to/new-rules --dry-run
    """
    if pending:
        if dry_run:
            raise InputError("--pending 与 --dry-run 不能同用：补算只把计时改成其事件给出的结果")
        moment, store = now_from(now), open_store(db)
        result = replay_pending(store, in_force(store, rules), moment, parallel=True)
        console.print(f"补算了 {result.cases} 起案件的 {result.clocks} 个计时，{result.changed} 个已更新。" if result.cases
                      else "[green]没有计时落后于事件的案件。[/green]")
        return
    if not dry_run:
        rollout(by, db, rules, now)
        return
    folder = rules_dir(rules)
    pack = load(folder)
    warn_failing_examples(pack, folder)
    _recompute({}, pack, str(folder), by, db, now, dry_run=True)


def rollout(by: By = None, db: Db = None, rules: Rules = None, now: Now = None) -> None:
    """上线规则包：检查规则并运行全部例子（有未通过的不上线），按新规则包重新计算全部计时，记录上线人、时间、
    每个文件的哈希和哪些期满时间变化，并在案件库中保存规则包的文件：此后扫描、看板、报表、导入都按这个规则包，
    直到下一次上线或 qixian rules rollback。

    示例：

        qixian rules rollout --rules /srv/qixian/rules --by 王法制
    """
    folder = rules_dir(rules)
    try:
        texts = rollouts.snapshot(folder)  # read once: the files checked, recomputed with and kept are these
    except rollouts.NotKept as exc:
        raise InputError(f"规则包 {folder} 无法上线：{exc}") from None
    pack = load(folder)
    if rollouts.pack_hash(rollouts.pack_files(folder)) != rollouts.pack_hash(rollouts.hashes(texts)):
        raise InputError(f"规则包 {folder} 的文件在上线过程中被改动：改完后重新运行 qixian rules rollout")
    _refuse_failed_examples(pack, "规则包未上线")
    _recompute(texts, pack, str(folder), by, db, now, dry_run=False)


def rollback(by: By = None, db: Db = None, now: Now = None) -> None:
    """回退到上一个在用的规则包：取出案件库中保存的该规则包，运行全部例子，按它重新计算全部计时，并记录为一次上线
    （上线记录中注明回退）。再次运行则回到回退前的规则包。

    示例：

        qixian rules rollback --by 王法制
    """
    store = open_store(db)
    current, target = rollouts.last(store), rollouts.previous(store)
    if target is None:
        raise InputError("没有可以回退的规则包：案件库中" + ("还没有上线记录" if current is None else "只上线过这一个规则包"))
    folder = rollouts.unpacked(store, target.pack_hash)
    if folder is None:
        raise InputError(f"上线记录 #{target.id}（规则包 {rollouts.shown(target)}）没有保存规则包文件（在保存文件之前上线的），"
                         f"无法回退：请用 qixian rules rollout --rules {target.directory} 重新上线那个规则包")
    pack = load(folder)
    _refuse_failed_examples(pack, "未回退")
    console.print(f"回退：规则包 {rollouts.shown(current)} → {rollouts.shown(target)}")
    _recompute(rollouts.snapshot(folder), pack, f"回退至上线记录 #{target.id}（{target.directory}）", by, db, now, dry_run=False)


def _refuse_failed_examples(pack, outcome: str) -> None:
    from qixian.rulebook.examples import run_examples

    failed = [r for r in run_examples(pack) if not r.passed]
    if failed:
        for result in failed:
            console.print(result.report(), soft_wrap=True, markup=False)
        console.print(f"[red]{len(failed)} 个例子未通过，{outcome}（qixian rules check 查看）。[/red]")
        raise typer.Exit(1)


def _recompute(texts: dict[str, str], pack, directory: str, by: str | None, db: str | None, now: str | None, *,
               dry_run: bool) -> None:
    """Recompute every case under `pack` (whose files are `texts`); unless `dry_run`, store the clocks and record the
    roll-out, which keeps the files and puts the pack in force."""
    import os

    moment, store = now_from(now), open_store(db)
    cases = store.case_ids()
    with Progress(TextColumn("重新计算"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=len(cases) < 2000) as bar:
        task = bar.add_task("recompute", total=len(cases))
        result = run_recompute(store, pack, cases, moment, apply=not dry_run, parallel=True,
                               progress=lambda n: bar.advance(task, n))
    if result.moved:
        table = new_table(f"期满时间变化（{len(result.moved)} 个计时）" + ("：未写入" if dry_run else ""),
                          "案件", "人员", "规则", "原期满", "新期满", "变化", wide=("案件", "规则"))
        for moved in result.moved[:MOVED_SHOWN]:
            shift = f"{moved.shift.total_seconds() / 86400:+.1f} 天" if moved.shift else "—"
            table.add_row(moved.case, moved.person, pack.name_of(moved.rule), moved.before or "—", moved.after or "—", shift)
        console.print(table)
        if len(result.moved) > MOVED_SHOWN:
            console.print(f"（只列出前 {MOVED_SHOWN} 个，另有 {len(result.moved) - MOVED_SHOWN} 个期满时间变化未列出）")
    else:
        console.print("[green]没有期满时间变化。[/green]")
    console.print(f"{result.cases} 个案件，{result.clocks} 个计时" + ("（试算，未写入）" if dry_run else f"，{result.changed} 个已更新"))
    if not dry_run:
        who = by or os.environ.get("USER") or os.environ.get("USERNAME") or "未署名"
        row = rollouts.record(store, directory, texts, who, moment, result)
        console.print(f"[green]已记录上线：规则包 {rollouts.shown(row)}，{len(texts)} 个文件；"
                      "扫描、看板、报表、导入此后都按这个规则包。[/green]")


rules_cli.app.command("rollback")(rollback)  # beside `qixian rules rollout`, which qixian.cli registers
