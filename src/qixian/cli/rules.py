"""`qixian rules ...`: for legal-affairs staff to check, list, explain, try out and compare rule packs, and to roll
a pack out or back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from xml.etree import ElementTree

import typer
from pydantic import BaseModel
from rich.console import JustifyMethod
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qixian.casework import rollout as rollouts
from qixian.casework.recompute import recompute as run_recompute
from qixian.cli._output import InputError, console, errors, now_from, open_store, print_json, rules_dir
from qixian.cli._output import table as new_table
from qixian.cli.options import By, Db, Now, Rules
from qixian.cli.packs import FAILED, load
from qixian.engine.clocks import Event, replay
from qixian.engine.examples import ExampleResult, run_examples
from qixian.legaltime.localtime import TimeFormatError, display, parse_local
from qixian.legaltime.parseerrors import json_error
from qixian.legaltime.yamlsource import ProblemsFound, load_yaml
from qixian.rulebook import RulePack
from qixian.rulebook.describe import explain as describe
from qixian.rulebook.diff import diff_packs
from qixian.rulebook.model import Rule, new_event_hint
from qixian.rulebook.schema import EventsFile, RuleFile, Settings
from qixian.supervision.clockview import STATES

app = typer.Typer(help="规则包：检查、列出、解释、试算、比较规则文件。", no_args_is_help=True)

RulesOption = Annotated[Path | None, typer.Option("--rules", help="规则包目录；默认 $QIXIAN_RULES 或 ./rules")]


def warn_failing_examples(pack: RulePack, folder: Path) -> None:
    """Say first, before any result drawn from `pack`, that its examples do not all pass (it cannot be rolled out)."""
    failed = sum(not r.passed for r in run_examples(pack))
    if failed:
        console.print(
            f"[yellow]注意：规则包 {folder} 有 {failed} 个例子未通过，不能上线（qixian rules check {folder} 查看）；下面的结果仅供参考。[/yellow]",
            soft_wrap=True,
        )


def _pack(option: Path | None) -> RulePack:
    return load(rules_dir(option))


@app.command("check")
def check(
    directory: Annotated[Path | None, typer.Argument(help="规则包目录，默认 ./rules")] = None,
    run: Annotated[str | None, typer.Option("--run", help="只运行规则编号或例子名称匹配此正则的例子")] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="另写一份 JUnit XML 结果，供 CI 使用")] = None,
) -> None:
    """检查规则包并运行每条规则的例子；全部通过才返回 0。

    示例：

        qixian rules check rules
    """
    pack = load(directory or rules_dir(None))
    results = run_examples(pack, only=run)
    failed = [r for r in results if not r.passed]
    for result in failed:
        errors.print(result.report(), soft_wrap=True, markup=False)
    enabled = sum(r.enabled for r in pack.rules)
    table = Table(title=f"规则包 {pack.directory}")
    for column in ("文件", "规则", "版本", "启用", "例子", "通过", "失败"):
        table.add_column(column, justify="right")
    table.add_row(
        str(len(pack.files)),
        str(len(pack.ids)),
        str(len(pack.rules)),
        str(enabled),
        str(len(results)),
        f"[green]{len(results) - len(failed)}[/green]",
        f"[red]{len(failed)}[/red]" if failed else "0",
    )
    console.print(table)
    console.print(_by_group(pack, results))
    if junit:
        _write_junit(junit, results)
    if failed:
        console.print(f"[red]{len(failed)} 个例子未通过。[/red]")
        raise typer.Exit(FAILED)
    console.print(f"[green]检查通过：{len(pack.ids)} 条规则（{len(pack.rules)} 个版本），{len(results)} 个例子全部通过。[/green]")


def _by_group(pack: RulePack, results: list[ExampleResult]) -> Table:
    table = Table(title="按风险点分组")
    columns: tuple[tuple[str, JustifyMethod], ...] = (("分组", "left"), ("规则", "right"), ("启用", "right"), ("例子", "right"))
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for group in (*pack.settings.groups, None):
        rules = [r for r in pack.rules if r.group == group]
        if rules:
            ids = {r.id for r in rules}
            table.add_row(group or "（未分组）", str(len(ids)), str(sum(r.enabled for r in rules)), str(sum(1 for res in results if res.rule.id in ids)))
    return table


@app.command("list")
def list_rules(
    group: Annotated[str | None, typer.Option("--group", help="只列出此风险点分组，如 强制措施")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON 列表")] = False,
    rules: RulesOption = None,
) -> None:
    """列出规则：编号、名称、期限、是否在押、分组、提醒类型、版本。

    示例：

        qixian rules list --group 强制措施
    """
    pack = _pack(rules)
    if group is not None and group not in pack.settings.groups:
        raise InputError(f"没有分组 {group!r}；可用：{'、'.join(pack.settings.groups)}")
    chosen = [r for r in pack.rules if group is None or r.group == group]
    if as_json:
        print_json([_summary(r) for r in chosen])
        return
    table = new_table(
        f"规则（{len(chosen)} 个版本）", "编号", "名称", "期限", "在押", "分组", "提醒类型", "版本", wide=("编号", "名称", "期限", "提醒类型", "版本")
    )
    for r in chosen:
        name = r.name if r.enabled else f"[dim]{r.name}（未启用）[/dim]"
        table.add_row(r.id, name, _limit_text(r), "是" if r.custody else "", r.group or "", r.reminder_type or "", r.version)
    console.print(table)


def _summary(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "limit": str(rule.limit) if rule.limit else None,
        "lead": {"of": rule.lead.of, "before": str(rule.lead.before)} if rule.lead else None,
        "before": {"moment": f"data.{rule.before.field}", "by": str(rule.before.by)} if rule.before else None,
        "every": str(rule.every) if rule.every else None,
        "working_standard": rule.working_standard,
        "custody": rule.custody,
        "group": rule.group,
        "reminder_type": rule.reminder_type,
        "per": rule.per,
        "start": list(rule.start),
        "stop": list(rule.stop),
        "enabled": rule.enabled,
        "effective": {"from": rule.effective_from and rule.effective_from.isoformat(), "until": rule.effective_until and rule.effective_until.isoformat()},
        "basis": [{"cite": b.cite, "text": b.text, "kind": b.kind, "shown_as": b.heading} for b in rule.basis],
        "source": rule.source,
    }


@app.command("explain")
def explain(
    rule_id: Annotated[str, typer.Argument(help="规则编号，如 crim.detention.arrest_request")],
    rules: RulesOption = None,
) -> None:
    """用中文说明一条规则：何时起算、何时完成、多长、延长、不计入的期间、提醒谁、法律依据。

    示例：

        qixian rules explain crim.detention.arrest_request
    """
    pack = _pack(rules)
    versions = pack.versions(rule_id)
    if not versions:
        from qixian.legaltime.yamlsource import suggest

        raise InputError(f"没有规则 {rule_id!r}。{suggest(rule_id, pack.ids)}")
    for number, rule in enumerate(versions):
        if number:
            console.rule()
        for heading, text in describe(pack, rule):
            console.print(f"[bold]{heading}[/bold]  {text}", soft_wrap=True)


@app.command("test")
def test(
    rule_id: Annotated[str, typer.Argument(help="规则编号")],
    events: Annotated[Path | None, typer.Option("--events", help="事件文件（YAML 或 JSON Lines）：每项 {type, at, person, data}")] = None,
    event: Annotated[list[str] | None, typer.Option("--event", help='直接写一个事件："类型 时间 [人员] [字段=值...]"，可多次')] = None,
    case: Annotated[list[str] | None, typer.Option("--case", help="案件情况 字段=值，如 kind=criminal，可多次")] = None,
    person: Annotated[list[str] | None, typer.Option("--person", help="人员情况 人员:字段=值，如 P1:foreign=true，可多次")] = None,
    now: Annotated[str | None, typer.Option("--now", help="按此时间判断状态（默认最后一个事件的时间）")] = None,
    rules: RulesOption = None,
) -> None:
    """试算：给定事件，这条规则会产生什么计时、期满时间和状态，并说明依据。

    示例：

        qixian rules test crim.detention.arrest_request --case kind=criminal --event "detained 2025-09-29 15:40 P1"
    """
    pack = _pack(rules)
    if not pack.versions(rule_id):
        raise InputError(f"没有规则 {rule_id!r}")
    try:
        happened = _read_events(events) + [_inline_event(text) for text in event or ()]
        facts = dict(_assignment(text) for text in case or ())
        persons: dict[str, dict] = {}
        for text in person or ():
            who, sep, assignment = text.partition(":")
            if not sep:
                raise ValueError(f"{text!r} 应写成 人员:字段=值，如 P1:foreign=true")
            key, value = _assignment(assignment)
            persons.setdefault(who, {})[key] = value
        moment = parse_local(now) if now else None
    except (TimeFormatError, ValueError) as exc:
        raise InputError(str(exc)) from None
    if not happened:
        raise InputError('没有事件：用 --events FILE 或 --event "类型 时间 [人员]" 给出')
    for item in happened:
        if item.type not in pack.events:
            raise InputError(f"未知的事件类型 {item.type!r}。{new_event_hint(item.type, pack.events)}")
        wrong = pack.events[item.type].problems(item.person, item.data)
        if wrong:
            needs = pack.events[item.type].person == "required" and not item.person
            example = f'（如 --event "{item.type} {display(item.at)} P1"）' if needs else ""
            raise InputError(f"事件 {item.type} {display(item.at)}：{'；'.join(wrong)}{example}")
    moment = moment or max(e.at for e in happened)
    clocks = [c for c in replay(pack, happened, case="试算", facts=facts, persons=persons, rule_ids=[rule_id], disabled=True) if c.rule.id == rule_id]
    if not clocks:
        console.print("[yellow]这些事件没有启动该规则的计时（检查起算事件、适用条件 applies 与适用期间）。[/yellow]")
        return
    for clock in clocks:
        who = f"人员 {clock.person}，" if clock.person else ""
        state = STATES[clock.state(moment)]
        due = clock.deadline.due_display or "暂无（暂停中）"
        console.print(f"[bold]{who}期满：{due}，状态：{state}[/bold]（按 {display(moment)} 判断）")
        for number, step in enumerate(clock.deadline.explanation, 1):
            console.print(f"  {number}. {step}", soft_wrap=True, markup=False)


def _limit_text(rule: Rule) -> str:
    """The 期限 column: the limit, the lead, the period, or how long before a moment in the start event's data."""
    if rule.limit:
        return str(rule.limit) if rule.limit.amount else "当场"
    if rule.lead:
        return f"{rule.lead.of} 前 {rule.lead.before}"
    if rule.every:
        return str(rule.every)
    assert rule.before is not None, "no limit, lead or every: the schema requires before (schema.RuleSpec._limit_or_lead)"
    return f"data.{rule.before.field} 前 {rule.before.by}"


