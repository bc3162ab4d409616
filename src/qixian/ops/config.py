"""Where things are: the rule pack folder and the case store (the same resolution for the CLI and the flows)."""

from __future__ import annotations

import os
from pathlib import Path

from qixian.store.database import database_url  # noqa: F401 - one place to import both settings from


class ConfigError(ValueError):
    """A setting that points nowhere; the message says which and how to fix it."""


def rules_dir(option: Path | str | None = None) -> Path:
    """The rule pack folder: the option, else $QIXIAN_RULES, else ./rules, else the project's own rules/.
    A folder asked for by name is used or refused, never silently replaced by another."""
    chosen = option or os.environ.get("QIXIAN_RULES")
    if chosen:
        if not Path(chosen, "calendar").is_dir():
            raise ConfigError(f"规则包目录 {chosen} 不存在或其中没有 calendar/ 子目录")
        return Path(chosen)
    for candidate in (Path("rules"), Path(__file__).resolve().parents[3] / "rules"):
        if Path(candidate, "calendar").is_dir():
            return candidate
    raise ConfigError("找不到规则包目录 rules/：请用 --rules DIR 或环境变量 QIXIAN_RULES 指定")
