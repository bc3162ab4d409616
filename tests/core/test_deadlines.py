"""What the due-time computation promises beyond the numbers: explanations, anomalies, errors, JSON shape.
The numbers themselves are checked by the hand-derived examples in tests/data/worked_examples.yaml."""

from datetime import UTC, datetime, timedelta

import pytest

from qixian.legaltime.deadlines import DeadlineError, Extension, Pause, Restart, compute_deadline, count_before
from qixian.legaltime.localtime import SHANGHAI, parse_local
from qixian.legaltime.periods import parse_duration


def due(start, limit, calendar, **kw):
    return compute_deadline(parse_local(start), parse_duration(limit), calendar, **kw)


def test_explanation_names_the_holiday_and_the_roll(calendar):
    result = due("2025-09-29 15:40", "3日", calendar)
    text = "\n".join(result.explanation)
    assert result.due_display == "2025-10-09 24:00"
    assert "2025-09-29 不计入" in text
    assert "2025-10-02（星期四）为休息日（国庆节、中秋节）" in text
    assert "顺延至 2025-10-09（星期四）" in text
    assert "刑诉法第一百零五条" in text


def test_explanation_says_why_custody_does_not_roll(calendar):
    result = due("2025-09-29 15:40", "3日", calendar, custody=True)
    assert result.due_display == "2025-10-02 24:00"
    assert any("不得因节假日而延长" in step and "国庆节" in step for step in result.explanation)


def test_due_is_the_exact_instant_of_24_00(calendar):
    result = due("2025-09-29 15:40", "3日", calendar, custody=True)
    assert result.due == datetime(2025, 10, 3, 0, 0, tzinfo=SHANGHAI)
    assert result.as_dict()["due"] == "2025-10-03T00:00:00+08:00"


def test_make_up_working_day_is_named(calendar):
    result = due("2026-02-11 10:00", "3日", calendar)  # 2-14 is a working Saturday
    assert result.due_display == "2026-02-14 24:00"
    assert any("调休上班（春节）" in step for step in result.explanation)


def test_working_days_list_what_was_skipped(calendar):
    result = due("2026-09-25 10:00", "5个工作日", calendar)
    assert result.due_display == "2026-10-09 24:00"
    assert "国庆节 10-01至10-07 放假不计" in result.explanation[1]


def test_late_extension_is_an_anomaly_and_not_applied(calendar):
    result = due("2026-03-02 10:00", "3日", calendar, custody=True, extensions=[Extension(parse_duration("4日"), at=parse_local("2026-03-06 09:00"))])
    assert result.due_display == "2026-03-05 24:00"
    assert [a.kind for a in result.anomalies] == ["late_extension"]
    assert any(step.startswith("异常") and "不予计入" in step for step in result.explanation)


def test_pause_after_due_is_an_anomaly(calendar):
    result = due("2026-03-02 10:00", "24小时", calendar, pauses=[Pause(parse_local("2026-03-04 09:00"), parse_local("2026-03-04 12:00"))])
    assert result.due_display == "2026-03-03 10:00"
    assert [a.kind for a in result.anomalies] == ["pause_after_due"]


def test_open_pause_has_no_due_and_says_what_is_left(calendar):
    result = due("2026-03-02 10:00", "24小时", calendar, pauses=[Pause(parse_local("2026-03-02 16:30"))])
    assert result.paused and result.due is None and result.due_display is None
    assert any("尚余 17小时30分钟" in step for step in result.explanation)


def test_overlapping_pauses_count_once(calendar):
    result = due(
        "2026-03-02 10:00",
        "8小时",
        calendar,
        pauses=[
            Pause(parse_local("2026-03-02 11:00"), parse_local("2026-03-02 13:00")),
            Pause(parse_local("2026-03-02 12:00"), parse_local("2026-03-02 14:00")),
        ],
    )
    assert result.due_display == "2026-03-02 21:00"  # 8 h + 3 h paused


def test_restart_drops_earlier_extensions_and_pauses(calendar):
    result = due(
        "2026-03-02 10:00",
        "2个月",
        calendar,
        custody=True,
        extensions=[Extension(parse_duration("1个月"), at=parse_local("2026-04-20 10:00"))],
        pauses=[Pause(parse_local("2026-03-10 10:00"), parse_local("2026-03-12 10:00"))],
        restarts=[Restart(parse_local("2026-04-25 15:00"), "另有重要罪行")],
    )
    assert result.due_display == "2026-06-25 24:00"
    assert result.start == parse_local("2026-04-25 15:00")
    assert any("另有重要罪行" in step for step in result.explanation)


def test_extension_in_another_unit_family_is_refused(calendar):
    with pytest.raises(DeadlineError, match="计算单位不一致"):
        due("2026-03-02 10:00", "3日", calendar, extensions=[Extension(parse_duration("24小时"))])


def test_pause_that_ends_before_it_starts_is_refused(calendar):
    with pytest.raises(DeadlineError, match="早于"):
        due("2026-03-02 10:00", "3日", calendar, pauses=[Pause(parse_local("2026-03-03 10:00"), parse_local("2026-03-02 10:00"))])


def test_provisional_names_the_missing_year_and_file(calendar):
    result = due("2026-12-29 10:00", "3日", calendar)
    assert result.provisional and result.missing_years == (2027,)
    assert result.due_display == "2027-01-01 24:00"
    assert any("rules/calendar/2027.yaml" in step for step in result.explanation)


