"""`qixian quarantine list|retry`: the events that could not be used, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from qixian.casework.feedlines import check, read_lines
from qixian.casework.feeds import ingest_items
from qixian.cli._output import console, now_from, open_store, print_json
from qixian.cli._output import table as new_table
from qixian.cli.ingest import print_report
from qixian.cli.options import Db, Json, Now, Rules
from qixian.cli.packs import in_force

app = typer.Typer(help="隔离区：无法采用的事件及原因。", no_args_is_help=True)


@app.command("list")
def quarantine_list(
    all_: Annotated[bool, typer.Option("--all", help="包括已重新导入的")] = False,
    as_json: Json = False,
    db: Db = None,
) -> None:
    """列出隔离区中的事件：编号、原始内容、原因。

    示例：

        qixian quarantine list
    """
    rows = open_store(db).quarantined(include_resolved=all_)
    if as_json:
        print_json(
            [
                {
                    "quarantine_id": r.id,
                    "id": r.source_id,
                    "origin": r.source,
                    "line": r.line,
                    "raw": r.raw,
                    "reason": r.reason,
                    "resolved": r.resolved_at is not None,
                }
                for r in rows
            ]
        )
        return
    table = new_table(f"隔离区（{len(rows)} 条）", "序号", "事件编号", "来源", "原始内容", "原因", wide=("事件编号", "来源", "原始内容", "原因"))
    for r in rows:
        table.add_row(str(r.id), r.source_id or "", f"{r.source}:{r.line}", r.raw[:300], r.reason)
    console.print(table)


@app.command("retry")
def quarantine_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="隔离序号；不写则重试全部")] = None,
    source: Annotated[str, typer.Option("--source", help="事件来源系统名")] = "case-system",
    db: Db = None,
    rules: Rules = None,
    now: Now = None,
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
    print_report(report)
