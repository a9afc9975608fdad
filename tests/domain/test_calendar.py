"""Business-hours arithmetic: deadlines, elapsed working hours, holidays and DST.

Expected values are worked out by hand from a wall calendar for 2026: Whit Monday is 25 May,
Corpus Christi 4 June; Europe/Berlin changes clocks on 29 March and 25 October, New York on
8 March and 1 November.
"""

from __future__ import annotations

import math
import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.domain.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

GERMANY = BusinessCalendar(timezone="Europe/Berlin", country="DE")
BAVARIA = BusinessCalendar(timezone="Europe/Berlin", country="DE", subdivision="BY")
NEW_YORK_OFFICE = BusinessCalendar(timezone="America/New_York", country="US")


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# Deadlines


def test_four_hours_after_friday_4pm_in_berlin_is_monday_noon() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 6, 16), 4) == berlin(2026, 3, 9, 12)


def test_whit_monday_is_skipped_so_four_hours_after_friday_4pm_is_tuesday_noon() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 5, 22, 16), 4) == berlin(2026, 5, 26, 12)


def test_the_holidays_package_agrees_that_whit_monday_2026_is_on_25_may() -> None:
    assert date(2026, 5, 25) in holidays.country_holidays("DE", years=2026)


def test_a_deadline_is_an_aware_datetime_in_utc() -> None:
    deadline = GERMANY.add_business_hours(berlin(2026, 3, 6, 16), 4)

    assert deadline.tzinfo is UTC
    assert deadline == datetime(2026, 3, 9, 11, tzinfo=UTC)


def test_a_start_given_in_another_time_zone_is_the_same_instant() -> None:
    friday_4pm_in_berlin = datetime(2026, 3, 6, 15, tzinfo=UTC)

    assert GERMANY.add_business_hours(friday_4pm_in_berlin, 4) == berlin(2026, 3, 9, 12)


def test_a_start_at_night_counts_from_the_next_opening() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 10, 3), 2) == berlin(2026, 3, 10, 11)


def test_a_start_in_the_evening_counts_from_the_next_morning() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 10, 20), 1) == berlin(2026, 3, 11, 10)


def test_a_start_at_the_weekend_counts_from_monday_opening() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 7, 10), 3) == berlin(2026, 3, 9, 12)


def test_a_start_exactly_at_opening_counts_from_that_moment() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 10, 9), 2.5) == berlin(2026, 3, 10, 11, 30)


def test_a_deadline_landing_exactly_on_closing_stays_at_closing() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 10, 9), 8) == berlin(2026, 3, 10, 17)


def test_a_start_exactly_at_closing_counts_from_the_next_opening() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 10, 17), 1) == berlin(2026, 3, 11, 10)


def test_a_start_within_the_last_hour_spills_into_the_next_day() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 10, 16, 30), 1) == berlin(2026, 3, 11, 9, 30)


def test_zero_hours_inside_working_time_return_the_start_itself_in_utc() -> None:
    deadline = GERMANY.add_business_hours(berlin(2026, 3, 10, 10, 15), 0)

    assert deadline == datetime(2026, 3, 10, 9, 15, tzinfo=UTC)
    assert deadline.tzinfo is UTC


def test_zero_hours_outside_working_time_return_the_next_opening() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 7, 10), 0) == berlin(2026, 3, 9, 9)


def test_zero_hours_exactly_at_closing_return_the_next_opening() -> None:
    assert GERMANY.add_business_hours(berlin(2026, 3, 10, 17), 0) == berlin(2026, 3, 11, 9)


def test_ten_thousand_hours_are_exactly_1250_working_days() -> None:
    monday_9am = datetime(2026, 3, 2, 9, tzinfo=UTC)
    friday_5pm_of_week_250 = datetime(2026, 3, 6, 17, tzinfo=UTC) + timedelta(weeks=249)

    assert BusinessCalendar().add_business_hours(monday_9am, 10_000) == friday_5pm_of_week_250


def test_adding_ten_thousand_hours_takes_well_under_a_second() -> None:
    started = stopwatch.perf_counter()
    BAVARIA.add_business_hours(berlin(2026, 3, 2, 9), 10_000)

    assert stopwatch.perf_counter() - started < 0.5


# Daylight-saving changes


def test_berlin_spring_forward_weekend_keeps_monday_opening_at_9_local() -> None:
    deadline = GERMANY.add_business_hours(berlin(2026, 3, 27, 16), 4)

    assert deadline == berlin(2026, 3, 30, 12)
    assert deadline == datetime(2026, 3, 30, 10, tzinfo=UTC)


