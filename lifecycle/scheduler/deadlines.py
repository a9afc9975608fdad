"""The deadlines projection: which timer of which lead falls due when, as a table.

Every lead event carries the full map of the lead's pending deadlines after it (computed once,
by the command that recorded it), so this read model never recomputes a policy: for each lead
touched by a batch it replaces the lead's rows with the map of its latest event. `tick(now)`
reads the rows due by `now`; the index on `due_at` keeps that a range scan however many
deadlines are pending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Dialect,
    Index,
    String,
    Table,
    TypeDecorator,
    Uuid,
)

from ..domain.values import Policy
from ..projections.base import bind_values, prepare_typed
from ..projections.protocol import Envelope, metadata
from ..storage.bulk import delete_where_in

NAME = "deadlines"


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both engines.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so instants are stored as naive
    UTC text (fixed width: ordering by text is ordering by time) and come back marked UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored: {value.isoformat()}")
        instant = value.astimezone(UTC)
        return instant.replace(tzinfo=None) if dialect.name == "sqlite" else instant

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


deadlines = Table(
    NAME,
    metadata,
    Column("lead_id", Uuid, primary_key=True),
    Column("policy", String(32), primary_key=True),
    Column("due_at", UtcDateTime, nullable=False),
    # due_at first: `due_at <= now` is a range scan, and (lead_id, policy) make the order total
    # so a tick can page through the due rows with a keyset.
    Index("deadlines_due_at", "due_at", "lead_id", "policy"),
)


class DeadlinesProjection:
    """Keeps `deadlines` equal to the pending deadlines of each lead's latest event."""

    name = NAME

    def tables(self) -> Sequence[Table]:
        return [deadlines]

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        self.prepare(conn, batch)(conn)

    def prepare(self, conn: Connection, batch: Sequence[Envelope]) -> Callable[[Connection], None]:
        """Replaces the rows of each lead of the batch with the deadlines of its last event.

        The values are converted for the driver here, so that the write (which on SQLite
        holds the lock the service's appends wait for) only passes them on.
        """
        latest = latest_deadlines(envelope.event for envelope in batch)
        leads = bind_values(deadlines.c.lead_id, conn.dialect, latest)
        rows = [row for lead_id, due in latest.items() for row in deadline_rows(lead_id, due)]
        insert = prepare_typed(deadlines, conn.dialect, rows, upsert=False)

        def write(conn: Connection) -> None:
            delete_where_in(conn, deadlines, "lead_id", leads)
            insert(conn)

        return write


def latest_deadlines(events: Iterable[Any]) -> dict[UUID, Mapping[Any, datetime]]:
    """Each lead's deadlines after the last of its events in `events` (the last one wins)."""
    return {event.originator_id: event.deadlines for event in events}


def deadline_rows(lead_id: UUID, due: Mapping[Any, datetime]) -> list[dict[str, Any]]:
    """Table rows for one lead's deadline map (keys are `Policy` or, once decoded, its value)."""
    return [
        {"lead_id": lead_id, "policy": Policy(policy).value, "due_at": due_at}
        for policy, due_at in due.items()
    ]
