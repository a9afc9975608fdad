"""SQLAlchemy engines for read models, on the same database as the events."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from sqlalchemy import Connection, Engine, create_engine, event

from . import outage
from .locks import sqlite_file_fault, write_gate


def read_model_engine(database_url: str) -> Engine:
    """An engine for `database_url` (sqlite:///FILE or postgresql://…[?schema=S]).

    Every wait is bounded (`outage`): the busy timeout on SQLite; on PostgreSQL the connect
    and pool-checkout timeouts and statement, lock and idle-in-transaction timeouts. Bound
    values never appear in errors or logs (`hide_parameters`: read models hold personal data).
    """
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        engine = create_engine(
            database_url,
            connect_args={"timeout": outage.SQLITE_BUSY_TIMEOUT},
            hide_parameters=True,
        )
        _sqlite_write_locks(engine)
        return engine
    schema = parse_qs(parts.query).get("schema", [None])[0]
    url = urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, "", ""))
    options = [
        f"-c statement_timeout={outage.REPORT_STATEMENT_TIMEOUT * 1000}",
        f"-c lock_timeout={outage.LOCK_TIMEOUT * 1000}",
        f"-c idle_in_transaction_session_timeout={outage.IDLE_IN_TRANSACTION_TIMEOUT * 1000}",
    ]
    if schema:
        options.append(f"-c search_path={schema}")
    connect_args: dict[str, Any] = {
        "connect_timeout": outage.CONNECT_TIMEOUT,
        "options": " ".join(options),
    }
    return create_engine(
        url,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_timeout=outage.POOL_TIMEOUT,
        hide_parameters=True,
    )


def without_statement_timeout(engine: Engine) -> None:
    """Lets the engine's PostgreSQL statements run as long as they need (a rebuild: it
    empties and refills whole tables); its other bounds stay. SQLite has none to lift."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
        dbapi_connection.commit()

    engine.dispose()  # connections opened before this would keep the timeout


def _sqlite_write_locks(engine: Engine) -> None:
    """Every transaction takes SQLite's write lock at BEGIN, so read-then-write is atomic.

    pysqlite's own transaction handling is switched off and BEGIN IMMEDIATE issued instead
    (the recipe in SQLAlchemy's SQLite dialect documentation), after the file's write gate
    (`locks.write_gate`), which is released when the transaction ends. Connections opened
    with `reading` begin deferred read transactions instead, without the gate.
    """
    gate = write_gate(engine.url.database or "")
    generation = [0]  # connections opened before the last fault are closed (`_discard`)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        record.info[_GENERATION] = generation[0]
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.get(_GENERATION, 0) != generation[0]:
            record.invalidate()  # closed: the next checkout opens a fresh one

    if gate is not None:
        ref = weakref.ref(engine)

        def _discard() -> bool:
            """Closes the engine's connections to the file (`locks.WriteGate.faulted`):
            the idle ones now, those in use as they are checked in."""
            found = ref()
            if found is None:
                return False
            generation[0] += 1
            found.pool.dispose()
            return True

        gate.on_fault(_discard)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # deferred: a snapshot, no write lock
            return
        if gate is not None:
            gate.acquire()
            connection.info[_GATED] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException as error:
            _ended(connection)
            if gate is not None and sqlite_file_fault(error):
                gate.faulted()  # a read-only -wal or -shm: reopen them on the next write
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _ended(connection: Any) -> None:
        if gate is not None and connection.info.pop(_GATED, False):
            gate.release()


_GATED = "lifecycle_write_gate_held"
_GENERATION = "lifecycle_generation"
_READ_ONLY = "lifecycle_read_only"


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only, which never waits for writers nor makes them wait.

    On SQLite an ordinary transaction takes the write lock at BEGIN (`_sqlite_write_locks`):
    a report read that way would hold every append back until it ended. Here each
    transaction is a deferred BEGIN instead, a snapshot of the committed data (WAL mode), and
    the write gate is left alone. Writing through it is a mistake: SQLite would take its
    lock mid-transaction, outside the gate. On PostgreSQL this is an ordinary connection.
    """
    with engine.connect() as conn:
        yield conn.execution_options(**{_READ_ONLY: True})


@contextmanager
def schema_lock(database_url: str) -> Iterator[None]:
    """Serializes table creation across processes starting at once on one PostgreSQL.

    Concurrent `CREATE TABLE IF NOT EXISTS` can fail ("tuple concurrently updated"); holding
    a session-level advisory lock while the event store and the read models create their
    tables makes the second process wait and then find them. On SQLite, switching a new file
    to WAL does not wait for other connections ("database is locked"): the file's write gate
    (`locks.write_gate`, an flock on a sidecar file) serializes start-up.
    """
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        gate = write_gate(database_url.removeprefix("sqlite:///"))
        with gate or nullcontext():
            yield
        return
    import psycopg

    url = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
    with psycopg.connect(url, autocommit=True, connect_timeout=outage.CONNECT_TIMEOUT) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


_SCHEMA_LOCK = 0x11FEC7C1E  # "lifecycle": any constant shared by every process