def test_custody_and_hours_need_no_calendar(calendar):
    assert not due("2026-12-29 10:00", "3日", calendar, custody=True).provisional
    assert not due("2027-06-01 10:00", "24小时", calendar).provisional


def test_a_start_given_in_utc_is_counted_in_beijing_time(calendar):
    # 2025-09-29 23:30 UTC is 2025-09-30 07:30 in Beijing: the start day is 09-30, not 09-29.
    result = compute_deadline(datetime(2025, 9, 29, 23, 30, tzinfo=UTC), parse_duration("1日"), calendar, custody=True)
    assert result.due_display == "2025-10-01 24:00"
    assert result.start.utcoffset() == timedelta(hours=8)


def test_json_shape(calendar):
    data = due("2025-09-29 15:40", "3 days", calendar, custody=True).as_dict()
    assert set(data) >= {"due", "due_display", "provisional", "explanation", "paused", "anomalies", "start", "limit", "custody"}
    assert data["due_display"] == "2025-10-02 24:00" and data["provisional"] is False
    assert all(isinstance(step, str) for step in data["explanation"])


def test_a_deferred_start_counts_from_the_day_it_ends(calendar):
    """刑诉法第一百六十条第二款: 侦查羁押期限自查清其身份之日起计算. Arrested 03-10, identity unknown from 03-20
    (ten days already passed), established 04-20: 04-20 + 2 months = 06-20 (端午, a Saturday), in custody: no roll."""
    wait = Pause(parse_local("2026-03-20 10:00"), parse_local("2026-04-20 16:00"), "身份不明", deferred=True)
    result = due("2026-03-10 09:00", "2个月", calendar, custody=True, pauses=[wait])
    text = "\n".join(result.explanation)
    assert result.due_display == "2026-06-20 24:00" and not result.anomalies
    assert "自 2026-03-20 10:00 起期限待起算（身份不明）" in text
    assert "期限自该日起计算" in text and "2026-04-20 不计入" in text


def test_an_open_deferral_leaves_no_due_and_a_restart_inside_it_keeps_waiting(calendar):
    wait = Pause(parse_local("2026-03-20 10:00"), None, "身份不明", deferred=True)
    waiting = due("2026-03-10 09:00", "2个月", calendar, custody=True, pauses=[wait])
    assert waiting.due is None and waiting.paused
    # another major crime found 04-01 restarts the count, but identity is still unknown until 05-20: 05-20 + 2 months
    ended = Pause(wait.start, parse_local("2026-05-20 10:00"), "身份不明", deferred=True)
    result = due("2026-03-10 09:00", "2个月", calendar, custody=True, pauses=[ended], restarts=[Restart(parse_local("2026-04-01 10:00"), "另有重要罪行")])
    assert result.due_display == "2026-07-20 24:00"


@pytest.mark.parametrize(
    "moment_at, before, expected, why",
    [
        # 03-20 not counted; 03-13 … 03-19 are the seven days; the last day to serve is 03-12 (Thursday)
        ("2026-03-20 09:00", "7日", "2026-03-12 24:00", "义务的最后一日为 2026-03-12（星期四）"),
        # 03-16 not counted; 03-09 … 03-15; 03-08 is a Sunday: moved back to Friday 03-06
        ("2026-03-16 09:00", "7日", "2026-03-06 24:00", "提前至其前最后一个工作日 2026-03-06（星期五）"),
        # 10-15 not counted; 10-08 … 10-14; 10-07 is in the National Day holiday (10-01 … 10-07): back to 09-30
        ("2026-10-15 09:00", "7日", "2026-09-30 24:00", "2026-10-07（星期三）为休息日（国庆节）"),
        # seven working days before 10-15: 10-14, 13, 12, 10 (a make-up Saturday), 09, 08, then 09-30; due the day before
        ("2026-10-15 09:00", "7个工作日", "2026-09-29 24:00", "其前 7个工作日 为 2026-09-30 至 2026-10-14"),
        ("2026-03-20 09:00", "24小时", "2026-03-19 09:00", "向前精确推算 24小时"),
    ],
)
def test_worked_examples_of_a_duty_due_before_a_moment(calendar, moment_at, before, expected, why):
    result = count_before(parse_local("2026-03-02 10:00"), parse_local(moment_at), parse_duration(before), calendar)
    assert result.due_display == expected and not result.provisional
    assert why in "\n".join(result.explanation)


def test_a_backward_count_in_custody_does_not_move_a_rest_day(calendar):
    result = count_before(parse_local("2026-03-02 10:00"), parse_local("2026-03-16 09:00"), parse_duration("7日"), calendar, custody=True)
    assert result.due_display == "2026-03-08 24:00"
    assert any("不得因节假日而延长" in step for step in result.explanation)


def test_a_backward_count_into_a_year_without_calendar_is_provisional(calendar):
    result = count_before(parse_local("2026-12-01 10:00"), parse_local("2027-01-20 09:00"), parse_duration("7日"), calendar)
    assert result.provisional and result.missing_years == (2027,)
    assert result.due_display == "2027-01-12 24:00"


def test_a_moment_too_close_gives_a_due_before_the_start_and_says_so(calendar):
    result = count_before(parse_local("2026-03-16 10:00"), parse_local("2026-03-20 09:00"), parse_duration("7日"), calendar)
    assert result.due < result.start
    assert any("已无法按期完成" in step for step in result.explanation)
