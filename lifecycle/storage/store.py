"""Event storage: database URLs to eventsourcing settings, and a fast orjson transcoder."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    InfrastructureFactory,
    InterfaceError,
    OperationalError,
    StoredEvent,
    Transcoder,
    Transcoding,
)
from eventsourcing.postgres import Factory as PostgresFactory
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.sqlite import Factory as SQLiteFactory
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteConnection, SQLiteConnectionPool
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from ..domain.values import ALL_ENUMS
from . import outage
from .locks import sqlite_file, write_gate

_TYPE, _DATA = "_type_", "_data_"


class OrjsonTranscoder(Transcoder):
    """eventsourcing's JSON format (`{"_type_", "_data_"}` for non-JSON values), via orjson.

    The standard transcoder decodes with the stdlib and an object hook, which caps replay at
    tens of thousands of events a second; this one is several times faster and reads the same
    stored form.
    """

    def __init__(self) -> None:
        self._by_type: dict[type, Transcoding] = {}
        self._by_name: dict[str, Transcoding] = {}

    def register(self, transcoding: Transcoding) -> None:
        self._by_type[transcoding.type] = transcoding
        self._by_name[transcoding.name] = transcoding

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(self._to_json(obj))

    def decode(self, data: bytes) -> Any:
        return self._from_json(orjson.loads(data))

    def _to_json(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is dict:
            return self._dict_to_json(obj)
        if kind in _NATIVE or obj is None:
            return obj
        if kind is list:
            return [self._to_json(value) for value in obj]
        return self._marked(obj, kind)

    def _dict_to_json(self, obj: dict[Any, Any]) -> dict[str, Any]:
        # The hot path: events are flat dicts of mostly native values.
        result: dict[str, Any] = {}
        for key, value in obj.items():
            kind = type(value)
            if kind in _NATIVE or value is None:
                result[key if type(key) is str else self._key(key)] = value
            elif kind is dict or kind is list:
                result[key if type(key) is str else self._key(key)] = self._to_json(value)
            else:
                result[key if type(key) is str else self._key(key)] = self._marked(value, kind)
        return result

    def _marked(self, obj: Any, kind: type) -> dict[str, Any]:
        if kind is datetime:
            # orjson writes an aware datetime as the same ISO-8601 text as isoformat(), in Rust.
            return {_TYPE: "datetime_iso", _DATA: obj}
        transcoding = self._by_type.get(kind)
        if transcoding is None:
            msg = f"no transcoding registered for {kind.__qualname__}"
            raise TypeError(msg)
        return {_TYPE: transcoding.name, _DATA: self._to_json(transcoding.encode(obj))}

    def _key(self, key: Any) -> str:
        if isinstance(key, Enum):
            return str(key.value)
        if isinstance(key, str):
            return key
        msg = f"dictionary keys must be str or Enum, not {type(key).__qualname__}"
        raise TypeError(msg)

    def _from_json(self, obj: Any) -> Any:
        if type(obj) is dict:
            if len(obj) == 2 and _TYPE in obj and _DATA in obj:
                return self._by_name[obj[_TYPE]].decode(self._from_json(obj[_DATA]))
            for key, value in obj.items():
                kind = type(value)
                if kind is dict or kind is list:
                    obj[key] = self._from_json(value)
            return obj
        if type(obj) is list:
            return [self._from_json(value) for value in obj]
        return obj


_NATIVE = frozenset({str, int, bool, float})


class _Simple(Transcoding):
    def __init__(
        self, kind: type, name: str, encode: Callable[[Any], Any], decode: Callable[[Any], Any]
    ) -> None:
        self.type, self.name = kind, name
        self._encode, self._decode = encode, decode

    def encode(self, obj: Any) -> Any:
        return self._encode(obj)

    def decode(self, data: Any) -> Any:
        return self._decode(data)


def transcoder() -> OrjsonTranscoder:
    result = OrjsonTranscoder()
    result.register(_Simple(UUID, "uuid_hex", lambda u: u.hex, UUID))
    result.register(_Simple(datetime, "datetime_iso", datetime.isoformat, datetime.fromisoformat))
    result.register(_Simple(date, "date_iso", date.isoformat, date.fromisoformat))
    result.register(_Simple(Decimal, "decimal_str", str, Decimal))
    for enum in ALL_ENUMS:
        result.register(_Simple(enum, enum.__name__, lambda e: e.value, enum))
    return result


# Recently used leads stay in memory; a hit costs one query for newer events (written by other
# processes) and a copy, instead of reading and replaying the whole history.
AGGREGATE_CACHE = {"AGGREGATE_CACHE_MAXSIZE": "10000"}


def persistence_env(database_url: str) -> dict[str, str]:
    """eventsourcing settings for a `sqlite:///path` or `postgresql://…` URL."""
    return {**_engine_env(database_url), **AGGREGATE_CACHE}


def _engine_env(database_url: str) -> dict[str, str]:
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        path = (
            unquote(database_url[len("sqlite:///") :])
            if database_url.startswith("sqlite:///")
            else ""
        )
        if not path:
            msg = f"a SQLite URL looks like sqlite:///lifecycle.db, not {database_url!r}"
            raise ValueError(msg)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": str(outage.SQLITE_BUSY_TIMEOUT),
        }
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        query = parse_qs(parts.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            # Bounded waits (`outage`); libpq's connect and statement timeouts: `bound_waits`.
            "POSTGRES_CONNECT_TIMEOUT": str(outage.POOL_TIMEOUT),  # the pool's checkout wait
            "POSTGRES_LOCK_TIMEOUT": str(outage.LOCK_TIMEOUT),
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(outage.IDLE_IN_TRANSACTION_TIMEOUT),
            "APPLICATION_RECORDER_TOPIC": "lifecycle.storage.store:BoundedPostgresRecorder",
            "POSTGRES_POOL_SIZE": "2",  # connections opened up front; more on demand
            "POSTGRES_MAX_OVERFLOW": "18",
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    msg = f"unsupported database URL {database_url!r}: use sqlite:///FILE or postgresql://…"
    raise ValueError(msg)


def _bounded(method: Any) -> Any:
    """eventsourcing's PostgreSQL `method`, tried STORE_ATTEMPTS times instead of 10."""
    return retry((InterfaceError, OperationalError), max_attempts=outage.STORE_ATTEMPTS, wait=0.2)(
        method.__wrapped__
    )


