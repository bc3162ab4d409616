"""Load a rule pack folder whole or not at all: every problem in every file, or one immutable RulePack.

Order: parse each file (positions kept), check it against its model, then check across files: event types
exist, groups and roles are declared, versions of one id do not overlap and are all lead rules or none, lead
rules point at a rule, reminders fall inside the period, examples use events correctly.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from qixian.legaltime.calendar import LegalCalendar
from qixian.legaltime.periods import Duration, Unit, parse_duration
from qixian.legaltime.yamlsource import LineDict, LineList, Problem, ProblemsFound, load_yaml, outside, position_of, suggest
from qixian.rulebook import model as m
from qixian.rulebook import schema as s
from qixian.rulebook.errors import problems_from

SPECIAL_FILES = ("settings.yaml", "events.yaml")
_MINUTES = {Unit.MINUTES: 1, Unit.HOURS: 60, Unit.DAYS: 1440, Unit.WORKDAYS: 1440, Unit.MONTHS: 28 * 1440}


def load_pack(directory: Path | str) -> m.RulePack:
    """Load `directory` (settings.yaml, events.yaml, calendar/, every other *.yaml). Raises ProblemsFound."""
    folder = Path(directory)
    shown = _shown(folder)
    if not folder.is_dir():
        raise ProblemsFound([Problem(shown, 1, 1, "规则包目录不存在", "用 --rules 指定，如 rules")])
    problems: list[Problem] = []
    texts: dict[str, str] = {}
    root = Path(os.path.realpath(folder))
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        source = f"{shown}/{path.name}"
        refused = outside(path, root, source)
        if refused:
            problems.append(refused)
            continue
        try:
            texts[source] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(source, 1, 1, f"文件不是 UTF-8 编码（{exc.reason}）", "请另存为 UTF-8"))
    calendar = None
    try:
        calendar = LegalCalendar.load(folder / "calendar")
    except ProblemsFound as refused_calendar:
        problems.extend(refused_calendar.problems)
    pack, found = build_pack(texts, calendar, shown)
    problems.extend(found)
    if problems or pack is None:
        raise ProblemsFound(problems)
    return pack


def build_pack(texts: dict[str, str], calendar: LegalCalendar | None, directory: str = "rules") -> tuple[m.RulePack | None, list[Problem]]:
    """Check the texts of one pack's files ({source: text}); returns (pack or None, problems)."""
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for source, text in texts.items():
        try:
            parsed[source] = load_yaml(text, source)
        except ProblemsFound as found:
            problems.extend(found.problems)
    special = {name: next((src for src in texts if src.endswith("/" + name) or src == name), None) for name in SPECIAL_FILES}
    for name, special_source in special.items():
        if special_source is None:
            problems.append(Problem(f"{directory}/{name}", 1, 1, f"缺少 {name}", "规则包目录中必须有 settings.yaml 和 events.yaml"))

    settings_spec = _validate(parsed, special["settings.yaml"], s.Settings, problems)
    events_spec = _validate(parsed, special["events.yaml"], s.EventsFile, problems)
    settings = _settings(settings_spec, parsed, special["settings.yaml"], problems)
    events = {
        name: m.EventType(
            name, e.label, e.person, {k: m.FieldSpec(f.type, f.min, f.max, tuple(f.values) if f.values else None, f.required) for k, f in e.data.items()}
        )
        for name, e in (events_spec.events.items() if events_spec else ())
    }

    rules: list[tuple[m.Rule, LineDict]] = []
    for source in parsed:
        if source in special.values():
            continue
        for _index, raw, rule_spec in _rule_specs(parsed, source, problems, events if events_spec else None):
            checker = _RuleChecker(rule_spec, raw, source, settings, events if events_spec else None, problems)
            rules.append((checker.build(), raw))
    _check_across(rules, problems)
    if problems or settings is None or events_spec is None or calendar is None:
        return None, problems
    files = {src: hashlib.sha256(text.encode("utf-8")).hexdigest() for src, text in texts.items()}
    return m.RulePack(tuple(r for r, _ in rules), events, settings, calendar, files, directory), problems


def _rule_specs(parsed: dict, source: str, problems: list[Problem], events: dict | None):
    """(index, raw, RuleSpec) for each rule of a rule file that is valid on its own; the rest become problems
    (with their event names checked too, so one run shows as much as it can)."""
    raw = parsed[source]
    rules = raw.get("rules") if isinstance(raw, LineDict) else None
    if not isinstance(rules, list) or any(key != "rules" for key in raw):
        _validate(parsed, source, s.RuleFile, problems)  # reports the file-level mistake in the usual words
        return
    for index, rule in enumerate(rules):
        try:
            yield index, rule, s.RuleSpec.model_validate(rule)
        except ValidationError as error:
            problems.extend(problems_from(error, raw, source, s.RuleFile, ("rules", index)))
            if events is not None and isinstance(rule, LineDict):
                _check_raw_event_names(rule, source, events, problems)


