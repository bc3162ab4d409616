"""Which rule pack a command uses: a folder's pack, or the one in force in the store. Apart from the `qixian rules`
commands, so that the commands that only need the pack start without them."""

from __future__ import annotations

from pathlib import Path

import typer

from qixian.casework import rollout as rollouts
from qixian.cli._output import InputError, errors, rules_dir
from qixian.legaltime.yamlsource import ProblemsFound
from qixian.rulebook import RulePack, load_pack

FAILED = 1


def load(directory: Path) -> RulePack:
    """The pack, or every problem in it on stderr and exit status 1 (nothing of it is used)."""
    try:
        return load_pack(directory)
    except ProblemsFound as found:
        for problem in found.problems:
            errors.print(str(problem), soft_wrap=True, markup=False)
        errors.print(f"[red]共 {len(found.problems)} 处问题，规则包 {directory} 未被采用。[/red]")
        raise typer.Exit(FAILED) from None


def in_force(store, option: Path | None) -> RulePack:
    """The pack the store's clocks are computed and shown with: the one last rolled out (qixian.casework.rollout), or the
    configured folder before any roll-out kept its files. An explicit --rules with other files is refused: one
    store's clocks are never shown or advanced with a pack they were not computed with."""
    configured = rules_dir(option)
    if option is not None:
        current = rollouts.differs(store, configured)
        if current is not None:
            raise InputError(
                f"--rules {option} 与案件库在用的规则包 {rollouts.shown(current)} 不同：计时按在用的规则包计算，"
                f"不能混用。要换用它，先运行 qixian rules rollout --rules {option}；"
                "按在用的规则包查看、扫描不必写 --rules"
            )
    return load(rollouts.folder_for(store, configured))
