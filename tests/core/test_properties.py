"""Properties that must hold for every start, limit and history, checked with hypothesis."""

from datetime import datetime, time, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qixian.legaltime.deadlines import Extension, Pause, Restart, compute_deadline, count_before
from qixian.legaltime.localtime import SHANGHAI, end_of_day
from qixian.legaltime.periods import Duration, Unit

COVERED = (datetime(2004, 1, 1), datetime(2026, 11, 1))  # far enough from 2027 that a roll stays covered
ANY_YEAR = (datetime(2004, 1, 1), datetime(2030, 12, 31))

starts = st.datetimes(*COVERED).map(lambda d: d.replace(tzinfo=SHANGHAI, second=0, microsecond=0))
any_starts = st.datetimes(*ANY_YEAR).map(lambda d: d.replace(tzinfo=SHANGHAI, second=0, microsecond=0))
calendar_limits = st.one_of(
    st.builds(Duration, st.integers(0, 60), st.just(Unit.DAYS)),
    st.builds(Duration, st.integers(1, 12), st.just(Unit.MONTHS)),
)
all_limits = st.one_of(
    calendar_limits,
    st.builds(Duration, st.integers(0, 96), st.sampled_from([Unit.HOURS, Unit.MINUTES])),
    st.builds(Duration, st.integers(1, 20), st.just(Unit.WORKDAYS)),
)


def pause_after(start, offset_minutes, length_minutes):
    begin = start + timedelta(minutes=offset_minutes)
    return Pause(begin, begin + timedelta(minutes=length_minutes))


@given(starts, calendar_limits)
def test_custody_never_ends_later_than_the_same_period_out_of_custody(calendar, start, limit):
    held = compute_deadline(start, limit, calendar, custody=True)
    free = compute_deadline(start, limit, calendar, custody=False)
    assert held.due <= free.due
    assert free.due - held.due <= timedelta(days=12)  # the longest official break is 9-10 days


@given(any_starts, all_limits, st.booleans())
def test_a_due_is_never_before_its_start_and_never_raises(calendar, start, limit, custody):
    result = compute_deadline(start, limit, calendar, custody=custody)
    assert result.due >= start
    if limit.amount and not limit.unit.exact:  # the start day is not counted: the first day is the next one
        assert result.due >= end_of_day(start.date() + timedelta(days=1))
    assert result.explanation and result.due_display


@given(starts, all_limits, st.booleans(), st.integers(0, 60 * 24 * 40), st.integers(0, 60 * 24 * 10))
def test_a_pause_never_makes_a_due_earlier(calendar, start, limit, custody, offset, length):
    plain = compute_deadline(start, limit, calendar, custody=custody)
    paused = compute_deadline(start, limit, calendar, custody=custody, pauses=[pause_after(start, offset, length)])
    assert paused.due >= plain.due


@given(starts, calendar_limits, st.booleans(), st.integers(0, 30))
def test_a_timely_extension_never_makes_a_due_earlier(calendar, start, limit, custody, days):
    plain = compute_deadline(start, limit, calendar, custody=custody)
    extended = compute_deadline(start, limit, calendar, custody=custody, extensions=[Extension(Duration(days, Unit.DAYS), at=start)])
    assert extended.due >= plain.due
    assert not extended.anomalies


@given(starts, starts, all_limits, st.booleans())
def test_a_later_start_never_gives_an_earlier_due(calendar, a, b, limit, custody):
    first, second = sorted((a, b))
    assert compute_deadline(first, limit, calendar, custody=custody).due <= compute_deadline(second, limit, calendar, custody=custody).due


@given(starts, st.integers(0, 40), st.integers(0, 40), st.sampled_from(list(Unit)), st.booleans())
def test_a_longer_limit_never_gives_an_earlier_due(calendar, start, n, m, unit, custody):
    short, long_ = sorted((n, m))
    if unit is Unit.MONTHS:
        short, long_ = short % 13, long_ % 13
        short, long_ = sorted((short, long_))
    assert (
        compute_deadline(start, Duration(short, unit), calendar, custody=custody).due
        <= compute_deadline(start, Duration(long_, unit), calendar, custody=custody).due
    )


@given(starts, calendar_limits)
def test_day_and_month_limits_end_at_24_00_on_a_working_day_out_of_custody(calendar, start, limit):
    result = compute_deadline(start, limit, calendar)
    assume(not result.provisional)  # a 2027 date cannot be checked against the calendar
    local = result.due.astimezone(SHANGHAI)
    assert local.time() == time(0)
    last_day = local.date() - timedelta(days=1)
    assert not calendar.is_rest_day(last_day)


@given(starts, st.integers(1, 20))
def test_working_day_limits_end_on_a_working_day_after_exactly_n_working_days(calendar, start, n):
    result = compute_deadline(start, Duration(n, Unit.WORKDAYS), calendar)
    assume(not result.provisional)
    last_day = result.due.astimezone(SHANGHAI).date() - timedelta(days=1)
    assert not calendar.is_rest_day(last_day)
    assert calendar.working_days_between(start.date(), last_day) == n