def _check_raw_event_names(rule: LineDict, source: str, events: dict, problems: list[Problem]) -> None:
    rule_id = rule.get("id") if isinstance(rule.get("id"), str) else "?"
    for key in ("start", "stop", "cancel", "restart"):
        value = rule.get(key)
        names = (
            [(rule.line_of(key), value)]
            if isinstance(value, str)
            else [(value.line_of(i), v) for i, v in enumerate(value)]
            if isinstance(value, LineList)
            else []
        )
        for (line, column), name in names:
            if isinstance(name, str) and name not in events:
                problems.append(Problem(source, line, column, f"规则 {rule_id}: 未知的事件类型 {name!r}", m.new_event_hint(name, events)))


def _validate(parsed: dict, source: str | None, model: type[BaseModel], problems: list[Problem]):
    if source is None or source not in parsed:
        return None
    raw = parsed[source]
    if not isinstance(raw, LineDict):
        top = {"RuleFile": "rules:", "EventsFile": "events:", "Settings": "zone:、defaults: 等"}[model.__name__]
        problems.append(Problem(source, getattr(raw, "line", 1) or 1, 1, "文件内容应为键值对", f"文件应以 {top} 开头"))
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems.extend(problems_from(error, raw, source, model))
        return None


def _settings(spec: s.Settings | None, parsed: dict[str, Any], source: str | None, problems: list[Problem]) -> m.Settings | None:
    if spec is None:
        return None
    raw = parsed.get(source) if source is not None else None
    assert source is not None and isinstance(raw, LineDict), "a spec is validated only from a file that is a mapping (_validate)"
    try:
        ZoneInfo(spec.zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(source, *raw.line_of("zone"), f"未知的时区 {spec.zone!r}", "写 Asia/Shanghai"))
    for role in (*spec.defaults.notify, *spec.defaults.overdue.escalate):
        if role not in spec.roles:
            problems.append(Problem(source, *raw.line_of("defaults"), f"默认提醒角色 {role!r} 未在 roles 中声明", suggest(role, spec.roles)))
    return m.Settings(
        zone=spec.zone,
        day_reminder_time=spec.day_reminder_time,
        quiet_hours=spec.quiet_hours.model_dump(by_alias=True) if spec.quiet_hours else None,
        default_remind={unit: tuple(_reminder(o) for o in offsets) for unit, offsets in spec.defaults.remind.items()},
        default_overdue=_overdue(spec.defaults.overdue, None),
        default_notify=tuple(spec.defaults.notify),
        levels={k: v.model_dump() for k, v in spec.levels.items()},
        groups=tuple(spec.groups),
        roles=dict(spec.roles),
        case_kinds=dict(spec.case_kinds),
        data_labels=dict(spec.data_labels),
        overdue_digest=spec.overdue_digest.model_dump() if spec.overdue_digest else None,
    )


def _reminder(text: str) -> m.Reminder:
    text = text.strip()
    if text.endswith("%"):
        return m.Reminder(share=int(text[:-1]) / 100)
    return m.Reminder(offset=parse_duration(text))


def _overdue(spec: s.Overdue | None, fallback: m.Overdue | None) -> m.Overdue:
    if spec is None:
        return fallback or m.Overdue(None, ())
    every = fallback.every if fallback else None  # left out: the default
    if spec.every is not None:
        every = parse_duration(spec.every)
    elif "every" in spec.model_fields_set:  # `every: null` written out: no repeats
        every = None
    return m.Overdue(every, tuple(spec.escalate))


def _minutes(duration: Duration) -> int:
    return duration.amount * _MINUTES[duration.unit]


