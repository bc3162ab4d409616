"""The shape of the files legal-affairs staff write: rule files, events.yaml and settings.yaml.

These models check one file at a time (unknown keys, types, durations, dates) and are the source of the
JSON Schema that editors use. Checks that need several files (event types exist, versions do not overlap,
lead rules point somewhere) live in `rulebook.load`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from qixian.legaltime.localtime import parse_local
from qixian.legaltime.periods import ACCEPTED_FORMS, DURATION_FORMS, DURATION_PATTERN, parse_duration

OFFSET_PATTERN = rf"^\s*(?:{DURATION_FORMS}|[0-9]{{1,3}}\s*%)\s*$"  # a duration, or a share of the period
RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _duration(text: str) -> str:
    parse_duration(text)  # raises DurationError (a ValueError) with the accepted forms
    return text


def _offset(text: str) -> str:
    if text.strip().endswith("%"):
        share = int(text.strip()[:-1].strip() or -1)
        if not 0 < share < 100:
            raise ValueError(f"提醒比例 {text!r} 应在 1% 到 99% 之间（表示期限已过去的比例）")
        return text
    return _duration(text)


def _rule_id(text: str) -> str:
    if not RULE_ID.match(text):
        raise ValueError(f"规则编号 {text!r} 应为小写英文、数字、下划线，以点分段，如 crim.detention.arrest_request")
    return text


def _event_name(text: str) -> str:
    if not EVENT_NAME.match(text):
        raise ValueError(f"事件类型 {text!r} 应为小写英文、数字和下划线，如 detained")
    return text


def _date(text: str) -> str:
    from datetime import date

    try:
        if not _DATE.match(text):
            raise ValueError
        date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"日期 {text!r} 无效，应写成 2026-01-01 这样的日期") from None
    return text


def _moment(text: str) -> str:
    parse_local(text)  # raises TimeFormatError (a ValueError)
    return text


def _clock_time(text: str) -> str:
    if not _CLOCK.match(text):
        if re.fullmatch(r"\d\d:\d\d", text):  # quoted already: the time itself does not exist
            raise ValueError(f'时刻 {text!r} 不存在：应在 00:00 至 23:59 之间，如 "08:30"')
        raise ValueError(f'时刻 {text!r} 应写成两位数的 时:分，如 "08:30"（加引号）')
    return text


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _text(pattern: str | None, description: str) -> WithJsonSchema:
    """The JSON schema of a text field: its description, and the pattern editors check it against."""
    schema: dict = {"type": "string", "description": description}
    if pattern:
        schema["pattern"] = pattern
    return WithJsonSchema(schema)


Duration = Annotated[str, AfterValidator(_duration), _text(DURATION_PATTERN, "期限：" + "、".join(ACCEPTED_FORMS))]
Offset = Annotated[str, AfterValidator(_offset), _text(OFFSET_PATTERN, "期满前多久提醒：如 1 day、6小时、0 days（期满当日早上）或 50%（期限过半）")]
RuleId = Annotated[str, AfterValidator(_rule_id), _text(RULE_ID.pattern, "规则编号，如 crim.detention.arrest_request")]
EventName = Annotated[str, AfterValidator(_event_name), _text(EVENT_NAME.pattern, "事件类型（见 events.yaml）")]
DateText = Annotated[str, AfterValidator(_date), _text(_DATE.pattern, "日期，如 2026-01-01")]
Moment = Annotated[str, AfterValidator(_moment), _text(None, '时间，如 "2025-09-29 15:40"（北京时间）')]
ClockTime = Annotated[str, AfterValidator(_clock_time), _text(_CLOCK.pattern, '时刻，如 "08:30"')]
Events = Annotated[
    list[EventName],
    BeforeValidator(_listify),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}], "description": "一个事件类型，或事件类型列表"}),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


# -- rule files ----------------------------------------------------------------------------------


class Basis(Strict):
    cite: str = Field(description="法律依据出处，如《中华人民共和国刑事诉讼法》第九十一条第一款；工作规范写文件名称")
    text: str = Field(description="条文原文（逐字）")
    kind: Literal["statute", "working_standard"] = Field(
        "statute", description="statute（法律法规，默认）或 working_standard（工作规范：本局或专项工作文件规定，不作为法律依据显示）"
    )
    label: Literal["工作规范", "本单位规定", "专项工作要求"] | None = Field(
        None, description="工作规范在屏幕上的称呼（默认 工作规范）；只用于 kind: working_standard"
    )

    @model_validator(mode="after")
    def _label_for_standards(self):
        if self.label is not None and self.kind != "working_standard":
            raise ValueError("label 只用于工作规范（kind: working_standard）；法律依据不写 label")
        return self


class ExtendStep(Strict):
    on: EventName
    by: Duration | None = Field(None, description="延长多少（在当前期限上累加；事件 data 可给出实际批准的较少数额）")
    to: Duration | None = Field(None, description="延长至（自起算重新计算的总期限）")
    times: int = Field(1, ge=1, description="最多可延长几次（默认 1 次）")

    @model_validator(mode="after")
    def _one_amount(self):
        if (self.by is None) == (self.to is None):
            raise ValueError("延长应写 by（延长多少）或 to（延长至），二者只能写一个")
        return self


class PauseStep(Strict):
    start: EventName = Field(alias="from", description="暂停开始的事件（如 appraisal_started）")
    until: EventName = Field(description="恢复计时的事件（如 appraisal_done）")


class DeferStep(Strict):
    start: EventName = Field(alias="from", description="期限待起算的事件（如 identity_unknown_recorded：身份不明）")
    until: EventName = Field(description="自该事件之日起（重新）计算期限（如 identity_established：查清身份）")


class Overdue(Strict):
    every: Duration | None = Field(None, description="超期后每隔多久再次提醒")
    escalate: list[str] = Field(default_factory=list, description="超期后同时提醒的角色（见 settings.yaml 的 roles）")


class Lead(Strict):
    of: RuleId = Field(description="以哪条规则的期满时间为准")
    before: Duration = Field(description="在该期满时间之前多久必须完成")


MOMENT_FIELD = re.compile(r"^data\.[a-z][a-z0-9_]*$")


def _moment_field(text: str) -> str:
    if not MOMENT_FIELD.match(text):
        raise ValueError(f"moment {text!r} 应写成起算事件的时间字段，如 data.hearing_at")
    return text


MomentField = Annotated[
    str, AfterValidator(_moment_field), _text(MOMENT_FIELD.pattern, "起算事件中写明的时刻，如 data.hearing_at（须在 events.yaml 中声明为必填的 datetime）")
]


class Before(Strict):
    moment: MomentField = Field(description="以哪个时刻为准：起算事件 data 中的时间字段，如 data.hearing_at")
    by: Duration = Field(description="须在该时刻之前多久完成，如 7 days（在举行听证的七日前）")


WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "周一": 0,
    "周二": 1,
    "周三": 2,
    "周四": 3,
    "周五": 4,
    "周六": 5,
    "周日": 6,
    "星期一": 0,
    "星期二": 1,
    "星期三": 2,
    "星期四": 3,
    "星期五": 4,
    "星期六": 5,
    "星期日": 6,
}
_DUE_FORMS = {
    "day": '"18:00"（每日几时前）',
    "week": '"friday 18:00" 或 "周五 18:00"（每周星期几几时前）',
    "month": '"25 18:00" 或 "last 24:00"（每月几日几时前，last 为最后一日；日期不超过 28）',
}


def parse_period_due(period: str, text: str) -> tuple[int | None, int]:
    """(day in the period, minutes after midnight) of a recurring duty's due moment: `18:00` for a day,
    `friday 18:00` / `周五 18:00` for a week, `25 18:00` / `last 24:00` for a month (24:00 = the day's end)."""
    parts = text.strip().split()
    wanted = 1 if period == "day" else 2
    problem = ValueError(f"周期内的期满时刻 {text!r} 应写成 {_DUE_FORMS[period]}")
    if len(parts) != wanted or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d|24:00", parts[-1]):
        raise problem
    hours, minutes = parts[-1].split(":")
    minute = int(hours) * 60 + int(minutes) or 1440  # 00:00 would fall before the day: the day's end is 24:00
    if period == "day":
        return None, minute
    if period == "week":
        if parts[0].lower() not in WEEKDAYS:
            raise problem
        return WEEKDAYS[parts[0].lower()], minute
    day = parts[0].rstrip("日")
    if day in ("last", "末"):
        return -1, minute
    if not day.isdigit() or not 1 <= int(day) <= 28:
        raise problem
    return int(day), minute


class Every(Strict):
    period: Literal["day", "week", "month"] | None = Field(None, description="按日历周期：day（每日）、week（每周，周一至周日）、month（每月）")
    due: str | None = Field(None, description='周期内的期满时刻：day 写 "18:00"，week 写 "friday 18:00"，month 写 "25 18:00" 或 "last 24:00"')
    interval: str | None = Field(None, description="按固定间隔（自起算事件起）：如 15 days、1 month，或 data.report_every（起算事件写明的间隔）")

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.period is None) == (self.interval is None):
            raise ValueError("every 应写 period（日历周期）或 interval（自起算起的固定间隔），二者只能写一个")
        if self.period is not None:
            if self.due is None:
                raise ValueError(f"every 缺少 due（周期内的期满时刻），如 {_DUE_FORMS[self.period]}")
            parse_period_due(self.period, self.due)
        elif self.due is not None:
            raise ValueError("按间隔（interval）的周期在每个间隔的末日期满，不写 due")
        else:
            assert self.interval is not None, "no period, so an interval (the first check)"
            if not MOMENT_FIELD.match(self.interval):
                _duration(self.interval)
        return self


