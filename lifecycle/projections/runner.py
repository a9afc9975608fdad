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
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    String,
    Table,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Inspector

from ..domain.lead import Lead
from ..logs import get_logger
from ..storage.db import reading
from ..storage.log_reader import LogTable, driver_cursor
from . import quarantine
from .base import marker
from .decoding import EventDecoder
from .partitions import SPLIT, Partition
from .protocol import Envelope, Preparing, Projection, metadata
from .quarantine import Broken, Quarantined, transient

LEAD_TOPIC_PREFIX = "lifecycle:Lead."
SQLITE_CACHE_KIB = 65536
# `status()` counts the events a projection still has to apply up to this many.
LAG_LIMIT = 1_000_000
log = get_logger(__name__)

positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)


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
        self._topics = tuple(f"{LEAD_TOPIC_PREFIX}{cls.__name__}" for cls in _lead_event_classes())
        self._log = LogTable.of(recorder, engine, self._topics)
        self._decoder = EventDecoder(mapper)

    def create_tables(self) -> None:
        """Creates missing tables. A projection whose tables exist with other columns (an
        older release) gets fresh tables and position 0: it rebuilds on its next catch-up."""
        with self.engine.begin() as conn:
            positions.create(conn, checkfirst=True)
            quarantine.quarantine.create(conn, checkfirst=True)
            existing = inspect(conn)
            for projection in self.projections.values():
                if any(_outdated(existing, table) for table in projection.tables()):
                    for table in reversed(projection.tables()):
                        table.drop(conn, checkfirst=True)
                    conn.execute(positions.delete().where(_rows_of(projection.name)))
                    quarantine.clear(conn, projection.name)
                for table in projection.tables():
                    table.create(conn, checkfirst=True)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics of the events the projections apply (lead events)."""
        return self._topics

    def position(self, name: str) -> int:
        """A projection's position: minus its number of partitions while it is split."""
        with reading(self.engine) as conn:
            value = conn.scalar(select(positions.c.position).where(positions.c.name == name))
        return int(value or 0)

    def reached(self, names: Sequence[str]) -> int:
        """How far every one of the projections has got (a split one: its slowest partition)."""
        with reading(self.engine) as conn:
            rows = conn.execute(select(positions.c.name, positions.c.position)).all()
        found = {str(name): int(position) for name, position in rows}
        reached = []
        for name in names:
            own = found.get(name, 0)
            if own < 0:
                own = min(found.get(key, 0) for key in Partition.keys(name, -own))
            reached.append(own)
        return min(reached, default=0)

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
            rows = conn.execute(select(positions.c.name, positions.c.position)).all()
            found = {str(name): int(position) for name, position in rows}
            held = quarantine.entries(conn)
            head = self._head(conn)
            projections = []
            for name in self.projections:
                own = found.get(name, 0)
                partitions = -own if own < 0 else 1
                if own < 0:
                    own = min(found.get(key, 0) for key in Partition.keys(name, partitions))
                entries = [each.as_dict() for each in held if each.projection == name]
                projections.append({
                    "name": name, "position": own, "lag": self._lag(conn, own, head),
                    "partitions": partitions, "quarantined": len(entries), "quarantine": entries,
                })  # fmt: skip
        return {"head": head, "projections": projections}

    def _lag(self, conn: Connection, position: int, head: int) -> int:
        if self._log is None:
            return max(0, head - position)
        return self._log.count(conn, position, LAG_LIMIT)

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
            applied, reached, moved = self._run_batch(selected, limit, partition, stop)
            if not moved:
                return total
            total += applied
            if progress:
                progress(reached, max(head, reached))

    def run_batch(self, projection: Projection) -> int:
        """Applies the next batch in one transaction; 0 when the projection is at the head."""
        return self._run_batch([projection], self.batch_size)[0]

    def rebuild(
        self, name: str | Sequence[str] | None = None, progress: Progress | None = None
    ) -> int:
        """Empties the named projections (or all) and replays the log from position 0."""
        self.reset(name)
        return self._catch_up(self._selected(name), progress, self.rebuild_batch_size)

    def reset(self, name: str | Sequence[str] | None = None) -> None:
        """Empties the named projections (or all) and sets their positions to 0."""
        self._restart(self._selected(name), partitions=1)

    def split(self, name: str | Sequence[str] | None, count: int) -> None:
        """Empties the named projections (or all) for a rebuild in `count` partitions: each
        partition starts at position 0, and ordinary batches leave the projections alone
        until `join`."""
        Partition(0, count)  # validates the count
        self._restart(self._selected(name), partitions=count)

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
        while splits := self._splits(self._selected(name)):
            stop = self.head()  # every partition goes this far, then they are merged
            for count, projections in splits.items():
                for index in range(count):
                    partition = Partition(index, count)
                    total += self._catch_up(projections, progress, self.rebuild_batch_size,
                                            partition, stop)  # fmt: skip
                for projection in projections:
                    self._merge(projection.name, count)
        return total

    # ----------------------------------------------------------------- helpers
    def _selected(self, name: str | Sequence[str] | None) -> list[Projection]:
        if name is None:
            return list(self.projections.values())
        names = [name] if isinstance(name, str) else name
        return [self.projections[each] for each in names]

    def _restart(self, projections: Sequence[Projection], partitions: int) -> None:
        """Empties each projection, in a transaction of its own, at position 0 (or split)."""
        for projection in projections:
            with self.engine.begin() as conn:
                self._locked_position(conn, projection.name)
                for table in reversed(projection.tables()):
                    conn.execute(table.delete())
                conn.execute(positions.delete().where(_partition_rows_of(projection.name)))
                quarantine.clear(conn, projection.name)  # its leads are tried again
                split = partitions > 1
                _set_position(conn, projection.name, -partitions if split else 0)
                if split:
                    keys = Partition.keys(projection.name, partitions)
                    conn.execute(positions.insert(), [{"name": k, "position": 0} for k in keys])

    def _splits(self, projections: Sequence[Projection]) -> dict[int, list[Projection]]:
        """The split projections among `projections`, by number of partitions."""
        names = [projection.name for projection in projections]
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(positions.c.name, positions.c.position).where(
                    positions.c.name.in_(names), positions.c.position < 0
                )
            ).all()
        splits: dict[int, list[Projection]] = {}
        for name, position in rows:
            splits.setdefault(-int(position), []).append(self.projections[str(name)])
        return splits

    def _merge(self, name: str, count: int) -> None:
        """Gives a split projection one position again if all its partitions reached the
        same one, in one transaction (else `join` goes round again; nothing to do if another
        runner merged it)."""
        keys = Partition.keys(name, count)
        with self.engine.begin() as conn:
            if self._locked_position(conn, name) != -count:
                return
            reached = {self._locked_position(conn, key, create=False) for key in keys}
            (position, *others) = reached
            if others or position is None:
                return
            conn.execute(positions.delete().where(positions.c.name.in_(keys)))
            _set_position(conn, name, position)

    def _run_batch(self, projections: Sequence[Projection], limit: int,
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
        with _no_cyclic_gc():
            try:
                return self._batch(projections, limit, partition, stop)
            except Exception as error:
                if transient(error):
                    raise
            # An event that cannot be applied: redo the batch isolating it (`quarantine`).
            return self._isolating_batch(projections, limit, partition, stop)

    def _batch(self, projections: Sequence[Projection], limit: int, partition: Partition | None,
               stop: int | None) -> tuple[int, int, bool]:  # fmt: skip
        if self.engine.dialect.name == "sqlite" and all(
            isinstance(projection, Preparing) for projection in projections
        ):
            batch = cast(Sequence[Preparing], projections)
            done = self._optimistic_batch(batch, limit, partition, stop)
            if done is not None:
                return done
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                _tune_sqlite(conn)
            with conn.begin():
                return self._apply_batch(conn, projections, limit, partition, stop)

    def _optimistic_batch(self, projections: Sequence[Preparing], limit: int,
                          partition: Partition | None,
                          stop: int | None) -> tuple[int, int, bool] | None:  # fmt: skip
        """A SQLite batch computed outside the write lock; None if a position moved meanwhile."""
        keyed = _keyed(projections, partition)
        with self.engine.connect() as conn:
            _tune_sqlite(conn)
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("BEGIN")  # deferred: a snapshot, and no write lock
            try:
                reached = _usable({key: _read_position(conn, key) for key, _ in keyed}, partition)
                if not reached:
                    return 0, 0, False
                start = min(reached.values())
                batch, last = self._read(conn, start, limit, partition, stop)
                skip = quarantine.leads(conn, (projection.name for _, projection in keyed))
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
                    if self._locked_position(conn, key, create=partition is None) != reached[key]:
                        return None
                for key, write, count in writes:
                    if count:
                        write(conn)
                    _set_position(conn, key, last)
            return sum(count for _, _, count in writes), last, True

    def _isolating_batch(self, projections: Sequence[Projection], limit: int,
                         partition: Partition | None,
                         stop: int | None) -> tuple[int, int, bool]:  # fmt: skip
        """`_apply_batch` for a batch that failed: each projection's part is applied inside
        savepoints, the events that fail (or do not decode) are isolated and their leads
        quarantined for that projection (`quarantine`), in the transaction that moves the
        positions. Logs one line per newly quarantined lead, once committed."""
        found: list[Quarantined] = []
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                _tune_sqlite(conn)
            with conn.begin():
                keyed = _keyed(projections, partition)
                locked = {
                    key: self._locked_position(conn, key, create=partition is None)
                    for key, _ in keyed
                }
                reached = _usable(locked, partition)
                if not reached:
                    return 0, 0, False
                start = min(reached.values())
                rows, last = self._read_rows(conn, start, limit, partition, stop)
                batch, broken = self._decoded_apart(rows)
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
                    _set_position(conn, key, last)
                    moved = True
        for each in found:
            log.error("projection_quarantined", projection=each.projection, lead_id=each.lead_id,
                      position=each.position, event_type=each.event_type,
                      error=each.error)  # fmt: skip
        return applied, last, moved

    def _apply_batch(self, conn: Connection, projections: Sequence[Projection], limit: int,
                     partition: Partition | None,
                     stop: int | None) -> tuple[int, int, bool]:  # fmt: skip
        # Lock in key order, so that two runners never wait on each other in a cycle.
        keyed = _keyed(projections, partition)
        found = {
            key: self._locked_position(conn, key, create=partition is None) for key, _ in keyed
        }
        reached = _usable(found, partition)
        if not reached:
            return 0, 0, False
        start = min(reached.values())
        batch, last = self._read(conn, start, limit, partition, stop)
        skip = quarantine.leads(conn, (projection.name for _, projection in keyed))
        applied, moved = 0, False
        for key, projection in keyed:
            if key not in reached or reached[key] >= last:
                continue
            part = _without(_after(batch, reached[key]), skip.get(projection.name))
            if part:
                projection.apply(conn, part)
            _set_position(conn, key, last)
            applied, moved = applied + len(part), True
        return applied, last, moved

    def _read(self, conn: Connection, start: int, limit: int, partition: Partition | None,
              stop: int | None) -> tuple[list[Envelope], int]:  # fmt: skip
        """The next events after `start` (of the partition, up to `stop`) and the position
        the batch reaches: its last event, or for a partition that is not full, the bound
        (events of other partitions lie between)."""
        rows, last = self._read_rows(conn, start, limit, partition, stop)
        return self._decoded(rows), last

    def _read_rows(self, conn: Connection, start: int, limit: int, partition: Partition | None,
                   stop: int | None) -> tuple[Sequence[Any], int]:  # fmt: skip
        """`_read`'s rows, not decoded yet."""
        if partition is None:
            rows, _ = self._rows(conn, start, limit, None, None)
            return rows, int(rows[-1][0]) if rows else start
        # The bound first: every event up to it is committed, so the read below sees them all.
        bound = self._head(conn) if stop is None else stop
        rows, scanned = self._rows(conn, start, limit, partition, bound)
        return rows, max(start, scanned if scanned is not None else bound)

    def _rows(self, conn: Connection, start: int, limit: int, partition: Partition | None,
              bound: int | None) -> tuple[Sequence[Any], int | None]:  # fmt: skip
        """Rows (position, originator id, version, topic, state) and, when the read stopped
        at `limit`, the last position it looked at (None: it reached the bound)."""
        digits = partition.digits if partition else None
        if self._log is not None:
            rows = self._log.rows(conn, start, limit, digits, bound)
            return rows, rows[-1][0] if len(rows) == limit else None
        notifications = self.recorder.select_notifications(
            start=start, limit=limit, stop=bound, topics=self._topics, inclusive_of_start=False
        )
        scanned = notifications[-1].id if len(notifications) == limit else None
        return [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in notifications
            if digits is None or str(n.originator_id)[-1] in digits
        ], scanned

    def _head(self, conn: Connection) -> int:
        return self._log.head(conn) if self._log is not None else self.head()

    def _decoded(self, rows: Sequence[Any]) -> list[Envelope]:
        ids: dict[Any, tuple[UUID, str]] = {}
        decode = self._decoder.decode
        batch = []
        for position, originator_id, version, topic, state in rows:
            known = ids.get(originator_id)
            if known is None:
                known = ids[originator_id] = _lead_id(originator_id)
            batch.append(Envelope(position, decode(known[0], version, topic, state), known[1]))
        return batch

    def _decoded_apart(self, rows: Sequence[Any]) -> tuple[list[Envelope], list[Broken]]:
        """`_decoded`, one row at a time: the rows that do not decode come back apart."""
        batch, broken = [], []
        for row in rows:
            try:
                batch += self._decoded([row])
            except Exception as error:
                if transient(error):
                    raise
                position, originator_id, _, topic, _ = row
                try:
                    lead_id = _lead_id(originator_id)[1]
                except (TypeError, ValueError, AttributeError):
                    lead_id = str(originator_id)[:36]
                broken.append(Broken(int(position), lead_id, _event_type(str(topic)), error))
        return batch, broken

    def _locked_position(self, conn: Connection, key: str, create: bool = True) -> int | None:
        """A position row's value, locked for the transaction; a missing row is created at 0,
        or with `create=False` (a partition's row) None.

        On SQLite the transaction holds the write lock already, and the row is read through
        the driver: SQLAlchemy's statement costs 150 µs here, for each position of each batch
        of a live catch-up, while the service's appends wait for the lock.
        """
        if conn.dialect.name == "sqlite":
            value = _read_position(conn, key)
        else:
            query = select(positions.c.position).where(positions.c.name == key)
            value = conn.scalar(query.with_for_update())
        if value is None:
            if not create:
                return None
            # Two runners may meet a projection that has no position yet: one inserts it, the
            # other's insert does nothing, and both then lock the one row.
            conn.execute(_insert_once(conn).values(name=key, position=0))
            return self._locked_position(conn, key, create=False) or 0
        return value


def _without(part: list[Envelope], leads: set[str] | None) -> list[Envelope]:
    """`part` without the events of quarantined `leads`."""
    return [envelope for envelope in part if envelope.lead_id not in leads] if leads else part


def _event_type(topic: str) -> str:
    """The activity type of a stored event's topic (`lifecycle:Lead.Created` → `created`)."""
    name = topic.removeprefix(LEAD_TOPIC_PREFIX)
    cls = getattr(Lead, name, None)
    found = getattr(cls, "TYPE", None) if isinstance(cls, type) else None
    return str(found) if found else name[:100]


def _keyed(projections: Sequence[Projection], partition: Partition | None) -> list[tuple[str, Any]]:
    """(position key, projection) in key order, the order every runner locks them in."""
    keyed = [(partition.key(p.name) if partition else p.name, p) for p in projections]
    return sorted(keyed, key=lambda pair: pair[0])


def _usable(found: dict[str, int | None], partition: Partition | None) -> dict[str, int]:
    """The positions a batch may move: a partition's existing rows; without a partition,
    projections that are not split (a missing row is position 0)."""
    if partition is not None:
        return {key: value for key, value in found.items() if value is not None}
    return {key: value or 0 for key, value in found.items() if value is None or value >= 0}


def _set_position(conn: Connection, key: str, position: int) -> None:
    """Moves a position row, through the driver (see `_locked_position`)."""
    mark = marker(conn)
    with driver_cursor(conn) as cursor:
        cursor.execute(
            f"UPDATE projection_positions SET position = {mark} WHERE name = {mark}",
            (position, key),
        )


def _partition_rows_of(name: str) -> Any:
    return positions.c.name.startswith(f"{name}{SPLIT}", autoescape=True)


def _rows_of(name: str) -> Any:
    return (positions.c.name == name) | _partition_rows_of(name)


def _read_position(conn: Connection, key: str) -> int | None:
    """A position row's value read through a driver cursor (None if it has none)."""
    with driver_cursor(conn) as cursor:
        cursor.execute("SELECT position FROM projection_positions WHERE name = ?", (key,))
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _insert_once(conn: Connection) -> Any:
    """INSERT … ON CONFLICT DO NOTHING into `positions`, in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql_insert(positions).on_conflict_do_nothing(index_elements=["name"])
    return sqlite_insert(positions).on_conflict_do_nothing(index_elements=["name"])


def _tune_sqlite(conn: Connection) -> None:
    """Settings for the read models' SQLite connection, made outside any transaction.

    `synchronous=NORMAL`: in WAL mode a commit no longer waits for the disk (40 ms a batch
    here); a power cut may lose the last batches, rows and position together, which the next
    catch-up simply redoes from the log. A page cache above SQLite's 2 MB default keeps the
    leads' rows, updated at random places, in memory. Events are written by the store's own
    connections, which keep their settings.
    """
    driver = conn.connection.driver_connection
    if driver is not None:
        driver.execute("PRAGMA synchronous=NORMAL")
        driver.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pauses the cyclic garbage collector for one batch.

    A batch allocates tens of thousands of small, acyclic objects (events, dicts, rows) that
    it keeps until the end; each young-generation collection walks all of them again, which
    doubled the time to decode a batch. Reference counting still frees everything; cycles, if
    any, are collected when the collector resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _outdated(existing: Inspector, table: Table) -> bool:
    if not existing.has_table(table.name):
        return False
    columns = {column["name"] for column in existing.get_columns(table.name)}
    return columns != {column.name for column in table.columns}


def _after(batch: list[Envelope], start: int) -> list[Envelope]:
    if not batch or start < batch[0].position:
        return batch
    return [envelope for envelope in batch if envelope.position > start]


def _lead_id(originator_id: Any) -> tuple[UUID, str]:
    """The lead id as a UUID and as text (SQLite stores it as hex digits)."""
    uuid = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
    return uuid, str(uuid)


def _lead_event_classes() -> list[type[Lead.Event]]:
    return [
        value
        for value in vars(Lead).values()
        if isinstance(value, type) and issubclass(value, Lead.Event) and value is not Lead.Event
    ]
