"""`tick(now)`: fire every timer due by `now` as an ordinary command on its lead.

Timers are data, not jobs (docs/architecture.md). The deadlines projection says what is due;
the lead re-checks each deadline when it fires (`Lead.fire` records only a deadline that is still
pending and due, and its event clears it). So ticking twice, two ticks at once, or a tick after
a crash between firing and the projection catching up all record each timer exactly once, a
stale row records nothing, and a tick after any downtime fires everything that fell due.

Work is done in chunks: the due rows are read in `(due_at, lead_id, policy)` order with a
keyset, and each chunk is fired in one batch saved atomically (one write per chunk, not per
timer). On PostgreSQL the rows of a chunk are locked with `FOR UPDATE SKIP LOCKED` while it is
fired, so concurrent ticks share the work instead of racing for the same leads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import NamedTuple, Protocol
from uuid import UUID

from sqlalchemy import Connection, Engine, Select, select, tuple_

from ..app.ledger import Batch, LeadLedger
from ..domain.errors import LifecycleError
from ..domain.values import Policy
from ..logs import get_logger
from ..projections.runner import ProjectionRunner
from ..storage.db import reading
from .deadlines import NAME, deadlines

DEFAULT_CHUNK = 200
log = get_logger(__name__)


class TickParts(Protocol):
    """What a tick needs; `bootstrap.Services` has it. The runner must run `deadlines`."""

    @property
    def ledger(self) -> LeadLedger: ...

    @property
    def runner(self) -> ProjectionRunner: ...


class Due(NamedTuple):
    """One row of the deadlines table; also the keyset position after it."""

    due_at: datetime
    lead_id: UUID
    policy: Policy


def tick(
    parts: TickParts, due_by: datetime, limit: int | None = None, chunk: int = DEFAULT_CHUNK
) -> int:
    """Fires the timers due by `due_by` (at most `limit` deadlines, earliest first).

    Returns how many timer events were recorded. Two times, each with one meaning: `due_by`
    chooses the deadlines (the sweep passes the clock's now; `tick --now T` an earlier T), and
    the events are recorded at the ledger's clock, as every command's are, so a timer fired
    by an earlier `due_by` is never dated before it was recorded, and one due after the
    ledger's clock does not fire.
    """
    if due_by.tzinfo is None or due_by.utcoffset() is None:
        raise ValueError(f"tick needs an aware time, got naive {due_by.isoformat()}")
    _check_runs_deadlines(parts.runner)
    parts.runner.catch_up(NAME)  # everything recorded so far is in the table
    fired = 0
    after: Due | None = None
    remaining = limit
    engine = parts.runner.engine
    while remaining is None or remaining > 0:
        size = chunk if remaining is None else min(chunk, remaining)
        with _claimed(engine, due_by, after, size) as rows:
            if not rows:
                break
            fired += fire_chunk(parts.ledger, rows)
        after = rows[-1]
        remaining = None if remaining is None else remaining - len(rows)
    parts.runner.catch_up(NAME)  # fired deadlines leave the table
    return fired


def fire_chunk(ledger: LeadLedger, rows: Sequence[Due]) -> int:
    """Fires `rows` in one atomic batch; a row the lead refuses is isolated and skipped.

    On a write conflict the ledger re-runs the whole chunk from fresh state, where the timers
    another writer already recorded are no longer pending: nothing is recorded twice.
    """
    try:
        return ledger.in_batch(lambda batch: _fire_rows(batch, rows))
    except LifecycleError as error:
        if len(rows) > 1:
            return sum(fire_chunk(ledger, [row]) for row in rows)
        row = rows[0]
        log.error("timer_not_fired", lead_id=str(row.lead_id), policy=row.policy.value,
                  due_at=row.due_at.isoformat(), code=error.code, reason=error.message)  # fmt: skip
        return 0


def _fire_rows(batch: Batch, rows: Sequence[Due]) -> int:
    """Fires each row on its lead; counts the timer events recorded (earlier ones included).

    The tick's `due_by` chose the rows; the lead is told the ledger's time, which is when the
    events are recorded (their `recorded_at`) and which a timer must have reached to fire.
    """
    recorded = 0
    recorded_at = batch.ledger.clock()
    batch.prefetch(row.lead_id for row in rows)  # one read for the chunk, not one per lead
    for row in rows:
        lead = batch.lead(row.lead_id)
        before = len(lead.pending_events)
        lead.fire(row.policy, row.due_at, recorded_at)
        recorded += len(lead.pending_events) - before
    return recorded


def due_query(now: datetime, after: Due | None, size: int) -> Select[datetime, UUID, str]:
    """The next `size` due rows after the keyset position `after`, in firing order."""
    columns = (deadlines.c.due_at, deadlines.c.lead_id, deadlines.c.policy)
    query = select(*columns).where(deadlines.c.due_at <= now)
    if after is not None:
        query = query.where(tuple_(*columns) > (after.due_at, after.lead_id, after.policy.value))
    return query.order_by(*columns).limit(size)


@contextmanager
def _claimed(engine: Engine, now: datetime, after: Due | None, size: int) -> Iterator[list[Due]]:
    """The next due rows; on PostgreSQL locked (skipping rows another tick holds) until exit.

    On SQLite the rows are read in a snapshot (`db.reading`), without the write lock the
    ledger needs to record the timers.
    """
    locking = engine.dialect.name == "postgresql"
    with engine.connect() if locking else reading(engine) as conn:
        query = due_query(now, after, size)
        if locking:
            query = query.with_for_update(skip_locked=True)
        rows = _read(conn, query)
        if not locking:
            conn.rollback()
        yield rows
        conn.commit()


def _read(conn: Connection, query: Select[datetime, UUID, str]) -> list[Due]:
    return [Due(due_at, lead_id, Policy(policy)) for due_at, lead_id, policy in conn.execute(query)]


def _check_runs_deadlines(runner: ProjectionRunner) -> None:
    if NAME not in runner.projections:
        raise RuntimeError(
            "the projection runner has no 'deadlines' projection: add DeadlinesProjection() "
            "to bootstrap.projections()"
        )