def _read_events(path: Path | None) -> list[Event]:
    if path is None:
        return []
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".jsonl", ".json"):
        items: list[Any] = []
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                items.extend([json.loads(line)] if line.strip() else [])
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}：{json_error(exc, number)}") from None
    else:
        try:
            document = load_yaml(text, str(path))
        except ProblemsFound as found:
            raise ValueError(str(found.problems[0])) from None
        listed = document.get("events", []) if isinstance(document, dict) else document
        if not isinstance(listed, list):
            raise ValueError(f"{path}：应为事件列表（或 events: 下的列表），每项 {{type, at, person, data}}")
        items = listed
    return [Event(i["type"], parse_local(str(i["at"])), i.get("person"), i.get("data") or {}) for i in items]


def _inline_event(text: str) -> Event:
    parts = text.split()
    if len(parts) < 3:
        raise ValueError(f'事件 {text!r} 应写成 "类型 日期 时间 [人员] [字段=值...]"')
    kind, at, rest = parts[0], parse_local(" ".join(parts[1:3])), parts[3:]
    person = rest.pop(0) if rest and "=" not in rest[0] else None
    return Event(kind, at, person, dict(_assignment(item) for item in rest))


def _assignment(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"{text!r} 应写成 字段=值")
    words = {"true": True, "false": False}
    return key, int(value) if value.isdigit() else words.get(value, value)


