"""A loaded rule pack: immutable rules, the event vocabulary and the settings they were checked against."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Literal

from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.localtime import parse_local
from qixian.legaltime.periods import Duration, parse_duration

# -- applies: a small, safe matcher (no eval) -----------------------------------------------------

OPERATORS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
MATCH_WORDS = set(OPERATORS) | {"in", "not_in", "exists"}
FACT_ROOTS = ("case", "person", "event")


@dataclass(frozen=True, slots=True)
class Condition:
    path: tuple[str, ...]  # ("case", "kind")
    op: str  # eq ne lt le gt ge in not_in exists
    value: Any

    def holds(self, facts: Mapping[str, Any]) -> bool:
        found, actual = _lookup(facts, self.path)
        if self.op == "exists":
            return found == bool(self.value)
        if not found:  # an absent fact is not equal to anything and in no list
            return self.op in ("ne", "not_in")
        if self.op == "in":
            return actual in self.value
        if self.op == "not_in":
            return actual not in self.value
        try:
            return bool(OPERATORS[self.op](actual, self.value))
        except TypeError:  # comparing a number with text: the fact does not match
            return False

    def __str__(self) -> str:
        words = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "in": "属于", "not_in": "不属于"}
        path = ".".join(self.path)
        if self.op == "exists":
            return f"{path} {'有值' if self.value else '无值'}"
        value = {True: "是", False: "否"}.get(self.value, self.value) if isinstance(self.value, bool) else self.value
        return f"{path} {words[self.op]} {value}"


def _lookup(facts: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    value: Any = facts
    for part in path:
        if not (type(value) is dict or isinstance(value, Mapping)) or part not in value:  # dict first: the hot path
            return False, None
        value = value[part]
    return value is not None, value


# -- rules ----------------------------------------------------------------------------------------


BASIS_KINDS = {"statute": "法律依据", "working_standard": "工作规范"}
STANDARD_LABELS = ("工作规范", "本单位规定", "专项工作要求")  # how a working standard is named on screen


@dataclass(frozen=True, slots=True)
class Basis:
    cite: str
    text: str
    kind: str = "statute"  # statute | working_standard (never shown as law)
    label: str | None = None  # a working standard's name on screen: 工作规范 (default), 本单位规定, 专项工作要求

    @property
    def is_law(self) -> bool:
        return self.kind == "statute"

    @property
    def heading(self) -> str:
        """What the basis is called where it is shown: 依据 for law, else 工作规范 / 本单位规定 / 专项工作要求."""
        return "依据" if self.is_law else self.label or STANDARD_LABELS[0]


@dataclass(frozen=True, slots=True)
class ExtendStep:
    on: str
    mode: Literal["by", "to"]
    amount: Duration
    times: int


@dataclass(frozen=True, slots=True)
class PauseStep:
    start: str
    until: str


@dataclass(frozen=True, slots=True)
class DeferStep:
    """From `start` the period waits; it is counted from the day of `until` (期限自……之日起计算)."""

    start: str
    until: str


@dataclass(frozen=True, slots=True)
class Reminder:
    """Before the due: `offset` ahead of it, or when `share` of the period has passed (50% → 0.5)."""

    offset: Duration | None = None
    share: float | None = None

    def __str__(self) -> str:
        if self.share:
            return "期限过半时" if self.share == 0.5 else f"期限过 {self.share:.0%} 时"
        assert self.offset is not None, "a reminder has an offset or a share (rulebook.load._reminder)"
        return "期满当日" if self.offset.amount == 0 else f"期满前 {self.offset}"


@dataclass(frozen=True, slots=True)
class Overdue:
    every: Duration | None
    escalate: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lead:
    of: str
    before: Duration


@dataclass(frozen=True, slots=True)
class Before:
    """Due `by` ahead of a moment the start event carries in its data (在举行听证的七日前)."""

    field: str  # the data field: "hearing_at" for `moment: data.hearing_at`
    by: Duration


@dataclass(frozen=True, slots=True)
class Every:
    """A recurring duty: from its start event, one clock per period until a cancel event.
    Calendar periods (`period` day | week | month, due at `due_day` / `due_minute` inside each), or periods of a
    fixed `interval` counted from the start (or of the length the start event gives in `interval_field`)."""

    period: str | None = None  # day | week | month
    due_day: int | None = None  # week: 0 (Monday) … 6; month: 1 … 28, or -1 for the last day; day: None
    due_minute: int = 1440  # minutes after midnight of the due day; 1440 = 24:00
    interval: Duration | None = None
    interval_field: str | None = None  # "report_every" for `interval: data.report_every`

    def __str__(self) -> str:
        if self.period is None:
            return f"每{self.interval}" if self.interval else f"按起算事件 data.{self.interval_field} 所写的间隔"
        clock = "24:00" if self.due_minute == 1440 else f"{self.due_minute // 60:02d}:{self.due_minute % 60:02d}"
        if self.period == "day":
            return f"每日 {clock} 前"
        if self.period == "week":
            assert self.due_day is not None, "a week's due names its day (schema.parse_period_due)"
            return f"每周{WEEKDAY_NAMES[self.due_day]} {clock} 前"
        return f"每月{'最后一日' if self.due_day == -1 else f'{self.due_day}日'} {clock} 前"


WEEKDAY_NAMES = ("一", "二", "三", "四", "五", "六", "日")


@dataclass(frozen=True, slots=True)
class Example:
    name: str
    case: Mapping[str, Any]
    persons: Mapping[str, Mapping[str, Any]]
    events: tuple[Mapping[str, Any], ...]
    now: str | None
    person: str | None
    clock: int
    due: str | None
    state: str | None
    provisional: bool | None
    source: str  # file:line


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    group: str | None
    reminder_type: str | None
    basis: tuple[Basis, ...]
    applies: tuple[Condition, ...]
    per: str
    start: tuple[str, ...]
    stop: tuple[str, ...]
    cancel: tuple[str, ...]
    limit: Duration | None
    lead: Lead | None
    before: Before | None
    every: Every | None
    custody: bool
    holiday_roll: bool
    extend: tuple[ExtendStep, ...]
    pause: tuple[PauseStep, ...]
    restart: tuple[str, ...]
    defer: tuple[DeferStep, ...]
    remind: tuple[Reminder, ...]
    overdue: Overdue
    notify: tuple[str, ...]
    effective_from: date | None
    effective_until: date | None
    enabled: bool
    party_window: bool
    note: str | None
    examples: tuple[Example, ...]
    source: str  # file:line of the rule

    @property
    def working_standard(self) -> bool:
        """Set by a working standard (工作规范), not by law: no basis of it is a statute."""
        return not any(b.is_law for b in self.basis)

    def in_force(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (self.effective_until is None or day <= self.effective_until)

    def applies_to(self, facts: Mapping[str, Any]) -> bool:
        return all(condition.holds(facts) for condition in self.applies)

    @property
    def version_key(self) -> str:
        """The key a stored clock keeps of the version it is bound to: its effective-from date, "" for none."""
        return self.effective_from.isoformat() if self.effective_from else ""

    @property
    def version(self) -> str:
        """The version label: its effective range, as legal staff write it."""
        if self.effective_from is None and self.effective_until is None:
            return "长期有效"
        start = self.effective_from.isoformat() if self.effective_from else "…"
        until = self.effective_until.isoformat() if self.effective_until else "…"
        return f"{start} 至 {until}"


# -- events ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldSpec:
    type: str
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None
    required: bool = False

    def problem(self, name: str, value: Any) -> str | None:
        """Why `value` is not acceptable for this field, or None."""
        kinds: dict[str, type[Any] | tuple[type[Any], ...]] = {"int": int, "float": (int, float), "str": str, "bool": bool}
        if self.type == "duration":  # an interval an event gives (a listing's report interval): days, months, working days
            try:
                exact = parse_duration(value).unit.exact
            except ValueError:
                return f"data.{name} 应为期间（如 15日、1个月），收到 {value!r}"
            # An hour interval would be counted to the minute while the stored clocks remind by the day (their unit
            # is the rule's, not the event's): refused, not half-supported. Daily reports are written 1日.
            return f"data.{name} 应写日、月或工作日（如 1日、15日、1个月；每日报告写 1日），不接受按小时、分钟的间隔，收到 {value!r}" if exact else None
        if self.type in ("date", "datetime"):
            try:
                date.fromisoformat(value) if self.type == "date" else parse_local(str(value))
            except (TypeError, ValueError):
                return f"data.{name} 应为{'日期' if self.type == 'date' else '时间'}，收到 {value!r}"
            return None
        if (isinstance(value, bool) and self.type != "bool") or not isinstance(value, kinds[self.type]):
            return f"data.{name} 应为 {self.type}，收到 {value!r}"
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            return f"data.{name} = {value} 超出范围 [{self.min}, {self.max}]"
        if self.values is not None and value not in self.values:
            return f"data.{name} 应为 {'、'.join(self.values)} 之一，收到 {value!r}"
        return None


def new_event_hint(name: str, events) -> str:
    """The fix for an event type the vocabulary lacks: the nearest known type, and where a new one is declared."""
    from qixian.legaltime.yamlsource import close_match

    return f"{close_match(name, events)}若是新的事件类型，先在规则包的 events.yaml 中添加（名称、是否写人员、data 字段）"


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    label: str
    person: str  # required | optional | none
    data: Mapping[str, FieldSpec] = field(default_factory=dict)

    def problems(self, person: str | None, data: Mapping[str, Any]) -> list[str]:
        """What is wrong with one occurrence of this event (empty when it is fine)."""
        found = []
        if self.person == "required" and not person:
            found.append(f"事件 {self.name}（{self.label}）必须写明人员 person")
        if self.person == "none" and person:
            found.append(f"事件 {self.name}（{self.label}）是案件层面的事件，不应写 person")
        for name, value in data.items():
            spec = self.data.get(name)
            if spec is None:
                known = "、".join(self.data) or "无"
                found.append(f"事件 {self.name} 没有字段 data.{name}（可用：{known}）")
            elif (problem := spec.problem(name, value)) is not None:
                found.append(problem)
        found += [f"事件 {self.name} 缺少必填字段 data.{name}" for name, spec in self.data.items() if spec.required and name not in data]
        return found


# -- the pack -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # identity: a pack's settings key the per-settings caches of reminder planning
class Settings:
    zone: str
    day_reminder_time: str
    quiet_hours: Mapping[str, Any] | None
    default_remind: Mapping[str, tuple[Reminder, ...]]
    default_overdue: Overdue
    default_notify: tuple[str, ...]
    levels: Mapping[str, Mapping[str, str]]
    groups: tuple[str, ...]
    roles: Mapping[str, str]
    case_kinds: Mapping[str, str] = field(default_factory=dict)  # case.kind -> its Chinese name
    data_labels: Mapping[str, str] = field(default_factory=dict)  # an event's data key -> its Chinese name
    # after how many overdue repeats a clock is folded into the daily overdue digest, and when that goes out
    overdue_digest: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RulePack:
    rules: tuple[Rule, ...]  # every version of every rule, in file order
    events: Mapping[str, EventType]
    settings: Settings
    calendar: LegalCalendar
    files: Mapping[str, str]  # path -> sha256 of its content
    directory: str

    def __post_init__(self) -> None:
        # derived here, not fields: indexes of `rules` (declared on the instance, set past the frozen dataclass's guard)
        self._uses: Mapping[str, tuple[frozenset[str], frozenset[str]]]
        self._on_case: Mapping[str, tuple[tuple[bool, tuple[Condition, ...]], ...]]
        self._versions: Mapping[str, tuple[Rule, ...]]
        self._starters: Mapping[str, frozenset[str]]
        self._leads: Mapping[str, str]  # lead rule -> the rule it leads
        versions: dict[str, list[Rule]] = {}
        starters: dict[str, set[str]] = {}
        for rule in self.rules:
            versions.setdefault(rule.id, []).append(rule)
            for event_type in rule.start:
                starters.setdefault(event_type, set()).add(rule.id)
        leads = {r.id: r.lead.of for r in self.rules if r.lead is not None}
        uses: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        for rule_id, rules in versions.items():
            starts = frozenset(t for r in rules for t in r.start)
            uses[rule_id] = (
                starts,
                starts
                | {
                    t
                    for r in rules
                    for t in (
                        *r.stop,
                        *r.cancel,
                        *r.restart,
                        *(s.on for s in r.extend),
                        *(p.start for p in r.pause),
                        *(p.until for p in r.pause),
                        *(d.start for d in r.defer),
                        *(d.until for d in r.defer),
                    )
                },
            )
        object.__setattr__(self, "_uses", MappingProxyType(uses))
        object.__setattr__(
            self,
            "_on_case",
            MappingProxyType(
                {  # per version: enabled, and its conditions on the case
                    rule_id: tuple((r.enabled, tuple(c for c in r.applies if c.path[0] == "case")) for r in rules) for rule_id, rules in versions.items()
                }
            ),
        )
        object.__setattr__(self, "_versions", MappingProxyType({k: tuple(v) for k, v in versions.items()}))
        object.__setattr__(self, "_starters", MappingProxyType({k: frozenset(v) for k, v in starters.items()}))
        object.__setattr__(self, "_leads", MappingProxyType(leads))

    def events_of(self, rule_id: str) -> tuple[frozenset[str], frozenset[str]]:
        """(the event types that start `rule_id`, every event type any of its versions reacts to)."""
        return self._uses.get(rule_id, (frozenset(), frozenset()))

    def may_start(self, rule_id: str, case_facts: Mapping[str, Any], *, disabled: bool = False) -> bool:
        """Whether some version of `rule_id` can start a clock in a case with these facts: switched on (or
        `disabled` asked for) and its conditions on the case met. Those facts are fixed for a replay, so a rule
        that cannot start is skipped whole (more than half the rules a case's events start, in a typical feed)."""
        facts = {"case": case_facts}
        for enabled, conditions in self._on_case.get(rule_id, ()):  # plain loops: this runs per rule and case
            if enabled or disabled:
                for condition in conditions:
                    if not condition.holds(facts):
                        break
                else:
                    return True
        return False

    def is_recurring(self, rule_id: str) -> bool:
        """Whether `rule_id` opens a clock per period (`every:`) rather than one per start."""
        return any(r.every is not None for r in self._versions.get(rule_id, ()))

    def is_lead(self, rule_id: str) -> bool:
        return rule_id in self._leads

    def rules_started_by(self, event_types) -> list[str]:
        """The ids of the rules a case with these event types can have clocks for (lead rules included), in
        pack order: replaying only these gives the same clocks as replaying every rule."""
        wanted = set().union(*(self._starters.get(t, ()) for t in event_types)) if event_types else set()
        wanted |= {lead for lead, target in self._leads.items() if target in wanted}
        return [rule_id for rule_id in self._versions if rule_id in wanted]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._versions)

    def versions(self, rule_id: str) -> tuple[Rule, ...]:
        return self._versions.get(rule_id, ())

    def bound(self, rule_id: str, version: str) -> Rule | None:
        """The version of `rule_id` a stored clock is bound to (`version`: its `Rule.version_key`)."""
        for rule in self._versions.get(rule_id, ()):
            if rule.version_key == version:
                return rule
        return None

    def rule_at(self, rule_id: str, moment: datetime | date, *, disabled: bool = False) -> Rule | None:
        """The version of `rule_id` in force on the day of `moment`: enabled ones only, unless `disabled`
        (examples of a rule that is not switched on yet still run)."""
        day = moment.date() if isinstance(moment, datetime) else moment
        for rule in self._versions.get(rule_id, ()):  # a plain loop: this runs for every start event replayed
            if (rule.enabled or disabled) and rule.in_force(day):
                return rule
        return None

    def name_of(self, rule_id: str) -> str:
        """The rule's Chinese name (its newest version's), or the id of a rule the pack no longer has. A working
        standard says so (`周研判（工作规范）`): wherever a rule is named, it is never taken for law."""
        versions = self.versions(rule_id)
        if not versions:
            return rule_id
        newest = versions[-1]
        return f"{newest.name}（{newest.basis[0].heading}）" if newest.working_standard else newest.name

    def kind_label(self, kind: str | None) -> str:
        """A case kind's Chinese name (settings.yaml case_kinds), or the kind itself if the pack has no name for it."""
        return self.settings.case_kinds.get(kind or "", kind or "—")

    def data_text(self, data: Mapping[str, Any] | None) -> str:
        """An event's data as a person reads it: `报案方式：上门报案  紧急：是` (settings.yaml data_labels)."""

        def value(v: Any) -> str:
            if isinstance(v, bool):
                return "是" if v else "否"
            if isinstance(v, (list, tuple)):
                return "、".join(value(x) for x in v)
            if isinstance(v, dict):
                return "，".join(f"{self.settings.data_labels.get(k, k)}：{value(x)}" for k, x in v.items())
            return "—" if v is None or v == "" else str(v)

        return "  ".join(f"{self.settings.data_labels.get(k, k)}：{value(v)}" for k, v in (data or {}).items())

    def event_name(self, name: str) -> str:
        """What an officer calls the event (`刑事拘留`); the type itself if the vocabulary does not have it."""
        event = self.events.get(name)
        return event.label if event else name

    def event_label(self, name: str) -> str:
        event = self.events.get(name)
        return f"{event.label}（{name}）" if event else name
