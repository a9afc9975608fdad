"""When the database does not answer: every wait bounded, and one rule for "unavailable".

Every call to the database waits a bounded time, and every bound is here (the values are
documented in the contract). None fires under normal load: they are several times the
slowest wait measured under saturation. When one does, or the database refuses or drops
connections, the error is classified by `unavailable` and answered as 503 `unavailable` with
a `Retry-After` (HTTP) or the same error JSON on stderr and exit 1 (CLI).

A write answered 503 may still have been committed: only its answer was lost. Retrying it
with the same `Idempotency-Key` records nothing twice (`app/recording.py`).

To teach the classifier a new kind of outage (a new driver error, a new SQLite message),
extend `UNAVAILABLE_TYPES` or `SQLITE_UNAVAILABLE`; callers only ever ask `unavailable(error)`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
import psycopg_pool
import sqlalchemy.exc
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.persistence import PersistenceError

# ------------------------------------------------------------------------- the bounds
CONNECT_TIMEOUT = 2
"""Seconds to open a PostgreSQL connection (libpq `connect_timeout`; its minimum is 2)."""

POOL_TIMEOUT = 3
"""Seconds to wait for a pooled connection (the event store's and the read models' pools)."""

STORE_ATTEMPTS = 3
"""Tries of one event-store call when the connection fails (eventsourcing makes 10, each
waiting up to POOL_TIMEOUT): a stale pooled connection after a database restart costs one."""

STATEMENT_TIMEOUT = 30
"""Seconds one statement may run on PostgreSQL: event-store calls, requests, the catch-up.
A rebuild's connections have none (`db.without_statement_timeout`)."""

REPORT_STATEMENT_TIMEOUT = 120
"""Seconds one read-model statement may run (reports over large read models are long)."""

LOCK_TIMEOUT = 10
"""Seconds to wait for a table or row lock on PostgreSQL (appends lock the events table)."""

IDLE_IN_TRANSACTION_TIMEOUT = 60
"""Seconds a PostgreSQL transaction may sit idle before the server ends it (a client that
died mid-transaction must not hold its locks)."""

SQLITE_BUSY_TIMEOUT = 30
"""Seconds to wait for SQLite's own lock (its busy handler), and for the file's write gate
(`locks.WriteGate`) within one process."""

WRITE_TIMEOUT = 10
"""Seconds an HTTP write waits for the group writer; then 503 (a job not yet started is
dropped, one being written may still commit)."""

RETRY_AFTER = 2
"""Seconds a client is told to wait before retrying a 503 (`Retry-After`)."""


# ------------------------------------------------------------------------- the classifier
class DatabaseTimeout(TimeoutError):
    """A bounded wait of ours ran out (the write gate, the group writer)."""


UNAVAILABLE_TYPES: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # refused, dropped, server shutting down, statement/lock timeout
    psycopg.InterfaceError,  # the connection is closed
    psycopg_pool.PoolTimeout,  # (an OperationalError too)
    sqlalchemy.exc.TimeoutError,  # SQLAlchemy's pool checkout
    DatabaseTimeout,
)
"""Errors that mean "the database is unavailable", wherever they are in the cause chain."""

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    PersistenceError,
    sqlalchemy.exc.SQLAlchemyError,
    psycopg.Error,
    sqlite3.Error,
    TimeoutError,  # DatabaseTimeout, and psycopg_pool.PoolTimeout is a psycopg.Error
)
"""The classes an unavailable database is raised as: the base classes to catch, then ask
`unavailable` (HTTP handlers are registered for these)."""

SQLITE_FILE_FAULTS = ("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_FULL")
"""SQLite errors (by their `sqlite_errorname`, extended codes included) that mean the
database's files cannot be written or read now: read-only, vanished, an I/O error, a full
disk. The store then reopens its connections (`locks.WriteGate.faulted`)."""

SQLITE_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", *SQLITE_FILE_FAULTS)
"""SQLite errors that mean the file cannot be used now (503); the busy ones come after
`SQLITE_BUSY_TIMEOUT`. Any other ("no such table", a constraint) is a defect: 500."""


def unavailable(error: BaseException) -> bool:
    """Whether `error` means the database is unavailable (503), not a defect (500)."""
    for each in _causes(error):
        if isinstance(each, UNAVAILABLE_TYPES):
            return True
        if isinstance(each, sqlite3.Error):
            return str(getattr(each, "sqlite_errorname", "")).startswith(SQLITE_UNAVAILABLE)
        if isinstance(each, sqlalchemy.exc.DBAPIError) and each.connection_invalidated:
            return True
    # eventsourcing's own errors, raised without a driver error underneath
    return isinstance(error, StoreOperationalError | StoreInterfaceError) and not any(
        isinstance(each, sqlite3.Error | psycopg.Error) for each in _causes(error)
    )


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, what it was raised from, and the driver errors SQLAlchemy wraps (`.orig`)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        each = pending.pop()
        if each is None or id(each) in seen:
            continue
        seen.add(id(each))
        yield each
        orig = getattr(each, "orig", None)
        pending.append(each.__cause__)  # not __context__: an error raised while handling one
        if isinstance(orig, BaseException):
            pending.append(orig)