@app.command("diff")
def diff(
    old: Annotated[Path, typer.Argument(help="原规则包目录")],
    new: Annotated[Path, typer.Argument(help="新规则包目录")],
) -> None:
    """比较两个规则包：新增、删除、修改了哪些规则和哪些内容。

    示例：

        qixian rules diff rules /tmp/rules-new
    """
    old_pack, new_pack = load(old), load(new)
    for folder, pack in ((old, old_pack), (new, new_pack)):
        warn_failing_examples(pack, folder)
    changes = diff_packs(old_pack, new_pack)
    if not changes:
        console.print("两个规则包的规则没有差别。")
        return
    words = {"added": "[green]新增[/green]", "removed": "[red]删除[/red]", "changed": "[yellow]修改[/yellow]"}
    table = new_table(f"{old} → {new}：{len(changes)} 处变化", "规则", "版本", "变化", "内容", "原", "新", wide=("规则", "内容", "原", "新"))
    for change in changes:
        if not change.fields:
            table.add_row(change.rule_id, change.version, words[change.kind], "", "", "")
        for number, (label, before, after) in enumerate(change.fields):
            first = number == 0
            table.add_row(change.rule_id if first else "", change.version if first else "", words[change.kind] if first else "", label, before, after)
    console.print(table)


@app.command("schema")
def schema(
    kind: Annotated[str, typer.Option("--kind", help="rules（规则文件）、events 或 settings")] = "rules",
) -> None:
    """输出规则文件的 JSON Schema，供编辑器自动补全和即时检查。

    示例：

        qixian rules schema > rules/schema/rules.schema.json
    """
    models = {"rules": RuleFile, "events": EventsFile, "settings": Settings}
    if kind not in models:
        raise InputError(f"--kind 应为 rules、events 或 settings，收到 {kind!r}")
    print_json(schema_of(kind))