class Effective(Strict):
    start: DateText | None = Field(None, alias="from", description="施行日期（含当日）")
    until: DateText | None = Field(None, description="停止适用的最后一日（含当日）")


class ExampleEvent(Strict):
    type: EventName
    at: Moment
    person: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Example(Strict):
    name: str
    case: dict[str, Any] = Field(default_factory=dict, description="案件情况，如 {kind: criminal}")
    persons: dict[str, dict[str, Any]] = Field(default_factory=dict, description="人员情况，如 {P1: {foreign: true}}")
    events: list[ExampleEvent]
    now: Moment | None = Field(None, description="判断状态的时间（默认最后一个事件的时间）")
    person: str | None = Field(None, description="检查哪个人的计时（按人计时且有多人时）")
    clock: int = Field(1, ge=1, description="检查该人（或本案）的第几个计时（结束后再次起算的为第 2 个）")
    due: Moment | None = Field(description='应得的期满时间，如 "2025-10-02 24:00"；计时暂停中或未启动写 null')
    state: Literal["running", "paused", "met", "met_late", "overdue", "cancelled", "provisional"] | None = None
    provisional: bool | None = None


class RuleSpec(Strict):
    id: RuleId
    name: str = Field(description="规则名称（中文）")
    group: str | None = Field(None, description="风险点分组（见 settings.yaml 的 groups）")
    reminder_type: str | None = Field(None, description="提醒类型，统计报表按此计数，如 提捕提醒")
    basis: list[Basis] = Field(min_length=1, description="法律依据，至少一条")
    applies: dict[str, Any] = Field(default_factory=dict, description="适用条件，如 case.kind: criminal")
    per: Literal["person", "case", "unit", "assignee"] = Field(
        "case",
        description="按人计时（每名嫌疑人一个）、按案计时、按单位计时（每个单位一个），"
        "或按交办对象计时（双交办：每个承办对象一个，见起算事件的 data.assignee）",
    )
    start: Events | None = Field(None, description="开始计时的事件")
    stop: Events = Field(description="完成（期限义务已履行）的事件")
    cancel: Events = Field(default_factory=list, description="不再适用的事件（释放、撤案……）")
    limit: Duration | None = None
    lead: Lead | None = Field(None, description="提前量规则：在另一规则期满前多久必须完成（不写 start 和 limit）")
    before: Before | None = Field(None, description="倒推期限：须在起算事件写明的将来时刻之前多久完成（写 start，不写 limit）")
    every: Every | None = Field(None, description="周期性工作：自起算事件起每个周期一个计时，直到 cancel 中的事件（写 start，不写 limit：周期就是期限）")
    custody: bool = Field(False, description="在押或被限制人身自由：期满日遇节假日不顺延")
    holiday_roll: bool = Field(True, description="期满日遇节假日是否顺延；不在押但依规定期满即止的（如冻结）写 false")
    extend: list[ExtendStep] = Field(default_factory=list)
    pause: list[PauseStep] = Field(default_factory=list, description="不计入期限的期间")
    restart: Events = Field(default_factory=list, description="重新计算期限的事件")
    defer: list[DeferStep] = Field(
        default_factory=list, description="期限自某事件之日起计算：from 之后计时待起算，until 之日起重新计算（此前经过的期间、延长、暂停都不计入）"
    )
    remind: list[Offset] | None = Field(None, description="期满前何时提醒；不写则用 settings.yaml 的默认值")
    overdue: Overdue | None = None
    notify: list[str] | None = Field(None, description="提醒谁（角色），默认 settings.yaml 的 defaults.notify")
    effective: Effective | None = None
    enabled: bool = True
    party_window: bool = Field(False, description="当事人的期间（公安只需关注，不算公安超期）")
    note: str | None = Field(None, description="给法制部门的说明，如启用前需确认的事项")
    examples: list[Example] = Field(default_factory=list)

    @model_validator(mode="after")
    def _limit_or_lead(self):
        if self.every is not None:
            if self.limit is not None or self.lead is not None or self.before is not None:
                raise ValueError("周期性工作（every）的期限就是每个周期，不要再写 limit、lead 或 before")
            if self.extend or self.pause or self.defer or self.restart:
                raise ValueError("周期性工作（every）不能写 extend、pause、defer 或 restart")
            if self.start is None:
                raise ValueError("缺少 start（自哪个事件起开始按周期计时，如 duties_opened、case_listed）")
            return self
        if self.before is not None:
            if self.limit is not None or self.lead is not None:
                raise ValueError("倒推期限（before）的期满时间由 before 推算，不要再写 limit 或 lead")
            if self.extend or self.pause or self.defer:
                raise ValueError("倒推期限（before）不能写 extend、pause 或 defer：时刻改变时请记录 restart 中的事件（写明新的时刻）")
            if self.start is None:
                raise ValueError("缺少 start（写明将来时刻的事件，如 hearing_scheduled）")
            return self
        if self.lead is None and self.limit is None:
            raise ValueError("缺少 limit（期限），或写 lead（在另一规则期满前多久），或写 before（在某一将来时刻之前多久）")
        if self.lead is not None and (self.limit is not None or self.start is not None):
            raise ValueError("提前量规则（lead）的起算和期限来自被引用的规则，不要再写 start 或 limit")
        if self.lead is None and self.start is None:
            raise ValueError("缺少 start（开始计时的事件）")
        return self


