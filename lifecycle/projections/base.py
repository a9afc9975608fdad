"""What the read models share: times as integers, and rows prepared for a bulk write
(`storage.bulk` writes them).

Times are stored as UTC microseconds since the epoch (BIGINT). SQLite has no time type, and
text or driver-converted datetimes compare, sort and round-trip differently on SQLite and
PostgreSQL; integers are exact, identical on both engines and cheap to write in bulk.
Reports turn them back into aware datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Dialect, Integer, Table

from ..storage.bulk import write_rows

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """An aware datetime as UTC microseconds since the epoch."""
    return (moment - EPOCH) // _MICROSECOND


def moment(value: int) -> datetime:
    """UTC microseconds since the epoch as an aware datetime in UTC."""
    return EPOCH + timedelta(microseconds=value)


_DAY = 86_400_000_000


def month_of(value: int) -> str:
    """`2026-01`: the UTC calendar month of a time."""
    return _calendar_of(value // _DAY)[1]


def week_of(value: int) -> str:
    """`2026-W02`: the ISO week (Monday to Sunday, UTC) of a time."""
    return _calendar_of(value // _DAY)[0]


@lru_cache(maxsize=4096)
def _calendar_of(day: int) -> tuple[str, str]:
    """The ISO week and the month of a day (days since the epoch): computed once per day."""
    when = moment(day * _DAY)
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}", when.strftime("%Y-%m")


def time_column(name: str, nullable: bool = True) -> Column[int]:
    return Column(name, BigInteger, nullable=nullable)


def position_column(name: str = "position", primary_key: bool = False) -> Column[int]:
    """A position in the log. As a table's only key it is SQLite's rowid (INTEGER PRIMARY KEY),
    so rows keyed by position are appended in key order: far cheaper than keys by lead id,
    which land at random places in the index."""
    kind = BigInteger().with_variant(Integer(), "sqlite")
    return Column(name, kind, primary_key=primary_key, autoincrement=False, nullable=False)


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Inserts `rows`, replacing those whose primary key exists, in one executemany."""
    prepare(table, rows, upsert=True)(conn)


def insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    prepare(table, rows, upsert=False)(conn)


@dataclass(frozen=True, slots=True)
class Write:
    """Rows ready for one bulk write, as plain tuples: a copy, taken when the rows were
    computed, so the write may run later (in a rebuild, on the writer thread) while the
    dicts they came from change."""

    table: Table
    rows: list[tuple[Any, ...]]
    upsert: bool

    def __call__(self, conn: Connection) -> None:
        write_rows(conn, self.table, self.rows, self.upsert)


def prepare(table: Table, rows: Iterable[Mapping[str, Any]], upsert: bool) -> Write:
    """`rows` (dicts with every column of `table`) as a `Write`."""
    values = _values(table)
    return Write(table, [values(row) for row in rows], upsert)


@cache
def _values(table: Table) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    return itemgetter(*(column.name for column in table.columns))


def prepare_typed(
    table: Table, dialect: Dialect, rows: Iterable[Mapping[str, Any]], upsert: bool
) -> Write:
    """`prepare` for a table whose column types convert values (a UUID, an aware datetime):
    each column's own bind processor is applied now, so the write passes plain values."""
    processors = [_processor(column, dialect) for column in table.columns]
    values = _values(table)
    return Write(
        table,
        [
            tuple(
                value if each is None else each(value)
                for each, value in zip(processors, values(row), strict=True)
            )
            for row in rows
        ],
        upsert,
    )


def bind_values(column: Column[Any], dialect: Dialect, values: Iterable[Any]) -> list[Any]:
    """`values` of `column` as the driver takes them (the column type's bind processor)."""
    processor = _processor(column, dialect)
    return list(values) if processor is None else [processor(value) for value in values]


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    return column.type.dialect_impl(dialect).bind_processor(dialect)