class _RuleChecker:
    """Checks one rule against the settings and events, and builds the immutable Rule."""

    def __init__(
        self, spec: s.RuleSpec, raw: LineDict, source: str, settings: m.Settings | None, events: dict[str, m.EventType] | None, problems: list[Problem]
    ):
        self.spec, self.raw, self.source = spec, raw, source
        self.settings, self.events, self.problems = settings, events, problems

    def problem(self, key_path: tuple, message: str, hint: str = "") -> None:
        line, column, _ = position_of(self.raw, key_path)
        self.problems.append(Problem(self.source, line, column, f"规则 {self.spec.id}: {message}", hint))

    def build(self) -> m.Rule:
        spec = self.spec
        self._check_events()
        self._check_roles_and_group()
        applies = self._conditions()
        limit = parse_duration(spec.limit) if spec.limit else None
        before = self._before(applies)
        every = self._every()
        self._check_per()
        remind = self._reminders(limit, before.by if before else every.interval if every else None)
        for index, step in enumerate(spec.extend):
            key = "by" if step.by else "to"
            amount = parse_duration(step.by or step.to)
            if limit and amount.unit.family != limit.unit.family:
                self.problem(
                    ("extend", index, key),
                    f"延长 {amount} 与期限 {limit} 的计算单位不一致",
                    "小时与日、工作日与日不能互相延长：请改用与期限相同的单位（如 72 hours 而不是 3 days）",
                )
        effective_from = date.fromisoformat(spec.effective.start) if spec.effective and spec.effective.start else None
        effective_until = date.fromisoformat(spec.effective.until) if spec.effective and spec.effective.until else None
        if effective_from and effective_until and effective_until < effective_from:
            self.problem(("effective",), f"effective 的 until {effective_until} 早于 from {effective_from}", "检查施行日期")
        defaults = self.settings
        return m.Rule(
            id=spec.id,
            name=spec.name,
            group=spec.group,
            reminder_type=spec.reminder_type,
            basis=tuple(m.Basis(b.cite, b.text, b.kind, b.label) for b in spec.basis),
            applies=applies,
            per=spec.per,
            start=tuple(spec.start or ()),
            stop=tuple(spec.stop),
            cancel=tuple(spec.cancel),
            limit=limit,
            lead=m.Lead(spec.lead.of, parse_duration(spec.lead.before)) if spec.lead else None,
            before=before,
            every=every,
            custody=spec.custody,
            holiday_roll=spec.holiday_roll,
            extend=tuple(m.ExtendStep(e.on, "by" if e.by else "to", parse_duration(e.by or e.to), e.times) for e in spec.extend),
            pause=tuple(m.PauseStep(p.start, p.until) for p in spec.pause),
            restart=tuple(spec.restart),
            defer=tuple(m.DeferStep(d.start, d.until) for d in spec.defer),
            remind=remind,
            # a party's own period is only watched: no repeats or escalation unless the rule asks for them
            overdue=_overdue(spec.overdue, None if spec.party_window else defaults.default_overdue if defaults else None),
            notify=tuple(spec.notify) if spec.notify is not None else (defaults.default_notify if defaults else ()),
            effective_from=effective_from,
            effective_until=effective_until,
            enabled=spec.enabled,
            party_window=spec.party_window,
            note=spec.note,
            examples=self._examples(),
            source=f"{self.source}:{self.raw.line}",
        )

    def _check_events(self) -> None:
        if self.events is None:
            return
        spec = self.spec
        uses: list[tuple[tuple, str]] = []
        for key in ("start", "stop", "cancel", "restart"):
            names = getattr(spec, key) or []
            uses += [((key, i) if isinstance(self.raw.get(key), list) else (key,), name) for i, name in enumerate(names)]
        uses += [(("extend", i, "on"), e.on) for i, e in enumerate(spec.extend)]
        for key in ("pause", "defer"):
            for i, step in enumerate(getattr(spec, key)):
                uses += [((key, i, "from"), step.start), ((key, i, "until"), step.until)]
        for where, name in uses:
            if name not in self.events:
                self.problem(where, f"未知的事件类型 {name!r}", m.new_event_hint(name, self.events))

    def _before(self, applies: tuple[m.Condition, ...]) -> m.Before | None:
        """The backward limit, its moment a required datetime field of every event that starts (or restarts) it, or
        an optional one the rule applies only with (`applies: {event.data.solve_by: {exists: true}}`)."""
        spec = self.spec
        if spec.before is None:
            return None
        field = spec.before.moment.split(".", 1)[1]
        guarded = any(c.path == ("event", "data", field) and c.op == "exists" and c.value is True for c in applies)
        for event_type in (*(spec.start or ()), *spec.restart):
            known = self.events.get(event_type) if self.events is not None else None
            wanted = known.data.get(field) if known else None
            if known is not None and (wanted is None or wanted.type != "datetime" or not (wanted.required or guarded)):
                self.problem(
                    ("before", "moment"),
                    f"倒推期限的时刻 data.{field} 不是事件 {event_type}（{known.label}）的必填时间字段",
                    f"在 events.yaml 的 {event_type} 下声明 data: {{{field}: {{type: datetime, required: true}}}}",
                )
        return m.Before(field, parse_duration(spec.before.by))

    def _every(self) -> m.Every | None:
        """A recurring duty's periods; an interval taken from the start event must be a required duration field of it."""
        every = self.spec.every
        if every is None:
            return None
        if every.period is not None:
            assert every.due is not None, "a period names its due (schema.Every._one_kind)"
            day, minute = s.parse_period_due(every.period, every.due)
            return m.Every(period=every.period, due_day=day, due_minute=minute)
        assert every.interval is not None, "no period, so an interval (schema.Every._one_kind)"
        if not every.interval.startswith("data."):
            return m.Every(interval=parse_duration(every.interval))
        field = every.interval.split(".", 1)[1]
        for event_type in self.spec.start or ():
            known = self.events.get(event_type) if self.events is not None else None
            wanted = known.data.get(field) if known else None
            if known is not None and (wanted is None or wanted.type != "duration" or not wanted.required):
                self.problem(
                    ("every", "interval"),
                    f"周期间隔 data.{field} 不是事件 {event_type}（{known.label}）的必填期间字段",
                    f"在 events.yaml 的 {event_type} 下声明 data: {{{field}: {{type: duration, required: true}}}}",
                )
        return m.Every(interval_field=field)

    def _check_per(self) -> None:
        """`per: assignee` keys each clock by the start event's data.assignee: every start event must carry it."""
        if self.spec.per != "assignee" or self.events is None:
            return
        for event_type in self.spec.start or ():
            known = self.events.get(event_type)
            wanted = known.data.get("assignee") if known else None
            if known is not None and (wanted is None or not wanted.required):
                self.problem(
                    ("per",),
                    f"按交办对象计时（per: assignee）的起算事件 {event_type}（{known.label}）须有必填字段 data.assignee",
                    f"在 events.yaml 的 {event_type} 下声明 data: {{assignee: {{type: str, required: true}}}}",
                )

    def _check_roles_and_group(self) -> None:
        if self.settings is None:
            return
        spec = self.spec
        if spec.group is not None and spec.group not in self.settings.groups:
            self.problem(("group",), f"未知的分组 {spec.group!r}", "应为 " + "、".join(self.settings.groups))
        roles: list[tuple[tuple[str | int, ...], str]] = [(("notify", i), r) for i, r in enumerate(spec.notify or ())]
        roles += [(("overdue", "escalate", i), r) for i, r in enumerate(spec.overdue.escalate if spec.overdue else ())]
        for where, role in roles:
            if role not in self.settings.roles:
                self.problem(where, f"未知的角色 {role!r}", suggest(role, self.settings.roles))

    def _conditions(self) -> tuple[m.Condition, ...]:
        conditions = []
        for path, wanted in self.spec.applies.items():
            parts = tuple(str(path).split("."))
            if parts[0] not in m.FACT_ROOTS or len(parts) < 2:
                self.problem(("applies", path), f"适用条件 {path!r} 应以 case.、person. 或 event. 开头", "如 case.kind: criminal")
                continue
            if not isinstance(wanted, dict):
                conditions.append(m.Condition(parts, "eq", wanted))
                continue
            if len(wanted) != 1 or next(iter(wanted)) not in m.MATCH_WORDS:
                self.problem(
                    ("applies", path), f"适用条件 {path} 应写一个比较：{'、'.join(sorted(m.MATCH_WORDS))}", "如 {in: [criminal, administrative]} 或 {ge: 18}"
                )
                continue
            op, value = next(iter(wanted.items()))
            if op in ("in", "not_in") and not isinstance(value, list):
                self.problem(("applies", path), f"{op} 后应为列表", f"如 {{{op}: [a, b]}}")
                continue
            if op == "exists" and not isinstance(value, bool):
                self.problem(("applies", path), "exists 后应为 true 或 false")
                continue
            conditions.append(m.Condition(parts, op, tuple(value) if isinstance(value, list) else value))
        return tuple(conditions)

    def _reminders(self, limit: Duration | None, before: Duration | None = None) -> tuple[m.Reminder, ...]:
        """The rule's reminders, or the defaults for its unit (a backward limit: the unit of its `by`; how long it
        runs depends on the moment, so no reminder is refused for lying before the start)."""
        if self.spec.remind is not None:
            reminders = tuple(_reminder(text) for text in self.spec.remind)
            for index, reminder in enumerate(reminders):
                if limit and reminder.offset and _minutes(reminder.offset) > _minutes(limit):
                    self.problem(("remind", index), f"提醒时间 期满前{reminder.offset} 早于起算（期限只有 {limit}）", "提醒应在期限之内，或删去这一项")
            return reminders
        if self.settings is None:
            return ()
        unit = limit.unit.value if limit else before.unit.value if before else Unit.DAYS.value
        defaults = self.settings.default_remind.get(unit, ())
        return tuple(r for r in defaults if not limit or not r.offset or _minutes(r.offset) <= _minutes(limit))

    def _examples(self) -> tuple[m.Example, ...]:
        built = []
        raw_examples = self.raw.get("examples") or []
        for index, example in enumerate(self.spec.examples):
            raw = raw_examples[index]
            for number, event in enumerate(example.events):
                where = ("examples", index, "events", number)
                known = self.events.get(event.type) if self.events is not None else None
                if self.events is not None and known is None:
                    self.problem(where, f"例子「{example.name}」中的事件类型 {event.type!r} 未在 events.yaml 中声明", suggest(event.type, self.events))
                elif known is not None:
                    for message in known.problems(event.person, event.data):
                        self.problem(where, f"例子「{example.name}」：{message}")
            built.append(
                m.Example(
                    name=example.name,
                    case=dict(example.case),
                    persons={k: dict(v) for k, v in example.persons.items()},
                    events=tuple(e.model_dump() for e in example.events),
                    now=example.now,
                    person=example.person,
                    clock=example.clock,
                    due=example.due,
                    state=example.state,
                    provisional=example.provisional,
                    source=f"{self.source}:{raw.line}",
                )
            )
        return tuple(built)