class RuleFile(Strict):
    rules: list[RuleSpec] = Field(description="本文件中的规则")


# -- events.yaml ---------------------------------------------------------------------------------


class FieldSpec(Strict):
    type: Literal["int", "float", "str", "bool", "date", "datetime", "duration"]
    min: int | float | None = None
    max: int | float | None = None
    values: list[str] | None = None
    required: bool = False


class EventSpec(Strict):
    label: str = Field(description="中文名称")
    person: Literal["required", "optional", "none"] = "none"
    data: dict[str, FieldSpec] = Field(default_factory=dict)


class EventsFile(Strict):
    events: dict[EventName, EventSpec]


# -- settings.yaml -------------------------------------------------------------------------------

UnitName = Literal["minutes", "hours", "days", "workdays", "months"]


def _day_units() -> list[UnitName]:
    """The units whose reminders keep quiet hours unless settings say otherwise: those counted in days."""
    return ["days", "workdays", "months"]


class QuietHours(Strict):
    start: ClockTime = Field(alias="from")
    until: ClockTime = Field(alias="to")
    applies_to: list[UnitName] = Field(default_factory=_day_units)


class OverdueDigest(Strict):
    after: int = Field(ge=1, description="超期后重复提醒多少次，之后转入每日超期汇总")
    at: ClockTime = Field(default="08:30", description="每日超期汇总的发送时刻")


class Defaults(Strict):
    remind: dict[UnitName, list[Offset]]
    overdue: Overdue
    notify: list[str]


class Level(Strict):
    label: str
    colour: str


class Settings(Strict):
    zone: str = "Asia/Shanghai"
    day_reminder_time: ClockTime = "08:30"
    quiet_hours: QuietHours | None = None
    overdue_digest: OverdueDigest | None = None
    defaults: Defaults
    levels: dict[Literal["notice", "warning", "overdue"], Level]
    groups: list[str] = Field(min_length=1, description="风险点分组")
    roles: dict[str, str] = Field(description="可提醒的角色及其中文名称")
    case_kinds: dict[str, str] = Field(default_factory=dict, description="案件类别（case.kind 的取值）及其中文名称，如 criminal: 刑事案件")
    data_labels: dict[str, str] = Field(default_factory=dict, description="事件附带字段（data）的中文名称，如 approved_by: 批准人")
