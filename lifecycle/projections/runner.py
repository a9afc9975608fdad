"""Runs read-model projections over the global, ordered notification log.

Each projection reads the log in batches after its recorded position, updates its tables and
its position in ONE transaction: a crash at any point leaves the rows and the position in
step, so every event is applied exactly once and catch-up resumes where it stopped. Runners
for the same projection serialize on the position row (SELECT … FOR UPDATE on PostgreSQL, a
write lock from BEGIN on SQLite), so several processes can run side by side safely.

Speed: projections that stand at the same position share one read and one decode of each
batch (rebuilding every read model costs one pass over the log, not one per model), and the
log is read with plain SQL on the runner's own connection when the events live in the same
database (the recorder's `select_notifications` builds a `Notification` and parses a UUID
per row, which costs more than decoding the event). Lead ids are parsed once per batch.

The runner only schedules; the jobs are beside it: the position rows (`positions.py`), one
batch and its transaction (`batches.py`, with `tuning.py`), the batch's events read and
decoded (`feed.py`, over `storage.log_reader`), and rebuilds, split or not (`rebuilds.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine, Table, inspect, select
from sqlalchemy.engine import Inspector

from ..storage.db import reading
from . import positions, quarantine, rebuilds
from .batches import Batches
from .feed import Feed
from .partitions import Partition
from .positions import rows_of
from .protocol import Projection

# `status()` counts the events a projection still has to apply up to this many.
LAG_LIMIT = 1_000_000

Progress = Callable[[int, int], None]  # (position reached, head position)


class ProjectionRunner:
    """Keeps projections up to date with the log (`catch_up`) and replays them (`rebuild`).

    `batch_size` bounds how long a live batch holds SQLite's single write lock (the service
    appends events meanwhile); a rebuild uses `rebuild_batch_size`, larger, because fewer
    commits and fewer lookups of each lead's row are most of what makes a replay fast.

    A rebuild can also be shared among processes by lead (`split`, `catch_up_partition` in
    each process, `join`): while a projection is split its own position is minus the number of
    partitions, each partition has a position row of its own, and ordinary batches leave the
    projection alone. `join` (which `catch_up` runs first) replays what the partitions still
    miss and makes them one position again, so a split interrupted at any point is finished
    by the next catch-up.
    """

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[Any], engine: Engine,
                 projections: Sequence[Projection], *, clock: Callable[[], datetime],
                 batch_size: int = 2000, rebuild_batch_size: int = 50_000) -> None:  # fmt: skip
        self.recorder = recorder
        self.clock = clock  # when a lead is set aside (`quarantine`)
        self.mapper = mapper
        self.engine = engine
        self.projections = {projection.name: projection for projection in projections}
        self.batch_size = batch_size
        self.rebuild_batch_size = max(batch_size, rebuild_batch_size)
        self._feed = Feed(recorder, mapper, engine)
        self._batches = Batches(engine, self._feed, clock)

    def create_tables(self) -> None:
        """Creates missing tables. A projection whose tables exist with other columns, or
        only some of whose tables exist (an older release: a table was added), gets fresh
        tables and position 0: it rebuilds on its next catch-up."""
        with self.engine.begin() as conn:
            positions.positions.create(conn, checkfirst=True)
            quarantine.quarantine.create(conn, checkfirst=True)
            existing = inspect(conn)
            for projection in self.projections.values():
                if _outdated_tables(existing, projection.tables()):
                    for table in reversed(projection.tables()):
                        table.drop(conn, checkfirst=True)
                    conn.execute(positions.positions.delete().where(rows_of(projection.name)))
                    quarantine.clear(conn, projection.name)
                for table in projection.tables():
                    table.create(conn, checkfirst=True)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics of the events the projections apply (lead events)."""
        return self._feed.topics

    def position(self, name: str) -> int:
        """A projection's position: minus its number of partitions while it is split."""
        table = positions.positions
        with reading(self.engine) as conn:
            value = conn.scalar(select(table.c.position).where(table.c.name == name))
        return int(value or 0)

    def reached(self, names: Sequence[str]) -> int:
        """How far every one of the projections has got (a split one: its slowest partition)."""
        with reading(self.engine) as conn:
            found = positions.stored(conn)
        return min((positions.reached(found, name)[0] for name in names), default=0)

    def quarantine(self, name: str | None = None) -> list[dict[str, Any]]:
        """The quarantined leads of one projection (or all), in log order, as plain data."""
        with reading(self.engine) as conn:
            return [each.as_dict() for each in quarantine.entries(conn, name)]

    def status(self) -> dict[str, Any]:
        """Each projection's position, lag and quarantine, as `lifecycle projections status
        --json` prints it: `{"head", "projections": [{"name", "position", "lag",
        "partitions", "quarantined", "quarantine": [...]}]}`. A split projection's position
        is its slowest partition's; `lag` counts the lead events after the position (at most
        `LAG_LIMIT`)."""
        with reading(self.engine) as conn:
            found = positions.stored(conn)
            held = quarantine.entries(conn)
            head = self._feed.head(conn)
            projections = []
            for name in self.projections:
                own, partitions = positions.reached(found, name)
                entries = [each.as_dict() for each in held if each.projection == name]
                projections.append({
                    "name": name, "position": own, "lag": self._lag(conn, own, head),
                    "partitions": partitions, "quarantined": len(entries), "quarantine": entries,
                })  # fmt: skip
        return {"head": head, "projections": projections}

    def _lag(self, conn: Connection, position: int, head: int) -> int:
        if self._feed.log is None:
            return max(0, head - position)
        return self._feed.log.count(conn, position, LAG_LIMIT)

    def catch_up(self, name: str | None = None, progress: Progress | None = None) -> int:
        """Applies every event recorded so far; returns how many were applied (summed over
        the projections). Finishes the selected projections' split rebuilds first."""
        selected = self._selected(name)
        joined = self.join([projection.name for projection in selected], progress)
        return joined + self._catch_up(selected, progress, self.batch_size)

    def _catch_up(self, selected: list[Projection], progress: Progress | None, limit: int,
                  partition: Partition | None = None, stop: int | None = None) -> int:  # fmt: skip
        head = self.head()
        total = 0
        while True:
            applied, reached, moved = self._batches.run(selected, limit, partition, stop)
            if not moved:
                return total
            total += applied
            if progress:
                progress(reached, max(head, reached))

    def run_batch(self, projection: Projection) -> int:
        """Applies the next batch in one transaction; 0 when the projection is at the head."""
        return self._batches.run([projection], self.batch_size)[0]

    def rebuild(
        self, name: str | Sequence[str] | None = None, progress: Progress | None = None
    ) -> int:
        """Empties the named projections (or all) and replays the log from position 0."""
        self.reset(name)
        return self._catch_up(self._selected(name), progress, self.rebuild_batch_size)

    def reset(self, name: str | Sequence[str] | None = None) -> None:
        """Empties the named projections (or all) and sets their positions to 0."""
        rebuilds.restart(self.engine, self._selected(name), partitions=1)

    def split(self, name: str | Sequence[str] | None, count: int) -> None:
        """Empties the named projections (or all) for a rebuild in `count` partitions: each
        partition starts at position 0, and ordinary batches leave the projections alone
        until `join`."""
        Partition(0, count)  # validates the count
        rebuilds.restart(self.engine, self._selected(name), partitions=count)

    def catch_up_partition(self, name: str | Sequence[str] | None, partition: Partition,
                           progress: Progress | None = None) -> int:  # fmt: skip
        """Replays the log into one partition of split projections (those not split, or
        split another way, are left alone); returns the events applied."""
        selected = self._selected(name)
        return self._catch_up(selected, progress, self.rebuild_batch_size, partition)

    def join(
        self, name: str | Sequence[str] | None = None, progress: Progress | None = None
    ) -> int:
        """Finishes the split rebuilds of the named projections (or all): replays what each
        partition still misses, here, then gives each projection one position again."""
        total = 0
        while splits := rebuilds.splits(self.engine, self._selected(name), self.projections):
            stop = self.head()  # every partition goes this far, then they are merged
            for count, projections in splits.items():
                for index in range(count):
                    partition = Partition(index, count)
                    total += self._catch_up(projections, progress, self.rebuild_batch_size,
                                            partition, stop)  # fmt: skip
                for projection in projections:
                    rebuilds.merge(self.engine, projection.name, count)
        return total

    def _selected(self, name: str | Sequence[str] | None) -> list[Projection]:
        if name is None:
            return list(self.projections.values())
        names = [name] if isinstance(name, str) else name
        return [self.projections[each] for each in names]


def _outdated_tables(existing: Inspector, tables: Sequence[Table]) -> bool:
    present = [existing.has_table(table.name) for table in tables]
    partial = any(present) and not all(present)
    return partial or any(_outdated(existing, table) for table in tables)


def _outdated(existing: Inspector, table: Table) -> bool:
    if not existing.has_table(table.name):
        return False
    columns = {column["name"] for column in existing.get_columns(table.name)}
    return columns != {column.name for column in table.columns}
