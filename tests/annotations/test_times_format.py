"""One date format for people everywhere: days as 2024-12-13, times as 2024-12-13 08:21 UTC,
whatever the value's zone or form (a datetime, or ISO 8601 text as the API gives it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from annotations import times
from annotations.errors import InvalidInput


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 12, 13, 8, 21, 40, tzinfo=UTC),
        datetime(2024, 12, 13, 11, 21, 40, tzinfo=timezone(timedelta(hours=3))),
        "2024-12-13T08:21:40Z",
        "2024-12-13T08:21:40+00:00",
        "2024-12-13T10:21:40.123+02:00",
    ],
)
def test_a_moment_is_written_one_way_in_utc(value: datetime | str) -> None:
    assert times.moment(value) == "2024-12-13 08:21 UTC"
    assert times.day(value) == "2024-12-13"


def test_a_day_is_the_utc_day_not_the_local_one() -> None:
    late = datetime(2024, 12, 14, 1, 30, tzinfo=timezone(timedelta(hours=3)))
    assert times.day(late) == "2024-12-13"


def test_no_date_says_so_in_the_words_asked_for() -> None:
    assert times.moment(None) == "date unknown"
    assert times.day("", "capture date unknown") == "capture date unknown"


def test_text_that_is_no_time_is_refused_not_shown() -> None:
    with pytest.raises(InvalidInput, match="not ISO 8601"):
        times.moment("13/12/2024")