class BoundedPostgresRecorder(PostgresApplicationRecorder):
    """The PostgreSQL event store, whose calls give up within a bounded time.

    eventsourcing retries a call that fails on its connection 10 times, each try waiting up
    to the pool's checkout timeout: a write to a stopped database hung for half a minute.
    Three tries still absorb the stale pooled connections a database restart leaves.
    """

    insert_events = _bounded(PostgresApplicationRecorder.insert_events)
    select_events = _bounded(PostgresAggregateRecorder.select_events)
    select_notifications = _bounded(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _bounded(PostgresApplicationRecorder.max_notification_id)


def bound_waits(factory: InfrastructureFactory) -> None:
    """Gives a PostgreSQL store's connections libpq's connect timeout and a statement
    timeout, before it opens any (every store statement is short, a rebuild's too: it reads
    the log in pages). SQLite's store: nothing to do (its busy timeout is in the env)."""
    if not isinstance(factory, PostgresFactory):
        return
    datastore: PostgresDatastore = factory.datastore
    kwargs = datastore.pool.kwargs
    assert isinstance(kwargs, dict)
    kwargs["connect_timeout"] = outage.CONNECT_TIMEOUT
    kwargs["options"] = f"-c statement_timeout={outage.STATEMENT_TIMEOUT * 1000}"


class _FlushedLaterPool(SQLiteConnectionPool):
    """The store's SQLite connections, whose commits do not wait for the disk
    (`synchronous=NORMAL`): `LeadLedger.save` waits for it after the write lock is released."""

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        connection.cursor().execute("PRAGMA synchronous=NORMAL")
        return connection

    def discard(self) -> bool:
        """Closes the idle connections now and those in use when they come back
        (`locks.WriteGate.faulted`); False once the pool is closed."""
        if self.closed:
            return False
        with self._put_condition:
            while self._pool:
                self._pool.popleft().close()
            for connection in self._in_use.values():
                connection._closing.set()  # put_connection closes it instead of keeping it
        return True


def flush_after_commit(factory: InfrastructureFactory) -> Path | None:
    """Makes a SQLite store's commits leave the flush to the disk to `flush_log`; returns the
    database file, or None (and changes nothing) for PostgreSQL or an in-memory database.

    With `synchronous=FULL` each commit flushes SQLite's write-ahead log while it holds the
    database's one write lock, so every other writer queues behind the disk, and a slow
    flush (a shared disk stalls for tens of milliseconds at times) holds them all. With
    `NORMAL` the commit only writes the log; the writer then flushes it with `flush_log`
    after releasing the lock, before it reports success, so what it reports is as durable
    as before, while another process's commit proceeds and one flush covers both.
    """
    if not isinstance(factory, SQLiteFactory):
        return None
    pool = factory.datastore.pool
    database = sqlite_file(pool.db_name)
    if database is None:
        return None
    flushed = _FlushedLaterPool(db_name=pool.db_name, lock_timeout=pool.lock_timeout)
    factory.datastore.pool = flushed
    pool.close()  # it has opened no connection yet
    gate = write_gate(str(database))
    if gate is not None:
        gate.on_fault(_weakly(flushed))
    return database


def _weakly(pool: _FlushedLaterPool) -> Callable[[], bool]:
    """`pool.discard`, without keeping the pool alive."""
    ref = weakref.ref(pool)

    def discard() -> bool:
        found = ref()
        return found.discard() if found is not None else False

    return discard


def flush_log(database: Path) -> None:
    """Returns once everything committed to the SQLite file `database` is on the disk.

    In WAL mode what a commit wrote is in `<database>-wal` until a checkpoint copies it into
    the database file, and SQLite flushes the log before every checkpoint and the database
    after it (even with `synchronous=NORMAL`). So flushing the log suffices; with no log
    file, the last connection closed has checkpointed it.
    """
    try:
        descriptor = os.open(f"{database}-wal", os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fdatasync(descriptor)
    finally:
        os.close(descriptor)


PROBE_TABLE = "lifecycle_probe"


def create_probe(recorder: Any) -> None:
    """Creates the one-row table `write_probe` writes, beside the recorder's events."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (id INTEGER PRIMARY KEY, at TEXT)"
            )
    elif isinstance(recorder, PostgresAggregateRecorder):
        statement = SQL("CREATE TABLE IF NOT EXISTS {}.{} (id integer PRIMARY KEY, at text)")
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                statement.format(Identifier(recorder.datastore.schema), Identifier(PROBE_TABLE))
            )


def write_probe(recorder: Any, now: datetime) -> None:
    """Writes the probe row (`now`) in a transaction of the recorder's own, as an append
    writes."""
    at = now.isoformat()
    if isinstance(recorder, SQLiteAggregateRecorder):
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"INSERT OR REPLACE INTO {PROBE_TABLE} (id, at) VALUES (1, ?)", (at,))
    elif isinstance(recorder, PostgresAggregateRecorder):
        statement = SQL(
            "INSERT INTO {}.{} (id, at) VALUES (1, %s) ON CONFLICT (id) DO UPDATE SET at = %s"
        ).format(Identifier(recorder.datastore.schema), Identifier(PROBE_TABLE))
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(statement, (at, at))


def select_events_many(recorder: Any, ids: list[UUID]) -> dict[UUID, list[StoredEvent]]:
    """The stored events of many aggregates in one query, by id (missing ids are absent).

    eventsourcing reads one aggregate per query; a bulk import touching a thousand leads would
    pay a thousand round trips. This reads the recorder's own table in one go.
    """
    if not ids:
        return {}
    if isinstance(recorder, SQLiteAggregateRecorder):
        rows = _select_sqlite(recorder, ids)
    elif isinstance(recorder, PostgresAggregateRecorder):
        rows = _select_postgres(recorder, ids)
    else:  # pragma: no cover - only the two engines are configured
        msg = f"bulk reads are not supported by {type(recorder).__name__}"
        raise TypeError(msg)
    found: dict[UUID, list[StoredEvent]] = {}
    for originator_id, version, topic, state in rows:
        key = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        found.setdefault(key, []).append(StoredEvent(key, version, topic, bytes(state)))
    return found


def _select_sqlite(recorder: SQLiteAggregateRecorder, ids: list[UUID]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        statement = (
            "SELECT originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
            "ORDER BY originator_id, originator_version"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [uuid.hex for uuid in part])
            rows.extend(cursor.fetchall())
    return rows


def _select_postgres(recorder: PostgresAggregateRecorder, ids: list[UUID]) -> list[Any]:
    statement = SQL(
        "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
        "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
    ).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(statement, [ids])
        return [
            (r["originator_id"], r["originator_version"], r["topic"], r["state"])
            for r in cursor.fetchall()
        ]
