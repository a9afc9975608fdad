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

from ..app.activities import TimerDue
from ..app.batch import Batch
from ..app.ledger import LeadLedger
from ..domain.errors import LifecycleError
from ..domain.values import Policy
from ..logs import get_logger
from ..projections.runner import ProjectionRunner
from ..storage.db import reading
from .deadlines import NAME, deadlines

DEFAULT_CHUNK = 200
ACTOR = "scheduler"
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
    parts: TickParts, now: datetime, limit: int | None = None, chunk: int = DEFAULT_CHUNK
) -> int:
    """Fires the timers due by `now` (at most `limit` deadlines, earliest first), as a tick at
    `now` does: `now` chooses the deadlines and is the time the leads are told (their events'
    `recorded_at`). Returns how many timer events were recorded.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"tick needs an aware time, got naive {now.isoformat()}")
    _check_runs_deadlines(parts.runner)
    parts.runner.catch_up(NAME)  # everything recorded so far is in the table
    fired = 0
    after: Due | None = None
    remaining = limit
    engine = parts.runner.engine
    while remaining is None or remaining > 0:
        size = chunk if remaining is None else min(chunk, remaining)
        with _claimed(engine, now, after, size) as rows:
            if not rows:
                break
            fired += fire_chunk(parts.ledger, rows, now)
        after = rows[-1]
        remaining = None if remaining is None else remaining - len(rows)
    parts.runner.catch_up(NAME)  # fired deadlines leave the table
    return fired


def fire_chunk(ledger: LeadLedger, rows: Sequence[Due], now: datetime) -> int:
    """Fires `rows` at `now` in one atomic batch; a row the lead refuses is isolated and skipped.

    On a write conflict the ledger re-runs the whole chunk from fresh state, where the timers
    another writer already recorded are no longer pending: nothing is recorded twice.
    """
    try:
        return ledger.in_batch(lambda batch: _fire_rows(batch, rows, now))
    except LifecycleError as error:
        if len(rows) > 1:
            return sum(fire_chunk(ledger, [row], now) for row in rows)
        row = rows[0]
        log.error("timer_not_fired", lead_id=str(row.lead_id), policy=row.policy.value,
                  due_at=row.due_at.isoformat(), code=error.code, reason=error.message)  # fmt: skip
        return 0


def _fire_rows(batch: Batch, rows: Sequence[Due], now: datetime) -> int:
    """Records each row's `TimerDue` command; counts the timer events recorded (earlier ones
    of the same lead included)."""
    batch.prefetch(row.lead_id for row in rows)  # one read for the chunk, not one per lead
    return sum(
        len(batch.record(None, TimerDue(row.lead_id, row.policy, row.due_at), ACTOR, now).events)
        for row in rows
    )


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
