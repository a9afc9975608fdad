"""One batch of the log applied to projections, in one transaction: the events after their
positions, the rows they change and the positions moved together (`run`).

Projections that stand at the same position share one read and one decode of the batch. On
SQLite a batch is computed outside the write lock (`_optimistic`); a batch that fails is
redone isolating the events that cannot be applied, whose leads are quarantined
(`_isolating`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Engine

from ..logs import get_logger
from ..storage.bulk import tune_sqlite
from . import positions, quarantine
from .feed import Feed
from .partitions import Partition
from .protocol import Envelope, Preparing, Projection
from .quarantine import Quarantined, transient
from .tuning import no_cyclic_gc

log = get_logger("lifecycle.projections.runner")  # the runner's log, as before the split
# What a batch reads first: usable positions, its start, its events, its end, set-aside leads.
_Read = tuple[dict[str, int], int, list[Envelope], int, dict[str, set[str]]]


class Batches:
    def __init__(self, engine: Engine, feed: Feed, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.feed = feed
        self.clock = clock  # when a lead is set aside (`quarantine`)

    def run(self, projections: Sequence[Projection], limit: int,
            partition: Partition | None = None,
            stop: int | None = None) -> tuple[int, int, bool]:  # fmt: skip
        """One batch for every projection, in one transaction: (events applied, position
        reached, whether any position moved).

        SQLite has one write lock for the whole file, which the service's appends need too.
        So there a batch is first computed in a read transaction (a snapshot of the positions,
        the log and the rows it needs, without the lock) and the lock is taken only to write:
        the positions are checked to be where the batch was computed from, and rows and
        positions are written in one transaction. If another runner moved one meanwhile,
        nothing is written and the batch is redone holding the lock, so a runner always makes
        progress. PostgreSQL locks only the position rows, and computes in the transaction.

        With a `partition`, the batch holds that partition's events up to `stop` (default:
        the head) and moves the partition's positions; without, split projections are skipped.
        """
        with no_cyclic_gc():
            try:
                return self._once(projections, limit, partition, stop)
            except Exception as error:
                if transient(error):
                    raise
            # An event that cannot be applied: redo the batch isolating it (`quarantine`).
            return self._isolating(projections, limit, partition, stop)

    def _once(self, projections: Sequence[Projection], limit: int, partition: Partition | None,
              stop: int | None) -> tuple[int, int, bool]:  # fmt: skip
        if self.engine.dialect.name == "sqlite" and all(
            isinstance(projection, Preparing) for projection in projections
        ):
            batch = cast(Sequence[Preparing], projections)
            done = self._optimistic(batch, limit, partition, stop)
            if done is not None:
                return done
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                tune_sqlite(conn)
            with conn.begin():
                return self._apply(conn, projections, limit, partition, stop)

    def _optimistic(self, projections: Sequence[Preparing], limit: int,
                    partition: Partition | None,
                    stop: int | None) -> tuple[int, int, bool] | None:  # fmt: skip
        """A SQLite batch computed outside the write lock; None if a position moved meanwhile."""
        keyed = positions.keyed(projections, partition)
        with self.engine.connect() as conn:
            tune_sqlite(conn)
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("BEGIN")  # deferred: a snapshot, and no write lock
            try:
                found = {key: positions.read(conn, key) for key, _ in keyed}
                read = self._read(conn, keyed, found, limit, partition, stop)
                if read is None:
                    return 0, 0, False
                reached, start, batch, last, skip = read
                writes = [
                    (key, projection.prepare(conn, part), len(part))
                    for key, projection in keyed
                    if key in reached and reached[key] < last
                    for part in [_without(_after(batch, reached[key]), skip.get(projection.name))]
                ]
            finally:
                driver.execute("ROLLBACK")
            if not writes:
                return 0, start, False
            with conn.begin():
                for key in reached:  # in key order, like every runner
                    if positions.locked(conn, key, create=partition is None) != reached[key]:
                        return None
                for key, write, count in writes:
                    if count:
                        write(conn)
                    positions.move(conn, key, last)
            return sum(count for _, _, count in writes), last, True

    def _isolating(self, projections: Sequence[Projection], limit: int,
                   partition: Partition | None,
                   stop: int | None) -> tuple[int, int, bool]:  # fmt: skip
        """`_apply` for a batch that failed: each projection's part is applied inside
        savepoints, the events that fail (or do not decode) are isolated and their leads
        quarantined for that projection (`quarantine`), in the transaction that moves the
        positions. Logs one line per newly quarantined lead, once committed."""
        found: list[Quarantined] = []
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                tune_sqlite(conn)
            with conn.begin():
                keyed = positions.keyed(projections, partition)
                locked = {
                    key: positions.locked(conn, key, create=partition is None) for key, _ in keyed
                }
                reached = positions.usable(locked, partition)
                if not reached:
                    return 0, 0, False
                start = min(reached.values())
                rows, last = self.feed.read_rows(conn, start, limit, partition, stop)
                batch, broken = self.feed.decoded_apart(rows)
                skip = quarantine.leads(conn, (projection.name for _, projection in keyed))
                applied, moved = 0, False
                for key, projection in keyed:
                    if key not in reached or reached[key] >= last:
                        continue
                    skipped = skip.get(projection.name, set())
                    poisoned = {
                        each.lead_id: Quarantined(
                            projection.name, each.lead_id, each.position, each.event_type,
                            *quarantine.describe(each.error), self.clock(),
                        )
                        for each in reversed(broken)  # the earliest of a lead wins
                        if each.position > reached[key] and each.lead_id not in skipped
                    }  # fmt: skip
                    part = _without(_after(batch, reached[key]), skipped)
                    applied += quarantine.settle(conn, projection, part, poisoned, self.clock)
                    quarantine.record(conn, poisoned.values())
                    found += poisoned.values()
                    positions.move(conn, key, last)
                    moved = True
        for each in found:
            log.error("projection_quarantined", projection=each.projection, lead_id=each.lead_id,
                      position=each.position, event_type=each.event_type,
                      error=each.error)  # fmt: skip
        return applied, last, moved

    def _apply(self, conn: Connection, projections: Sequence[Projection], limit: int,
               partition: Partition | None,
               stop: int | None) -> tuple[int, int, bool]:  # fmt: skip
        # Lock in key order, so that two runners never wait on each other in a cycle.
        keyed = positions.keyed(projections, partition)
        found = {key: positions.locked(conn, key, create=partition is None) for key, _ in keyed}
        read = self._read(conn, keyed, found, limit, partition, stop)
        if read is None:
            return 0, 0, False
        reached, _, batch, last, skip = read
        applied, moved = 0, False
        for key, projection in keyed:
            if key not in reached or reached[key] >= last:
                continue
            part = _without(_after(batch, reached[key]), skip.get(projection.name))
            if part:
                projection.apply(conn, part)
            positions.move(conn, key, last)
            applied, moved = applied + len(part), True
        return applied, last, moved

    def _read(self, conn: Connection, keyed: Sequence[tuple[str, Projection]],
              found: dict[str, int | None], limit: int, partition: Partition | None,
              stop: int | None) -> _Read | None:  # fmt: skip
        """From the positions `found`: those usable, where the batch starts, its events, its
        last position and the leads each projection has set aside; None if none is usable."""
        reached = positions.usable(found, partition)
        if not reached:
            return None
        start = min(reached.values())
        batch, last = self.feed.read(conn, start, limit, partition, stop)
        skip = quarantine.leads(conn, (projection.name for _, projection in keyed))
        return reached, start, batch, last, skip


def _without(part: list[Envelope], leads: set[str] | None) -> list[Envelope]:
    """`part` without the events of quarantined `leads`."""
    return [envelope for envelope in part if envelope.lead_id not in leads] if leads else part


def _after(batch: list[Envelope], start: int) -> list[Envelope]:
    if not batch or start < batch[0].position:
        return batch
    return [envelope for envelope in batch if envelope.position > start]