@given(starts, st.integers(0, 96), st.integers(0, 60 * 48), st.integers(0, 60 * 24))
def test_hour_limits_are_exact_and_shift_by_exactly_the_paused_time(calendar, start, hours, offset, length):
    limit = Duration(hours, Unit.HOURS)
    assert compute_deadline(start, limit, calendar).due == start + timedelta(hours=hours)
    pause = pause_after(start, offset, length)
    paused = compute_deadline(start, limit, calendar, pauses=[pause])
    if length == 0:  # an empty pause is no pause
        assert paused.due == start + timedelta(hours=hours) and not paused.anomalies
    elif pause.start < start + timedelta(hours=hours):
        assert paused.due == start + timedelta(hours=hours, minutes=length)
    else:
        assert paused.due == start + timedelta(hours=hours) and paused.anomalies


@given(starts, all_limits, st.booleans(), st.integers(1, 60 * 24 * 20))
def test_a_restart_is_the_same_as_starting_at_the_restart(calendar, start, limit, custody, later):
    again = start + timedelta(minutes=later)
    restarted = compute_deadline(start, limit, calendar, custody=custody, restarts=[Restart(again)], pauses=[pause_after(start, 0, later // 2)])
    fresh = compute_deadline(again, limit, calendar, custody=custody)
    assert restarted.due == fresh.due


@settings(max_examples=200)
@given(st.datetimes(datetime(2026, 6, 1), datetime(2028, 12, 31)).map(lambda d: d.replace(tzinfo=SHANGHAI)), all_limits, st.booleans())
def test_missing_years_flag_the_answer_only_where_the_calendar_matters(calendar, start, limit, custody):
    result = compute_deadline(start, limit, calendar, custody=custody)
    needs_calendar = not limit.unit.exact and not (custody and limit.unit is not Unit.WORKDAYS)
    if result.provisional:
        assert needs_calendar and result.missing_years
        assert all(year >= 2027 for year in result.missing_years)
        assert any("⚠ 临时结果" in step for step in result.explanation)
    if not needs_calendar:
        assert not result.provisional


@given(starts, all_limits, st.booleans(), st.integers(0, 60 * 24 * 20), st.integers(1, 60 * 24 * 40))
def test_a_deferred_start_counts_as_if_the_period_began_when_it_ended(calendar, start, limit, custody, offset, length):
    """期限自……之日起计算: whenever the wait began, nothing before its end counts."""
    wait = pause_after(start, offset, length)
    deferred = compute_deadline(start, limit, calendar, custody=custody, pauses=[Pause(wait.start, wait.end, deferred=True)])
    fresh = compute_deadline(wait.end, limit, calendar, custody=custody)
    assert deferred.due == fresh.due and deferred.start == wait.end
    waiting = compute_deadline(start, limit, calendar, custody=custody, pauses=[Pause(wait.start, None, deferred=True)])
    assert waiting.due is None or waiting.anomalies  # still waiting: no due (unless the wait began after the due)


backward_limits = st.one_of(
    st.builds(Duration, st.integers(1, 30), st.just(Unit.DAYS)),
    st.builds(Duration, st.integers(1, 72), st.sampled_from([Unit.HOURS, Unit.MINUTES])),
    st.builds(Duration, st.integers(1, 15), st.just(Unit.WORKDAYS)),
)


@given(starts, backward_limits, st.integers(60, 60 * 24 * 120))
def test_counting_forward_from_a_backward_due_reaches_the_moment_and_not_beyond(calendar, start, before, ahead):
    """N days (hours, working days) before a moment: counted forward again from the due, the same period ends no later
    than the moment (its day is not counted: the period ends by the start of that day), and doing the duty a day
    (an hour, a working day) later would leave too short a period."""
    moment_at = start + timedelta(minutes=ahead)
    back = count_before(start, moment_at, before, calendar, custody=True)
    assume(not back.provisional and back.due.year >= 2004)
    if before.unit.exact:
        assert back.due + (timedelta(hours=before.amount) if before.unit is Unit.HOURS else timedelta(minutes=before.amount)) == moment_at
        return
    last = (back.due - timedelta(days=1)).date()
    forward = compute_deadline(datetime.combine(last, time(12), SHANGHAI), before, calendar, custody=True)
    day_of_moment = end_of_day(moment_at.date() - timedelta(days=1))  # 00:00 of the moment's day
    assert forward.due <= day_of_moment
    later = compute_deadline(datetime.combine(last + timedelta(days=1), time(12), SHANGHAI), before, calendar, custody=True)
    if before.unit is Unit.DAYS:
        assert forward.due == day_of_moment and later.due > day_of_moment
    elif not calendar.is_rest_day(last + timedelta(days=1)):  # working days: only a working day later is "a day later"
        assert later.due > day_of_moment


@given(starts, st.integers(1, 30), st.integers(60 * 24, 60 * 24 * 120))
def test_a_backward_roll_only_moves_earlier_and_lands_on_a_working_day(calendar, start, days, ahead):
    moment_at = start + timedelta(minutes=ahead)
    before = Duration(days, Unit.DAYS)
    rolled = count_before(start, moment_at, before, calendar)
    kept = count_before(start, moment_at, before, calendar, custody=True)
    assume(not rolled.provisional)  # (a count back before 2004 leaves the calendar)
    assert rolled.due <= kept.due
    assert not calendar.is_rest_day((rolled.due - timedelta(days=1)).date())
    assert rolled.due == kept.due or calendar.is_rest_day((kept.due - timedelta(days=1)).date())
