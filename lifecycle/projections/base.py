"""What the read models share: times as integers, bulk upserts and chunked loads.

Times are stored as UTC microseconds since the epoch (BIGINT). SQLite has no time type, and
text or driver-converted datetimes compare, sort and round-trip differently on SQLite and
PostgreSQL; integers are exact, identical on both engines and cheap to write in bulk.
Reports turn them back into aware datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Dialect, Integer, Table

from ..storage.log_reader import driver_cursor

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Rows per `IN (…)` list: far below SQLite's limit of 32,766 bound parameters.
CHUNK = 1000
# PostgreSQL writes this many rows or more with COPY.
COPY_ROWS = 500


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
        _write(conn, self.table, self.rows, self.upsert)


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


def marker(conn: Connection) -> str:
    """The driver's parameter marker: `?` for SQLite, `%s` for psycopg."""
    return "?" if conn.dialect.name == "sqlite" else "%s"


def _where_in(
    conn: Connection, column: str, values: Sequence[Any]
) -> Iterator[tuple[str, Sequence[Any]]]:
    """`column` matching one of `values`, as (condition, parameters): one `= ANY(array)` on
    PostgreSQL, chunks of `IN (…)` of `CHUNK` values on SQLite."""
    if conn.dialect.name == "postgresql":
        yield f"{column} = ANY(%s)", (list(values),)
        return
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        yield f"{column} IN ({', '.join('?' for _ in chunk)})", chunk


def delete_where_in(conn: Connection, table: Table, column: str, values: Sequence[Any]) -> None:
    """`DELETE FROM table WHERE column IN (…)` on the driver; `values` as the driver takes
    them (`bind_values`)."""
    with driver_cursor(conn) as cursor:
        for condition, parameters in _where_in(conn, column, values):
            cursor.execute(f"DELETE FROM {table.name} WHERE {condition}", parameters)


def _write(conn: Connection, table: Table, rows: list[tuple[Any, ...]], upsert: bool) -> None:
    """One driver-level bulk write of plain tuples.

    SQLAlchemy's executemany spends several microseconds per row building parameters; the
    values here are already plain ints, strings and bools, so they go to the driver as they
    are. SQLite takes one executemany of `INSERT … ON CONFLICT … DO UPDATE`, on the driver's
    own cursor (even `exec_driver_sql` costs a tenth of a millisecond, and a live catch-up
    writes while the service's appends wait for the lock). PostgreSQL takes a COPY (an upsert
    COPYs into a temporary table first), because its executemany adapts and sends each row
    separately, which made PostgreSQL replays four times slower. Small writes (a live
    catch-up) skip the temporary table, whose set-up costs more than it saves there.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        if len(rows) >= COPY_ROWS:
            columns = tuple(column.name for column in table.columns)
            _copy(conn, table, columns, rows, upsert)
        else:
            conn.exec_driver_sql(_statement(table, upsert, mark="%s"), rows)
        return
    with driver_cursor(conn) as cursor:
        cursor.executemany(_statement(table, upsert), rows)


def _copy(
    conn: Connection, table: Table, columns: tuple[str, ...], rows: list[Any], upsert: bool
) -> None:
    target = f"_{table.name}_upserts" if upsert else table.name
    with driver_cursor(conn) as cursor:
        if upsert:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {target} "
                f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
        with cursor.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if upsert:
            cursor.execute(_statement(table, upsert=True, source=target))
            cursor.execute(f"TRUNCATE {target}")


@cache
def _statement(table: Table, upsert: bool, source: str | None = None, mark: str = "?") -> str:
    """`INSERT … VALUES (?, …)`, or `INSERT … SELECT * FROM source`, with
    `ON CONFLICT … DO UPDATE` for an upsert."""
    columns = [column.name for column in table.columns]
    keys = [column.name for column in table.primary_key.columns]
    values = f"VALUES ({', '.join(mark for _ in columns)})"
    rows = f"SELECT * FROM {source}" if source else values
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) {rows}"
    if upsert:
        replace = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
        statement += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {replace}"
    return statement


def rows_by_key(conn: Connection, table: Table, keys: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The rows of `table` whose single-column primary key is one of `keys`, as dicts.

    Read through the driver like the writes: SQLAlchemy's result rows cost more than the
    query here. SQLite gets chunks of `IN (…)`, PostgreSQL one `= ANY(array)`.
    """
    wanted = list(keys)
    if not wanted:
        return
    (key,) = (column.name for column in table.primary_key.columns)
    names = [column.name for column in table.columns]
    select = f"SELECT {', '.join(names)} FROM {table.name} WHERE"
    with driver_cursor(conn) as cursor:
        for condition, parameters in _where_in(conn, key, wanted):
            cursor.execute(f"{select} {condition}", parameters)
            yield from (dict(zip(names, row, strict=True)) for row in cursor.fetchall())
