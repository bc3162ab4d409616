"""`qixian recompute`: replay cases under a rule pack; `--dry-run` shows which dues would move."""

from __future__ import annotations

from typing import Annotated

import typer

from qixian.casework.recompute import replay_pending
from qixian.cli._output import InputError, console, now_from, open_store, rules_dir
from qixian.cli.options import By, Db, Now, Rules
from qixian.cli.packs import in_force, load
from qixian.cli.rules import recompute_all, rollout, warn_failing_examples


def recompute(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只报告哪些期满时间会变化，不写入")] = False,
    pending: Annotated[
        bool, typer.Option("--pending", help='只补算计时落后于事件的案件（导入或重算被中断后；qixian health 的"计时重算"），不记为上线')
    ] = False,
    by: By = None,
    db: Db = None,
    rules: Rules = None,
    now: Now = None,
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
        console.print(
            f"补算了 {result.cases} 起案件的 {result.clocks} 个计时，{result.changed} 个已更新。"
            if result.cases
            else "[green]没有计时落后于事件的案件。[/green]"
        )
        return
    if not dry_run:
        rollout(by, db, rules, now)
        return
    folder = rules_dir(rules)
    pack = load(folder)
    warn_failing_examples(pack, folder)
    recompute_all({}, pack, str(folder), by, db, now, dry_run=True)
