"""What the report queries share: the period, grouping columns, percentiles and rounding."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, overload

from sqlalchemy import ColumnElement

from ...domain.errors import ValidationFailed
from ..base import micros, moment

if TYPE_CHECKING:  # shapes reads the options, which read the period
    from .shapes import Period as PeriodShape


@dataclass(frozen=True)
class Period:
    """`from <= occurred_at < to`; either end may be open."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationFailed("--to must be after --from", fields={"to": "must be after from"})

    def where(self, column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        """SQL conditions keeping the times of `column` (microseconds) inside the period."""
        conditions = []
        if self.start is not None:
            conditions.append(column >= micros(self.start))
        if self.end is not None:
            conditions.append(column < micros(self.end))
        return conditions

    def contains(self, value: int) -> bool:
        return (self.start is None or value >= micros(self.start)) and (
            self.end is None or value < micros(self.end)
        )

    def as_dict(self) -> PeriodShape:
        return {"from": utc(self.start), "to": utc(self.end)}


@overload
def utc(value: datetime | int) -> str: ...
@overload
def utc(value: datetime | int | None) -> str | None: ...
def utc(value: datetime | int | None) -> str | None:
    """ISO-8601 in UTC with a `Z`, from a datetime or stored microseconds."""
    if value is None:
        return None
    when = moment(value) if isinstance(value, int) else value
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between closest ranks (numpy's default):
    the median of 1, 2, 3, 4 is 2.5 and their 90th percentile 3.7. None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(part: float, whole: float, digits: int = 4) -> float | None:
    """part / whole rounded, or None when there is nothing to divide by."""
    return round(part / whole, digits) if whole else None


def hours(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def money(cents: int | Decimal | float | None) -> int | float:
    """Cents as a JSON number of the currency: whole amounts stay integers."""
    amount = Decimal(cents or 0) / 100
    return int(amount) if amount == amount.to_integral_value() else float(round(amount, 2))


def elapsed_hours(start: int, end: int) -> float:
    return max(0, end - start) / 3_600_000_000