def test_berlin_fall_back_weekend_keeps_monday_opening_at_9_local() -> None:
    deadline = GERMANY.add_business_hours(berlin(2026, 10, 23, 16), 4)

    assert deadline == berlin(2026, 10, 26, 12)
    assert deadline == datetime(2026, 10, 26, 11, tzinfo=UTC)


def test_new_york_spring_forward_weekend_keeps_monday_opening_at_9_local() -> None:
    deadline = NEW_YORK_OFFICE.add_business_hours(new_york(2026, 3, 6, 15), 4)

    assert deadline == new_york(2026, 3, 9, 11)
    assert deadline == datetime(2026, 3, 9, 15, tzinfo=UTC)


def test_new_york_fall_back_weekend_keeps_monday_opening_at_9_local() -> None:
    deadline = NEW_YORK_OFFICE.add_business_hours(new_york(2026, 10, 30, 15), 4)

    assert deadline == new_york(2026, 11, 2, 11)
    assert deadline == datetime(2026, 11, 2, 16, tzinfo=UTC)


def test_the_day_of_a_clock_change_is_a_full_working_day() -> None:
    every_day = BusinessCalendar(timezone="Europe/Berlin", working_days=frozenset(range(7)))

    assert every_day.add_business_hours(berlin(2026, 3, 29, 9), 8) == berlin(2026, 3, 29, 17)
    assert every_day.business_hours_between(berlin(2026, 10, 25, 9), berlin(2026, 10, 25, 17)) == 8


def test_hours_between_across_the_spring_change_count_full_days() -> None:
    friday_9am, monday_5pm = berlin(2026, 3, 27, 9), berlin(2026, 3, 30, 17)

    assert GERMANY.business_hours_between(friday_9am, monday_5pm) == 16


# Hours between


def test_hours_between_friday_4pm_and_monday_noon_are_four() -> None:
    assert GERMANY.business_hours_between(berlin(2026, 3, 6, 16), berlin(2026, 3, 9, 12)) == 4


def test_hours_between_within_one_working_day_are_the_elapsed_hours() -> None:
    start, end = berlin(2026, 3, 10, 10), berlin(2026, 3, 10, 13, 30)

    assert GERMANY.business_hours_between(start, end) == 3.5


def test_hours_between_skip_a_public_holiday() -> None:
    friday_9am, tuesday_5pm = berlin(2026, 5, 22, 9), berlin(2026, 5, 26, 17)

    assert GERMANY.business_hours_between(friday_9am, tuesday_5pm) == 16


def test_hours_between_two_moments_of_one_night_are_zero() -> None:
    assert GERMANY.business_hours_between(berlin(2026, 3, 10, 18), berlin(2026, 3, 11, 8)) == 0


@pytest.mark.parametrize("end", [berlin(2026, 3, 10, 12), berlin(2026, 3, 10, 10)])
def test_hours_between_are_zero_when_the_end_is_not_after_the_start(end: datetime) -> None:
    assert GERMANY.business_hours_between(berlin(2026, 3, 10, 12), end) == 0.0


# Working days and working time


def test_a_weekday_is_a_working_day() -> None:
    assert GERMANY.is_working_day(date(2026, 3, 10))


def test_a_saturday_is_not_a_working_day() -> None:
    assert not GERMANY.is_working_day(date(2026, 3, 7))


def test_whit_monday_is_not_a_working_day_in_germany() -> None:
    assert not GERMANY.is_working_day(date(2026, 5, 25))


def test_a_regional_holiday_counts_only_in_its_subdivision() -> None:
    corpus_christi = date(2026, 6, 4)

    assert not BAVARIA.is_working_day(corpus_christi)
    assert GERMANY.is_working_day(corpus_christi)


def test_without_a_country_a_public_holiday_is_a_working_day() -> None:
    assert BusinessCalendar(timezone="Europe/Berlin").is_working_day(date(2026, 5, 25))


def test_the_working_weekdays_are_configurable() -> None:
    sunday_to_thursday = BusinessCalendar(working_days=frozenset({6, 0, 1, 2, 3}))

    assert sunday_to_thursday.is_working_day(date(2026, 3, 8))
    assert not sunday_to_thursday.is_working_day(date(2026, 3, 6))


def test_is_working_day_rejects_a_datetime() -> None:
    with pytest.raises(TypeError, match="date"):
        GERMANY.is_working_day(berlin(2026, 3, 10, 10))


