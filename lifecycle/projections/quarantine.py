"""Quarantine: the leads a projection could not apply, set aside so that everything else goes on.

A batch is one transaction. When it fails because of an event that will never apply (a stored
event that no longer decodes, a value the database refuses — PostgreSQL text cannot hold NUL —
or a bug in a projection), retrying cannot help. The runner then redoes the batch projection by
projection, each try inside a savepoint, halving the events of a failing try until the failing
event is alone (`settle`), and records that event's lead here in the transaction that moves the
projection's position past the batch. From then on the projection skips every event of the
lead: its rows stay as they were just before the failing event, never half-updated by later
ones, and the reports read from the projection carry a warning. Other leads and other
projections go on. The isolation runs only after a batch failed: healthy batches pay one read
of this (empty) table.

A failure of the database itself (`transient`: connection lost, timeout, lock, disk full) is
never a reason to quarantine: the batch fails as a whole and is retried later.

`lifecycle projections rebuild NAME` empties the projection's quarantine with its tables and
tries the leads again: once the cause is fixed (the code, or the stored row), they apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, MetaData, PrimaryKeyConstraint, String, Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..storage.log_reader import driver_cursor
from .base import micros, moment, position_column, time_column

if TYPE_CHECKING:
    from .protocol import Envelope, Projection

MESSAGE_CHARS = 200

quarantine = Table(
    "projection_quarantine",
    MetaData(),
    Column("projection", String(100), nullable=False),
    Column("lead_id", String(36), nullable=False),
    position_column(),  # the event that failed
    Column("event_type", String(100), nullable=False),
    Column("error", String(100), nullable=False),  # the exception's class
    Column("message", String(MESSAGE_CHARS), nullable=False),
    time_column("recorded_at", nullable=False),
    PrimaryKeyConstraint("projection", "lead_id"),
)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """One lead a projection skips: the event that failed and why."""

    projection: str
    lead_id: str
    position: int
    event_type: str
    error: str
    message: str
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["recorded_at"] = self.recorded_at.isoformat().replace("+00:00", "Z")
        return values


def leads(conn: Connection, names: Iterable[str]) -> dict[str, set[str]]:
    """The quarantined leads of each named projection (only those that have any)."""
    wanted = set(names)
    found: dict[str, set[str]] = {}
    with driver_cursor(conn) as cursor:
        cursor.execute("SELECT projection, lead_id FROM projection_quarantine")
        for name, lead_id in cursor.fetchall():
            if name in wanted:
                found.setdefault(str(name), set()).add(str(lead_id))
    return found


def entries(conn: Connection, name: str | None = None) -> list[Quarantined]:
    """The quarantine of one projection (or all), in log order."""
    query = quarantine.select().order_by(quarantine.c.position, quarantine.c.projection)
    if name is not None:
        query = query.where(quarantine.c.projection == name)
    return [
        Quarantined(**{**row._asdict(), "recorded_at": moment(row.recorded_at)})
        for row in conn.execute(query)
    ]


def record(conn: Connection, found: Iterable[Quarantined]) -> None:
    rows = [{**asdict(each), "recorded_at": micros(each.recorded_at)} for each in found]
    if not rows:
        return
    insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(quarantine).on_conflict_do_nothing(), rows)


def clear(conn: Connection, name: str) -> None:
    conn.execute(quarantine.delete().where(quarantine.c.projection == name))


def transient(error: BaseException) -> bool:
    """Whether `error` is the database's or the machine's, not the event's: then the batch is
    retried as a whole, and nothing is quarantined.

    DB-API drivers (psycopg, sqlite3) name these `OperationalError` (connection lost, timeouts,
    locks, serialization failures, disk full, a missing table) and `InterfaceError`.
    """
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    causes = (error, error.orig) if isinstance(error, DBAPIError) else (error,)
    return any(
        isinstance(cause, PoolTimeout | MemoryError | ConnectionError | TimeoutError)
        or any(cls.__name__ in _TRANSIENT for cls in type(cause).__mro__)
        for cause in causes
    )


_TRANSIENT = frozenset({"OperationalError", "InterfaceError", "DisconnectionError"})
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\([^)]*\)=\([^)]*\)")


def describe(error: BaseException) -> tuple[str, str]:
    """(class name, short message) of an error: the driver's first line, without SQL, bound
    parameters or quoted values (which could hold personal data), at most 200 characters."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = _QUOTED.sub("…", text)
    return type(error).__name__, text[:MESSAGE_CHARS]


Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Broken:
    """A stored event that did not decode."""

    position: int
    lead_id: str
    event_type: str
    error: BaseException


def settle(
    conn: Connection,
    projection: Projection,
    events: Sequence[Envelope],
    poisoned: dict[str, Quarantined],
    clock: Clock,
) -> int:
    """Applies `events` in order, each try in a savepoint, isolating the events that fail by
    halving: each one's lead goes into `poisoned`, and its later events are skipped. Returns
    the events applied. A `transient` error propagates (the caller's transaction fails)."""
    chunk = [e for e in events if not _after_poison(e, poisoned)]
    if not chunk:
        return 0
    try:
        with conn.begin_nested():
            projection.apply(conn, chunk)
        return len(chunk)
    except Exception as error:
        if transient(error):
            raise
        if len(chunk) == 1:
            (event,) = chunk
            kind, message = describe(error)
            poisoned[event.lead_id] = Quarantined(
                projection.name, event.lead_id, event.position, event.event.TYPE, kind,
                message, clock(),
            )  # fmt: skip
            return 0
    middle = len(chunk) // 2
    return settle(conn, projection, chunk[:middle], poisoned, clock) + settle(
        conn, projection, chunk[middle:], poisoned, clock
    )


def _after_poison(envelope: Envelope, poisoned: dict[str, Quarantined]) -> bool:
    found = poisoned.get(envelope.lead_id)
    return found is not None and envelope.position >= found.position


def warnings(conn: Connection, names: Sequence[str]) -> list[dict[str, Any]]:
    """What a report read from the projections `names` must say about their quarantines:
    one `projection_quarantine` warning per projection that skips leads (none when healthy)."""
    counts: dict[str, int] = {}
    with driver_cursor(conn) as cursor:
        cursor.execute("SELECT projection, count(*) FROM projection_quarantine GROUP BY projection")
        for name, count in cursor.fetchall():
            counts[str(name)] = int(count)
    return [
        {
            "code": "projection_quarantine",
            "projection": name,
            "leads": counts[name],
            "message": f"{counts[name]} lead(s) could not be applied to the {name} read model "
            "and are counted as they were before the event that failed: this report is "
            "incomplete (see `lifecycle projections status`)",
        }
        for name in names
        if counts.get(name)
    ]
