"""Business-hours arithmetic for a sales team's working calendar.

A `BusinessCalendar` says when a team works: a time zone, a daily opening and closing time on
the local wall clock, the working weekdays and, optionally, the public holidays of a country
(and subdivision) from the `holidays` package. SLA policies such as "first contact attempt
within 4 business hours of assignment" use it to turn a start and a number of hours into a
deadline, and back.

Daylight-saving time: each day's opening and closing are local wall-clock times resolved with
`zoneinfo` for that date, so a team that opens at 9:00 opens at 9:00 local time before and after
a change, and a working day is closes - opens long even on the day the clocks change (they
change at night everywhere the opening hours are ordinary). Within the window, business time is
elapsed time, so the arithmetic is exact and monotonic: in the rare zone whose clocks change
*inside* the window, that one day has an hour more or less. A wall time that does not exist or
occurs twice is resolved like `zoneinfo` does with fold=0 (the offset before the change).

The module is pure: no clock, no I/O, no logging. Every result is an aware datetime in UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

_ONE_DAY = timedelta(days=1)
_ONE_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team works; validated at construction (a bad field raises ValueError naming it)."""

    timezone: str = "UTC"
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday=0 ... Sunday=6
    country: str | None = None  # holidays country code, e.g. "DE"; None: no public holidays
    subdivision: str | None = None  # e.g. "BY"

    def __post_init__(self) -> None:
        _zone_named(self.timezone)
        _check_opening_hours(self.opens, self.closes)
        object.__setattr__(self, "working_days", _checked_working_days(self.working_days))
        _check_holiday_region(self.country, self.subdivision)

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after `start` (aware), in UTC.

        Counting begins at the next opening if `start` is outside working time; a deadline
        that falls exactly on a closing time stays there.
        """
        remaining = _duration(hours)
        cursor = _as_utc(start, "start")
        windows = self._windows_from(cursor)
        while True:
            opening, closing = next(windows)
            cursor = max(cursor, opening)
            if cursor + remaining <= closing:
                return cursor + remaining
            remaining -= closing - cursor

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours from `start` to `end` (both aware); 0.0 if `end` is not after `start`."""
        start_utc, end_utc = _as_utc(start, "start"), _as_utc(end, "end")
        if end_utc <= start_utc:
            return 0.0
        worked = timedelta()
        for opening, closing in self._windows_from(start_utc):
            if opening >= end_utc:
                break
            worked += min(closing, end_utc) - max(opening, start_utc)
        return worked / _ONE_HOUR

    def is_working_time(self, moment: datetime) -> bool:
        """Whether the team works at `moment` (aware): opening inclusive, closing exclusive."""
        instant = _as_utc(moment, "moment")
        day = instant.astimezone(self._zone).date()
        if not self.is_working_day(day):
            return False
        opening, closing = self._window(day)
        return opening <= instant < closing

    def is_working_day(self, day: date) -> bool:
        """Whether `day` (a local date) is a working weekday and not a public holiday."""
        if isinstance(day, datetime):
            raise TypeError("is_working_day takes a date; use is_working_time for a datetime")
        if day.weekday() not in self.working_days:
            return False
        if self.country is None:
            return True
        return day not in _public_holidays(self.country, self.subdivision, day.year)

    @property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches its instances by key

    def _window(self, day: date) -> tuple[datetime, datetime]:
        """Opening and closing of `day` as UTC instants."""
        zone = self._zone
        return _instant(day, self.opens, zone), _instant(day, self.closes, zone)

    def _windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Endless working windows, in order, from the one open at or after `moment`."""
        day = moment.astimezone(self._zone).date()
        while True:
            if self.is_working_day(day):
                opening, closing = self._window(day)
                if closing > moment:
                    yield opening, closing
            day += _ONE_DAY


def _instant(day: date, wall_clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall_clock, tzinfo=zone).astimezone(UTC)


def _as_utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _duration(hours: float) -> timedelta:
    if not math.isfinite(hours) or hours < 0:
        raise ValueError(f"hours must be a finite number >= 0, got {hours!r}")
    return timedelta(hours=hours)


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of one year, computed once (the holidays object fills lazily)."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def _zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(
            f"timezone: {name!r} is not a known IANA time zone (e.g. 'Europe/Berlin')"
        ) from error


def _check_opening_hours(opens: time, closes: time) -> None:
    for name, value in (("opens", opens), ("closes", closes)):
        if not isinstance(value, time) or value.tzinfo is not None:
            raise ValueError(
                f"{name}: must be a local wall-clock time without tzinfo, got {value!r}"
            )
    if opens >= closes:
        raise ValueError(
            f"opens ({opens.isoformat()}) must be before closes ({closes.isoformat()}) "
            "on the same day"
        )


def _checked_working_days(days: frozenset[int]) -> frozenset[int]:
    weekdays = frozenset(days)
    if not weekdays:
        raise ValueError("working_days: must name at least one weekday (Monday=0 ... Sunday=6)")
    if not all(isinstance(day, int) and 0 <= day <= 6 for day in weekdays):
        raise ValueError(f"working_days: weekdays are 0 (Monday) to 6 (Sunday), got {days!r}")
    return weekdays


@lru_cache(maxsize=64)
def _check_holiday_region(country: str | None, subdivision: str | None) -> None:
    """Raise ValueError unless `holidays` knows the country and subdivision (checked once)."""
    if country is None:
        if subdivision is not None:
            raise ValueError(f"subdivision: {subdivision!r} needs a country")
        return
    supported = _supported_regions()
    if country not in supported:
        raise ValueError(
            f"country: no public holidays known for {country!r} (an ISO 3166-1 code, e.g. 'DE')"
        )
    if subdivision is not None and subdivision not in supported[country]:
        raise ValueError(f"subdivision: {country} has no subdivision {subdivision!r}")


@lru_cache(maxsize=1)
def _supported_regions() -> dict[str, frozenset[str]]:
    """Every country code `holidays` knows, with its subdivision codes."""
    return {
        code: frozenset(subdivisions)
        for code, subdivisions in holidays.list_supported_countries().items()
    }