def _check_across(rules: list[tuple[m.Rule, LineDict]], problems: list[Problem]) -> None:
    by_id: dict[str, list[tuple[m.Rule, LineDict]]] = {}
    for rule, raw in rules:
        by_id.setdefault(rule.id, []).append((rule, raw))
    for rule_id, versions in by_id.items():
        for i, (first, _first_raw) in enumerate(versions):
            for second, _second_raw in versions[i + 1 :]:
                if _overlap(first, second):
                    problems.append(
                        Problem(
                            *_where(second),
                            1,
                            f"规则 {rule_id}: 与 {first.source} 的同一编号规则适用期间重叠",
                            "同一编号的多个版本应写不重叠的 effective: {from, until}；若是不同的规则请换一个编号",
                        )
                    )
        first, _first_raw = versions[0]
        other = next((rule for rule, _raw in versions[1:] if (rule.lead is None) != (first.lead is None)), None)
        if other is not None:  # replay treats an id as a lead rule or not, whichever version a clock is bound to
            problems.append(
                Problem(
                    *_where(other),
                    1,
                    f"规则 {rule_id}: {'是' if other.lead else '不是'}提前量规则（lead），而 {first.source} 的同一编号规则{'不是' if other.lead else '是'}",
                    "同一编号的各个版本应都写 lead 或都不写；若是不同的规则请换一个编号",
                )
            )
    for rule, raw in rules:
        if rule.lead is None:
            continue
        targets = by_id.get(rule.lead.of)
        line, column = raw.line_of("lead")
        if not targets:
            problems.append(
                Problem(
                    rule.source.rsplit(":", 1)[0], line, column, f"规则 {rule.id}: 提前量规则指向不存在的规则 {rule.lead.of!r}", suggest(rule.lead.of, by_id)
                )
            )
        elif any(t.lead is not None for t, _ in targets):
            problems.append(
                Problem(
                    rule.source.rsplit(":", 1)[0],
                    line,
                    column,
                    f"规则 {rule.id}: 提前量规则不能指向另一条提前量规则 {rule.lead.of}",
                    "请指向有起算事件和期限的规则",
                )
            )
        elif any(t.per != rule.per for t, _ in targets):
            problems.append(
                Problem(rule.source.rsplit(":", 1)[0], line, column, f"规则 {rule.id}: per 应与被引用的规则 {rule.lead.of} 相同（{targets[0][0].per}）", "")
            )


def _overlap(a: m.Rule, b: m.Rule) -> bool:
    low = max(a.effective_from or date.min, b.effective_from or date.min)
    high = min(a.effective_until or date.max, b.effective_until or date.max)
    return low <= high


def _where(rule: m.Rule) -> tuple[str, int]:
    source, line = rule.source.rsplit(":", 1)
    return source, int(line)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except (ValueError, RuntimeError):  # elsewhere, or a symbolic link loop (refused as a missing folder)
        return str(path)
