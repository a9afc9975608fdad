"""Bulk writes and keyed reads for the read models, on the database driver itself.

Everything here knows which engine it talks to: SQLite takes `?` markers, chunks of
`IN (…)` and one executemany of `INSERT … ON CONFLICT … DO UPDATE` on the driver's own
cursor; PostgreSQL takes `%s`, one `= ANY(array)` and COPY for large writes. The values
arrive as plain tuples (`projections.base.Write`), already converted. `tune_sqlite` gives
the read models' SQLite connections their settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table

from .log_reader import driver_cursor

# Rows per `IN (…)` list: far below SQLite's limit of 32,766 bound parameters.
CHUNK = 1000
# PostgreSQL writes this many rows or more with COPY.
COPY_ROWS = 500
SQLITE_CACHE_KIB = 65536


def tune_sqlite(conn: Connection) -> None:
    """Settings for the read models' SQLite connection, made outside any transaction.

    `synchronous=NORMAL`: in WAL mode a commit no longer waits for the disk (40 ms a batch
    here); a power cut may lose the last batches, rows and position together, which the next
    catch-up simply redoes from the log. A page cache above SQLite's 2 MB default keeps the
    leads' rows, updated at random places, in memory. Events are written by the store's own
    connections, which keep their settings.
    """
    driver = conn.connection.driver_connection
    if driver is not None:
        driver.execute("PRAGMA synchronous=NORMAL")
        driver.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


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


def write_rows(conn: Connection, table: Table, rows: list[tuple[Any, ...]], upsert: bool) -> None:
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