def test_opening_is_working_time_and_closing_is_not() -> None:
    assert GERMANY.is_working_time(berlin(2026, 3, 10, 9))
    assert not GERMANY.is_working_time(berlin(2026, 3, 10, 17))


def test_a_public_holiday_is_not_working_time() -> None:
    assert not GERMANY.is_working_time(berlin(2026, 5, 25, 10))


def test_working_time_is_judged_on_the_calendars_local_clock() -> None:
    assert not GERMANY.is_working_time(datetime(2026, 3, 10, 7, 30, tzinfo=UTC))  # 8:30 Berlin
    assert GERMANY.is_working_time(datetime(2026, 3, 10, 8, 30, tzinfo=UTC))  # 9:30 Berlin


# Validation


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("timezone", {"timezone": "Mars/Olympus_Mons"}),
        ("timezone", {"timezone": ""}),
        ("opens", {"opens": time(17), "closes": time(9)}),
        ("opens", {"opens": time(9), "closes": time(9)}),
        ("working_days", {"working_days": frozenset()}),
        ("working_days", {"working_days": frozenset({7})}),
        ("country", {"country": "XX"}),
        ("subdivision", {"country": "DE", "subdivision": "ZZ"}),
        ("subdivision", {"subdivision": "BY"}),
    ],
)
def test_an_invalid_field_is_rejected_with_its_name_in_the_message(
    field: str, fields: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match=field):
        BusinessCalendar(**fields)


def test_working_days_from_a_config_list_become_a_frozenset() -> None:
    calendar = BusinessCalendar(working_days=[0, 1, 2])  # type: ignore[arg-type]

    assert calendar == BusinessCalendar(working_days=frozenset({0, 1, 2}))
    assert hash(calendar) == hash(BusinessCalendar(working_days=frozenset({0, 1, 2})))


@pytest.mark.parametrize(
    "call",
    [
        lambda: GERMANY.add_business_hours(datetime(2026, 3, 10, 10), 1),
        lambda: GERMANY.business_hours_between(datetime(2026, 3, 10, 10), berlin(2026, 3, 10, 11)),
        lambda: GERMANY.business_hours_between(berlin(2026, 3, 10, 10), datetime(2026, 3, 10, 11)),
        lambda: GERMANY.is_working_time(datetime(2026, 3, 10, 10)),
    ],
)
def test_naive_datetimes_are_rejected(call: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize("hours", [-1.0, -1e-9, math.nan, math.inf])
def test_hours_must_be_finite_and_not_negative(hours: float) -> None:
    with pytest.raises(ValueError, match="hours"):
        GERMANY.add_business_hours(berlin(2026, 3, 10, 10), hours)


# Properties

CALENDARS = [
    BAVARIA,
    BusinessCalendar(
        timezone="America/New_York", opens=time(8, 30), closes=time(17, 30), country="US"
    ),
    BusinessCalendar(timezone="Australia/Sydney", country="AU", subdivision="NSW"),
    BusinessCalendar(
        timezone="Asia/Kolkata",
        opens=time(10),
        closes=time(18, 45),
        working_days=frozenset(range(6)),
    ),
]
START_ZONES = [UTC, BERLIN, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("Asia/Kolkata")]

calendars = st.sampled_from(CALENDARS)
starts = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from(START_ZONES),
)
hour_counts = st.floats(min_value=0, max_value=200, allow_nan=False, allow_infinity=False)
bounded = settings(max_examples=200, deadline=None, database=None)


def is_closing_moment(calendar: BusinessCalendar, moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo(calendar.timezone))
    return calendar.is_working_day(local.date()) and local.time() == calendar.closes


@bounded
@given(calendar=calendars, start=starts, hours=hour_counts)
def test_hours_between_a_start_and_its_deadline_are_the_hours_added(
    calendar: BusinessCalendar, start: datetime, hours: float
) -> None:
    deadline = calendar.add_business_hours(start, hours)

    assert calendar.business_hours_between(start, deadline) == pytest.approx(hours, abs=1e-6)


@bounded
@given(calendar=calendars, start=starts, hours=hour_counts)
def test_a_deadline_is_working_time_or_a_closing_moment(
    calendar: BusinessCalendar, start: datetime, hours: float
) -> None:
    deadline = calendar.add_business_hours(start, hours)

    assert calendar.is_working_time(deadline) or is_closing_moment(calendar, deadline)


@bounded
@given(calendar=calendars, start=starts, hours=hour_counts)
def test_a_deadline_is_never_before_its_start(
    calendar: BusinessCalendar, start: datetime, hours: float
) -> None:
    assert calendar.add_business_hours(start, hours) >= start
