"""What the due-time computation promises beyond the numbers: explanations, anomalies, errors, JSON shape.
The numbers themselves are checked by the hand-derived examples in tests/data/worked_examples.yaml."""

from datetime import datetime, timedelta, timezone

import pytest

from qixian.deadlines import DeadlineError, Extension, Pause, Restart, compute_deadline
from qixian.localtime import SHANGHAI, parse_local
from qixian.periods import parse_duration


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
    result = due("2026-02-11 10:00", "3日", calendar)   # 2-14 is a working Saturday
    assert result.due_display == "2026-02-14 24:00"
    assert any("调休上班（春节）" in step for step in result.explanation)


def test_working_days_list_what_was_skipped(calendar):
    result = due("2026-09-25 10:00", "5个工作日", calendar)
    assert result.due_display == "2026-10-09 24:00"
    assert "国庆节 10-01至10-07 放假不计" in result.explanation[1]


def test_late_extension_is_an_anomaly_and_not_applied(calendar):
    result = due("2026-03-02 10:00", "3日", calendar, custody=True,
                 extensions=[Extension(parse_duration("4日"), at=parse_local("2026-03-06 09:00"))])
    assert result.due_display == "2026-03-05 24:00"
    assert [a.kind for a in result.anomalies] == ["late_extension"]
    assert any(step.startswith("异常") and "不予计入" in step for step in result.explanation)


def test_pause_after_due_is_an_anomaly(calendar):
    result = due("2026-03-02 10:00", "24小时", calendar,
                 pauses=[Pause(parse_local("2026-03-04 09:00"), parse_local("2026-03-04 12:00"))])
    assert result.due_display == "2026-03-03 10:00"
    assert [a.kind for a in result.anomalies] == ["pause_after_due"]


def test_open_pause_has_no_due_and_says_what_is_left(calendar):
    result = due("2026-03-02 10:00", "24小时", calendar, pauses=[Pause(parse_local("2026-03-02 16:30"))])
    assert result.paused and result.due is None and result.due_display is None
    assert any("尚余 17小时30分钟" in step for step in result.explanation)


def test_overlapping_pauses_count_once(calendar):
    result = due("2026-03-02 10:00", "8小时", calendar, pauses=[
        Pause(parse_local("2026-03-02 11:00"), parse_local("2026-03-02 13:00")),
        Pause(parse_local("2026-03-02 12:00"), parse_local("2026-03-02 14:00"))])
    assert result.due_display == "2026-03-02 21:00"      # 8 h + 3 h paused


def test_restart_drops_earlier_extensions_and_pauses(calendar):
    result = due("2026-03-02 10:00", "2个月", calendar, custody=True,
                 extensions=[Extension(parse_duration("1个月"), at=parse_local("2026-04-20 10:00"))],
                 pauses=[Pause(parse_local("2026-03-10 10:00"), parse_local("2026-03-12 10:00"))],
                 restarts=[Restart(parse_local("2026-04-25 15:00"), "另有重要罪行")])
    assert result.due_display == "2026-06-25 24:00"
    assert result.start == parse_local("2026-04-25 15:00")
    assert any("另有重要罪行" in step for step in result.explanation)


def test_extension_in_another_unit_family_is_refused(calendar):
    with pytest.raises(DeadlineError, match="计算单位不一致"):
        due("2026-03-02 10:00", "3日", calendar, extensions=[Extension(parse_duration("24小时"))])


def test_pause_that_ends_before_it_starts_is_refused(calendar):
    with pytest.raises(DeadlineError, match="早于"):
        due("2026-03-02 10:00", "3日", calendar,
            pauses=[Pause(parse_local("2026-03-03 10:00"), parse_local("2026-03-02 10:00"))])


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
    result = compute_deadline(datetime(2025, 9, 29, 23, 30, tzinfo=timezone.utc), parse_duration("1日"), calendar, custody=True)
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
    result = due("2026-03-10 09:00", "2个月", calendar, custody=True, pauses=[ended],
                 restarts=[Restart(parse_local("2026-04-01 10:00"), "另有重要罪行")])
    assert result.due_display == "2026-07-20 24:00"
