from datetime import date, datetime, timezone

import pytest

from qixian.localtime import SHANGHAI, TimeFormatError, display, end_of_day, parse_local


@pytest.mark.parametrize("text", [
    "2025-09-29 15:40", "2025-09-29T15:40", "2025/9/29 15:40", "2025年9月29日 15时40分",
    "2025-09-29 15:40:00", "2025-09-29T15:40:00+08:00", "2025-09-29T07:40:00Z", "2025-09-29T09:40:00+02:00",
])
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


def test_midnight_is_shown_as_24_00_of_the_day_before():
    assert display(end_of_day(date(2025, 10, 2))) == "2025-10-02 24:00"
    assert display(datetime(2025, 10, 2, 16, 5, tzinfo=SHANGHAI)) == "2025-10-02 16:05"
    assert display(datetime(2025, 10, 2, 16, 0, tzinfo=timezone.utc)) == "2025-10-02 24:00"  # 00:00 on 10-03 in Beijing
