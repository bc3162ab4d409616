from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qixian.legaltime.localtime import SHANGHAI, TimeFormatError, display, end_of_day, parse_local


@pytest.mark.parametrize(
    "text",
    [
        "2025-09-29 15:40",
        "2025-09-29T15:40",
        "2025/9/29 15:40",
        "2025年9月29日 15时40分",
        "2025-09-29 15:40:00",
        "2025-09-29T15:40:00+08:00",
        "2025-09-29T07:40:00Z",
        "2025-09-29T09:40:00+02:00",
    ],
)
def test_forms_of_the_same_instant(text):
    assert parse_local(text) == datetime(2025, 9, 29, 15, 40, tzinfo=SHANGHAI)


def test_date_only_is_midnight_local():
    assert parse_local("2025-09-29") == datetime(2025, 9, 29, tzinfo=SHANGHAI)


def test_24_00_is_the_next_midnight():
    assert parse_local("2025-10-02 24:00") == datetime(2025, 10, 3, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text", ["yesterday", "2025-13-01 10:00", "2025-02-30", "15:40", ""])
def test_bad_times_are_rejected(text):
    with pytest.raises(TimeFormatError, match="2025-09-29 15:40"):
        parse_local(text)


FIELDS = st.one_of(  # (year, month, day, hour, minute): real minutes, and numbers that make no date or time
    st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31)).map(lambda d: (d.year, d.month, d.day, d.hour, d.minute)),
    st.tuples(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)),
)


@given(FIELDS)
def test_the_common_form_is_read_as_the_general_reading_reads_it(fields):
    """`YYYY-MM-DD HH:MM` has a quicker reading (most event times come so); padded with spaces, the same text takes
    the general one. Both give the same instant in the same zone, or both refuse the same way."""
    year, month, day, hour, minute = fields
    text = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}"
    try:
        general = parse_local(f" {text} ")
    except (TimeFormatError, OverflowError) as refused:  # (9999-12-31 24:00 is past the last day Python has)
        with pytest.raises(type(refused)):
            parse_local(text)
        return
    quick = parse_local(text)
    assert quick == general and quick.tzinfo is general.tzinfo is SHANGHAI and quick.utcoffset() == general.utcoffset()


def test_midnight_is_shown_as_24_00_of_the_day_before():
    assert display(end_of_day(date(2025, 10, 2))) == "2025-10-02 24:00"
    assert display(datetime(2025, 10, 2, 16, 5, tzinfo=SHANGHAI)) == "2025-10-02 16:05"
    assert display(datetime(2025, 10, 2, 16, 0, tzinfo=UTC)) == "2025-10-02 24:00"  # 00:00 on 10-03 in Beijing
