"""A stored clock as people read it, in the terminal and on the dashboard: its state in words, the time left, and
its traffic light (红 overdue, 橙 inside the warning window, 绿 otherwise, 灰 paused or finished)."""

from __future__ import annotations

from datetime import datetime

from qixian.alerting.outbox import counting_unit, rule_of
from qixian.engine.clocks import ClockState, state_at
from qixian.engine.reminders import steps, warning_of
from qixian.legaltime.localtime import span
from qixian.rulebook.model import RulePack
from qixian.store.tables import ClockRow

STATES = {
    ClockState.RUNNING: "计时中",
    ClockState.PAUSED: "暂停",
    ClockState.MET: "按期完成",
    ClockState.MET_LATE: "超期完成",
    ClockState.OVERDUE: "已超期",
    ClockState.CANCELLED: "不再适用",
    ClockState.RESTARTED: "已重新计算",
    ClockState.PROVISIONAL: "计时中（临时）",
}
LIGHTS = {"red": "已超期", "orange": "临期", "green": "正常", "grey": "暂停或已结束"}


def state_of(row: ClockRow, now: datetime) -> ClockState:
    return state_at(None if row.open else row.outcome, row.paused, row.due_at, row.provisional, now)


def left(row: ClockRow, now: datetime) -> str:
    """Time left (or overdue by) in words: 2天3小时 / 已超期5小时."""
    if not row.open or row.due_at is None:
        return ""
    words = span(row.due_at - now)
    return f"已超期{words}" if now > row.due_at else words


def warning_at(pack: RulePack, row: ClockRow) -> datetime | None:
    """When the clock's warning window opens, worked out from its rule: the time of the rule's last reminder before
    the due (the 预警 step, the same step the scan sends); None for a rule that does not remind before the due. A
    replay stores the same (`clocks.warning_at`), from the plan it derives."""
    rule = rule_of(pack, row)
    if rule is None or row.due_at is None:
        return None
    return warning_of(steps(rule, counting_unit(pack, rule), row.started_at, row.due_at, pack.settings))


def light(row: ClockRow, now: datetime) -> str:
    """red | orange | green | grey (see LIGHTS), from the stored row: its warning time is written with the clock
    (`clocks.warning_at`, what `warning_at` works out from the rule), so the database filters by colour alike."""
    state = state_of(row, now)
    if state == ClockState.OVERDUE:
        return "red"
    if state not in (ClockState.RUNNING, ClockState.PROVISIONAL):
        return "grey"
    return "orange" if row.warning_at is not None and now >= row.warning_at else "green"
