"""A rule in plain Chinese: what starts it, what ends it, how long, extensions, pauses, who is reminded, the law."""

from __future__ import annotations

from qixian.legaltime.periods import Duration
from qixian.rulebook.model import Before, Every, Rule, RulePack


def explain(pack: RulePack, rule: Rule) -> list[tuple[str, str]]:
    """(heading, text) pairs describing one version of a rule."""
    events = pack.event_label
    roles = pack.settings.roles
    lines: list[tuple[str, str]] = []
    lines.append(("规则", f"{rule.name}（{rule.id}）"))
    tags = "，".join(t for t in (rule.group, rule.reminder_type, PER_LABELS[rule.per], "工作规范（非法律规定）" if rule.working_standard else None) if t)
    lines.append(("分类", tags))
    if rule.lead:
        target = pack.versions(rule.lead.of)
        name = target[0].name if target else rule.lead.of
        lines.append(("期限", f"须在「{name}」（{rule.lead.of}）期满前 {rule.lead.before} 完成，即自其期满时间向前推算 {rule.lead.before}"))
    elif rule.every:
        lines.append(
            ("起算", "、".join(events(e) for e in rule.start) + "之时起，按周期计时，直到" + ("、".join(events(e) for e in rule.cancel) or "规则停用"))
        )
        lines.append(("期限", _every(rule, rule.every)))
    elif rule.before:
        lines.append(("起算", "、".join(events(e) for e in rule.start) + f"之时起算；该事件写明将来的时刻 data.{rule.before.field}"))
        lines.append(("期限", _before(rule, rule.before)))
    else:
        assert rule.limit is not None, "a rule without lead, every or before has a limit (schema.Rule._limit_or_lead)"
        counted = "；开始的时、日不计入" if rule.limit.amount else "，应当场（立即）完成"
        lines.append(("起算", "、".join(events(e) for e in rule.start) + "之时起算" + counted))
        lines.append(("期限", _limit(rule, rule.limit)))
    lines.append(("完成", "、".join(events(e) for e in rule.stop)))
    if rule.cancel:
        lines.append(("不再适用", "、".join(events(e) for e in rule.cancel)))
    for extend in rule.extend:
        amount = f"延长{extend.amount}（按批准数计，至多{extend.amount}）" if extend.mode == "by" else f"延长至自起算{extend.amount}"
        lines.append(("延长", f"{events(extend.on)}：{amount}，限{extend.times}次；延长须在期满前批准，逾期批准的不计入并标为异常"))
    for pause in rule.pause:
        lines.append(("不计入", f"自{events(pause.start)}至{events(pause.until)}的期间不计入期限"))
    for defer in rule.defer:
        lines.append(
            ("自…之日起计算", f"{events(defer.start)}后期限待起算；{events(defer.until)}之日起计算期限（该日不计入），此前经过的期间及延长、暂停都不计入")
        )
    if rule.restart and rule.before:
        lines.append(("重新计算", "、".join(events(e) for e in rule.restart) + f"时按其写明的新时刻（data.{rule.before.field}）重新推算"))
    elif rule.restart:
        lines.append(("重新计算", "、".join(events(e) for e in rule.restart) + "时重新计算期限，此前的延长与暂停不再适用"))
    if rule.applies:
        lines.append(("适用条件", "；".join(str(c) for c in rule.applies)))
    who = "、".join(roles.get(r, r) for r in rule.notify)
    when = "、".join(str(r) for r in rule.remind)
    reminded = f"{when}提醒{who}" if when else f"不提前提醒；期满时提醒{who}"
    lines.append(("提醒", reminded + ("（当事人的期间，仅供关注，不计公安超期）" if rule.party_window else "")))
    if rule.overdue.every or rule.overdue.escalate:
        every = f"每{rule.overdue.every}" if rule.overdue.every else ""
        escalate = "、".join(roles.get(r, r) for r in rule.overdue.escalate)
        lines.append(("超期", (f"超期后{every}再次提醒" if every else "超期时提醒一次") + (f"，并告知{escalate}" if escalate else "")))
    lines.append(("版本", rule.version + ("" if rule.enabled else "（未启用）")))
    if rule.note:
        lines.append(("说明", rule.note))
    for basis in rule.basis:
        lines.append((basis.heading, f"{basis.cite}：{basis.text}"))
    lines.append(("出处", rule.source))
    return lines


PER_LABELS = {"person": "按人计时", "case": "按案计时", "unit": "按单位计时", "assignee": "按交办对象计时（双交办各自计时）"}


def _every(rule: Rule, every: Every) -> str:
    if every.period is None:
        return f"{every}，第 N 期在起算后第 N 个间隔的末日二十四时期满（按日、月期限计算），期内报送即满足该期；漏报的一期保持超期，直到补报（写明 period）"
    rolled = (
        "期满时刻遇休息日的，顺延至其后第一个工作日的同一时刻" + ("；休息日不安排" if every.period == "day" else "")
        if rule.holiday_roll
        else "期满时刻遇休息日不顺延"
    )
    return f"{every}完成，每个周期一个计时；{rolled}；周期内的完成记录满足该周期，期满后记录的为超期完成"


def _before(rule: Rule, before: Before) -> str:
    by, field = before.by, f"data.{before.field}"
    head = f"须在 {field} 所写时刻之前 {by} 完成（倒推期限）"
    if by.unit.exact:
        return f"{head}：自该时刻向前精确推算 {by}，不因节假日调整"
    counted = (
        f"{head}：该时刻所在之日不计入，其前 {by} 须完整经过，义务的最后一日为这 {by} 之前的一日，至该日二十四时"
        f"（如 {by.amount}{by.unit.label}前：该时刻之日减 {by.amount + 1} 日）"
        if by.unit.value == "days"
        else f"{head}：该时刻所在之日不计入，其前 {by} 须完整经过，至这 {by} 开始前一日的二十四时"
    )
    if by.unit.value == "workdays":
        return counted
    if rule.custody or not rule.holiday_roll:
        return counted + "；最后一日为休息日的不提前"
    return counted + "；最后一日为节假日的，提前至其前最后一个工作日（节假日规则反向适用）"


def _limit(rule: Rule, limit: Duration) -> str:
    text = str(limit)
    if not limit.amount:
        return "当场（立即）：起算之时即期满，不留期间"
    if limit.unit.exact:
        return f"{text}，自起算时刻精确计算，不因节假日顺延"
    if limit.unit.value == "workdays":
        return f"{text}，只计工作日"
    if rule.custody:
        return f"{text}，至期满日二十四时；在押（被限制人身自由），期满日遇节假日不顺延"
    if not rule.holiday_roll:
        return f"{text}，至期满日二十四时；依规定期满即止，期满日遇节假日不顺延"
    return f"{text}，至期满日二十四时；期满日为节假日的，顺延至节后第一个工作日"
