"""What changed between two rule packs, rule by rule and field by field (the impact on running clocks is
computed by replaying them, with the case store)."""

from __future__ import annotations

from dataclasses import dataclass

from qixian.rulebook.model import Rule, RulePack

FIELDS = {  # field -> label, in the order a legal officer reads a rule
    "name": "名称",
    "enabled": "启用",
    "group": "分组",
    "reminder_type": "提醒类型",
    "per": "计时对象",
    "start": "起算事件",
    "stop": "完成事件",
    "cancel": "不再适用",
    "limit": "期限",
    "lead": "提前量",
    "before": "倒推期限",
    "every": "周期",
    "custody": "在押不顺延",
    "holiday_roll": "节假日顺延",
    "extend": "延长",
    "pause": "不计入期间",
    "restart": "重新计算",
    "defer": "自…之日起计算",
    "applies": "适用条件",
    "remind": "提醒",
    "overdue": "超期",
    "notify": "提醒对象",
    "party_window": "当事人期间",
    "basis": "依据",
}


@dataclass(frozen=True)
class Change:
    rule_id: str
    version: str
    kind: str  # added | removed | changed
    fields: tuple[tuple[str, str, str], ...] = ()  # (label, old, new)


def diff_packs(old: RulePack, new: RulePack) -> list[Change]:
    before = {_key(r): r for r in old.rules}
    after = {_key(r): r for r in new.rules}
    changes = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[0], str(k[1]), str(k[2]))):
        a, b = before.get(key), after.get(key)
        if a is None:
            assert b is not None  # the key came from one side or the other
            changes.append(Change(b.id, b.version, "added"))
        elif b is None:
            changes.append(Change(a.id, a.version, "removed"))
        else:
            fields = tuple((label, _text(getattr(a, f)), _text(getattr(b, f))) for f, label in FIELDS.items() if _text(getattr(a, f)) != _text(getattr(b, f)))
            if fields:
                changes.append(Change(a.id, a.version, "changed", fields))
    return changes


def _key(rule: Rule):
    return rule.id, rule.effective_from, rule.effective_until


def _text(value) -> str:
    if isinstance(value, tuple):
        return "；".join(_text(v) for v in value) or "无"
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return "无"
    if hasattr(value, "cite"):
        return f"{value.cite}：{value.text}" + ("" if value.is_law else f"（{value.heading}）")
    if hasattr(value, "mode"):
        return f"{value.on} {'延长' if value.mode == 'by' else '延长至'}{value.amount}×{value.times}"
    if hasattr(value, "until") and hasattr(value, "start"):
        return f"{value.start}→{value.until}"
    if hasattr(value, "escalate"):
        return f"每{value.every or '—'}，升级：{'、'.join(value.escalate) or '无'}"
    if hasattr(value, "before"):
        return f"{value.of} 前 {value.before}"
    if hasattr(value, "field") and hasattr(value, "by"):
        return f"data.{value.field} 前 {value.by}"
    return str(value)
