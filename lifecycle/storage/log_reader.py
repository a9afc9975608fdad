"""The event log read with plain SQL, beside the recorder: the fast path of every catch-up
and rebuild (`projections.feed`), and of every other reader of the log in the same database.

`LogTable.of(recorder, engine, topics)` answers a reader only when the recorder's table is in
the database of `engine` (the same SQLite file, the same PostgreSQL database and schema);
otherwise None, and the runner reads through the recorder.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Connection, Engine


@contextmanager
def driver_cursor(conn: Connection) -> Iterator[Any]:
    """A cursor of the driver's own connection, in `conn`'s transaction; closed on exit."""
    cursor = conn.connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


@dataclass(frozen=True)
class LogTable:
    """Reads the recorder's table with plain SQL on the runner's own connection.

    Used when the events are in the same database as the read models: it skips the recorder's
    `Notification` objects and SQLAlchemy's result rows (each cost about as much as decoding
    the event), and reads inside the batch's transaction. A partition's events are picked by
    the database (the last character of the lead id), so only they reach Python.
    """

    table: str  # quoted as needed
    topics: tuple[str, ...]
    postgres: bool

    @classmethod
    def of(cls, recorder: ApplicationRecorder, engine: Engine,
           topics: tuple[str, ...]) -> LogTable | None:  # fmt: skip
        """The reader for `recorder`'s table, or None (read through the recorder)."""
        table = getattr(recorder, "events_table_name", None)
        datastore = getattr(recorder, "datastore", None)
        if not isinstance(table, str) or not table.isidentifier() or datastore is None:
            return None
        # eventsourcing's recorders, or subclasses keeping their tables (`store`'s bounded one)
        dialect, modules = engine.dialect.name, {k.__module__ for k in type(recorder).__mro__}
        if dialect == "sqlite" and "eventsourcing.sqlite" in modules:
            db_name = getattr(getattr(datastore, "pool", None), "db_name", None)
            if not db_name or not engine.url.database:
                return None
            if not _same_file(db_name, engine.url.database):
                return None
            return cls(table, topics, postgres=False)
        if dialect == "postgresql" and "eventsourcing.postgres" in modules:
            where = getattr(getattr(datastore, "pool", None), "kwargs", None) or {}
            url = engine.url
            if (where.get("dbname"), str(where.get("host")), str(where.get("port") or 5432)) != (
                url.database,
                str(url.host),
                str(url.port or 5432),
            ):
                return None
            schema = getattr(datastore, "schema", None) or "public"
            if not schema.isidentifier():
                return None
            return cls(f'"{schema}"."{table}"', topics, postgres=True)
        return None

    def rows(self, conn: Connection, start: int, limit: int, digits: tuple[str, ...] | None,
             bound: int | None) -> list[Any]:  # fmt: skip
        """Up to `limit` lead events after `start` (up to `bound`), of the leads whose id
        ends in one of `digits` (all leads if None), in log order."""
        statement = _log_statement(self, digits is not None, bound is not None, len(digits or ()))
        values: tuple[Any, ...] = (start, *([bound] if bound is not None else []))
        if self.postgres:
            values += (list(self.topics), *([list(digits)] if digits else []), limit)
        else:
            values += (*self.topics, *(digits or ()), limit)
        with driver_cursor(conn) as cursor:
            cursor.execute(statement, values)
            return list(cursor.fetchall())

    def count(self, conn: Connection, start: int, limit: int) -> int:
        """How many lead events lie after `start` (at most `limit`)."""
        position, mark = ("notification_id", "%s") if self.postgres else ("rowid", "?")
        topics = (
            "topic = ANY(%s)"
            if self.postgres
            else f"topic IN ({', '.join('?' for _ in self.topics)})"
        )
        values = (
            (start, list(self.topics), limit) if self.postgres else (start, *self.topics, limit)
        )
        with driver_cursor(conn) as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {self.table} WHERE {position} > {mark} "
                f"AND {topics} LIMIT {mark}) AS lag",
                values,
            )
            row = cursor.fetchone()
        return int(row[0] or 0) if row else 0

    def head(self, conn: Connection) -> int:
        """The last position in the log (0 if empty), read on `conn`."""
        column = "notification_id" if self.postgres else "rowid"
        with driver_cursor(conn) as cursor:
            cursor.execute(f"SELECT max({column}) FROM {self.table}")
            row = cursor.fetchone()
        return int(row[0] or 0) if row else 0


@cache
def _log_statement(log: LogTable, partitioned: bool, bounded: bool, digits: int) -> str:
    if log.postgres:
        position, mark = "notification_id", "%s"
        topics = "topic = ANY(%s)"
        lead = "right(originator_id::text, 1) = ANY(%s)"
    else:
        position, mark = "rowid", "?"
        topics = f"topic IN ({', '.join('?' for _ in log.topics)})"
        lead = f"substr(originator_id, -1) IN ({', '.join('?' for _ in range(digits))})"
    where = [f"{position} > {mark}"]
    if bounded:
        where.append(f"{position} <= {mark}")
    where.append(topics)
    if partitioned:
        where.append(lead)
    return (
        f"SELECT {position}, originator_id, originator_version, topic, state FROM {log.table} "
        f"WHERE {' AND '.join(where)} ORDER BY {position} LIMIT {mark}"
    )


def _same_file(a: str, b: str) -> bool | None:
    if a.startswith(":memory:") or b.startswith(":memory:") or "mode=memory" in a + b:
        return False
    return (
        Path(a.removeprefix("file:").split("?")[0]).resolve()
        == Path(b.removeprefix("file:").split("?")[0]).resolve()
    )