def schema_of(kind: str) -> dict:
    models: dict[str, type[BaseModel]] = {"rules": RuleFile, "events": EventsFile, "settings": Settings}
    model = models[kind]
    document = model.model_json_schema(by_alias=True)
    titles = {"rules": "Qixian 规则文件", "events": "Qixian 事件词表 events.yaml", "settings": "Qixian 提醒设置 settings.yaml"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": titles[kind], **document}


def _write_junit(path: Path, results: list[ExampleResult]) -> None:
    suite = ElementTree.Element("testsuite", name="qixian rules", tests=str(len(results)), failures=str(sum(not r.passed for r in results)))
    for result in results:
        case = ElementTree.SubElement(suite, "testcase", classname=result.rule.id, name=result.example.name)
        if not result.passed:
            ElementTree.SubElement(case, "failure", message="期满时间或状态不符").text = result.report()
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


MOVED_SHOWN = 500  # moved dues listed in the terminal; the count says how many there are in all


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
    recompute_all(texts, pack, str(folder), by, db, now, dry_run=False)


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
        raise InputError(
            f"上线记录 #{target.id}（规则包 {rollouts.shown(target)}）没有保存规则包文件（在保存文件之前上线的），"
            f"无法回退：请用 qixian rules rollout --rules {target.directory} 重新上线那个规则包"
        )
    pack = load(folder)
    _refuse_failed_examples(pack, "未回退")
    assert current is not None, "previous() finds a roll-out only when there is a last one"
    console.print(f"回退：规则包 {rollouts.shown(current)} → {rollouts.shown(target)}")
    recompute_all(rollouts.snapshot(folder), pack, f"回退至上线记录 #{target.id}（{target.directory}）", by, db, now, dry_run=False)


def _refuse_failed_examples(pack: RulePack, outcome: str) -> None:
    failed = [r for r in run_examples(pack) if not r.passed]
    if failed:
        for result in failed:
            console.print(result.report(), soft_wrap=True, markup=False)
        console.print(f"[red]{len(failed)} 个例子未通过，{outcome}（qixian rules check 查看）。[/red]")
        raise typer.Exit(1)


def recompute_all(texts: dict[str, str], pack: RulePack, directory: str, by: str | None, db: str | None, now: str | None, *, dry_run: bool) -> None:
    """Recompute every case under `pack` (whose files are `texts`); unless `dry_run`, store the clocks and record the
    roll-out, which keeps the files and puts the pack in force."""
    import os

    moment, store = now_from(now), open_store(db)
    cases = store.case_ids()
    with Progress(
        TextColumn("重新计算"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True, disable=len(cases) < 2000
    ) as bar:
        task = bar.add_task("recompute", total=len(cases))
        result = run_recompute(store, pack, cases, moment, apply=not dry_run, parallel=True, progress=lambda n: bar.advance(task, n))
    if result.moved:
        table = new_table(
            f"期满时间变化（{len(result.moved)} 个计时）" + ("：未写入" if dry_run else ""),
            "案件",
            "人员",
            "规则",
            "原期满",
            "新期满",
            "变化",
            wide=("案件", "规则"),
        )
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
        console.print(f"[green]已记录上线：规则包 {rollouts.shown(row)}，{len(texts)} 个文件；扫描、看板、报表、导入此后都按这个规则包。[/green]")


app.command("rollback")(rollback)
app.command("rollout")(rollout)
