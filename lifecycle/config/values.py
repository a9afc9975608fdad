"""The values of the rulebook TOML: each type takes a value as written and, when it is wrong,
gives the message that follows the key (`must be a positive number, got '4'`)."""

from __future__ import annotations

import math
from datetime import time
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..domain.values import TouchKind

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def fail(message: str, key: str = "", sep: str = ": ") -> PydanticCustomError:
    """An error whose message is ours; `key` (relative to where it is raised) extends the key."""
    return PydanticCustomError("config", message, {"_key": key, "_sep": sep})


def kind_of(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), f"{type(value).__name__} {value!r}"
    )


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(f"must be a non-empty string, got {kind_of(value)}")
    return value.strip()


def texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail("must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _whole(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise fail(f"must be a whole number, got {kind_of(value)}")
    return value


def _positive(value: Any) -> float:
    """A positive, finite int or float."""
    number_like = isinstance(value, int | float) and not isinstance(value, bool)
    if not number_like or not 0 < value < math.inf:
        raise fail(f"must be a positive number, got {value!r}")
    return value  # type: ignore[no-any-return]


def _clock_time(value: Any) -> time:
    """A local wall-clock time: a TOML local time (09:00:00) or a string "09:00"."""
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                return parsed
            raise fail('must be a wall-clock time without a UTC offset, like "09:00"')
    raise fail('must be a wall-clock time like "09:00"')


def _weekdays(value: Any) -> tuple[str, ...]:
    """Weekday names, short or long, any case; kept as the short names in week order."""
    days = set()
    for name in texts(value):
        short = name.lower()[:3]
        if short not in WEEKDAYS or name.lower() not in (short, LONG_DAYS[WEEKDAYS.index(short)]):
            raise fail(f"{name!r} is not a weekday (mon…sun)")
        days.add(short)
    if not days:
        raise fail("must name at least one weekday")
    return tuple(day for day in WEEKDAYS if day in days)


def _touch_kind(value: Any) -> TouchKind:
    try:
        return TouchKind(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in TouchKind)
        raise fail(f"{value!r} is not a touch kind ({kinds})") from None


def _size_points(value: Any) -> tuple[tuple[int, int], ...]:
    """`[[minimum employees, points], …]`, kept largest first (the first match counts)."""
    pairs: list[Any] = value if isinstance(value, list) else [None]
    if not all(
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
        and pair[0] >= 0
        for pair in pairs
    ):
        raise fail("must be a list of [minimum employees, points]")
    return tuple(sorted(((a, b) for a, b in pairs), reverse=True))


def keyword(value: Any) -> str:
    return str(value).strip().lower()


def team_list(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise fail("must be a non-empty list of tables ([[routing.teams]])")
    return value


def _members(value: Any) -> tuple[str, ...]:
    members = texts(value)
    if not members:
        raise fail("a team needs at least one member")
    return members


Text = Annotated[str, Field(min_length=1), BeforeValidator(_text)]
Texts = Annotated[tuple[str, ...], BeforeValidator(texts)]
Whole = Annotated[int, BeforeValidator(_whole)]
Count = Annotated[int, Field(ge=1), BeforeValidator(_whole)]
Positive = Annotated[float, Field(gt=0), BeforeValidator(_positive)]
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    WithJsonSchema({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$"}),
]
Weekdays = Annotated[
    tuple[str, ...],
    BeforeValidator(_weekdays),
    WithJsonSchema({"type": "array", "minItems": 1, "items": {"enum": [*WEEKDAYS, *LONG_DAYS]}}),
]
Touch = Annotated[TouchKind, BeforeValidator(_touch_kind)]
Keyword = Annotated[str, BeforeValidator(keyword)]
SizePoints = Annotated[tuple[tuple[int, int], ...], BeforeValidator(_size_points)]
Members = Annotated[tuple[str, ...], Field(min_length=1), BeforeValidator(_members)]
