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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Inspector

from ..domain.lead import Lead
from .decoding import EventDecoder

LEAD_TOPIC_PREFIX = "lifecycle:Lead."
SQLITE_CACHE_KIB = 65536

metadata = MetaData()
positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)


@dataclass(slots=True)
class Envelope:
    """A lead event with its place in the global log (and its lead id as text).

    Not frozen: a frozen dataclass sets each field through `object.__setattr__`, which took a
    tenth of a replay's decoding time. Projections only read envelopes.
    """

    position: int
    event: Lead.Event
    lead_id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.lead_id:
            self.lead_id = str(self.event.originator_id)


class Projection(Protocol):
    name: str

    def tables(self) -> Sequence[Table]:
        """The tables this projection owns (created if missing, emptied on rebuild)."""
        ...

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        """Updates the tables for a batch of events, in the caller's transaction."""
        ...


Write = Callable[[Connection], None]


@runtime_checkable
class Preparing(Projection, Protocol):
    """A projection that can compute a batch's rows before writing them (see `_run_batch`)."""

    def prepare(self, conn: Connection, batch: Sequence[Envelope]) -> Write:
        """Reads what the batch needs and computes its rows; returns what writes them.

        Only reads, through driver cursors (`conn.connection.cursor()`, as `base.rows_by_key`
        does): on SQLite this runs in a read transaction begun on the driver, outside the
        write lock. `apply(conn, batch)` is `prepare(conn, batch)(conn)`.
        """
        ...


Progress = Callable[[int, int], None]  # (position reached, head position)


class ProjectionRunner:
    """Keeps projections up to date with the log (`catch_up`) and replays them (`rebuild`).

    `batch_size` bounds how long a live batch holds SQLite's single write lock (the service
    appends events meanwhile); a rebuild uses `rebuild_batch_size`, larger, because fewer
    commits and fewer lookups of each lead's row are most of what makes a replay fast.
    """

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[Any], engine: Engine,
                 projections: Sequence[Projection], batch_size: int = 2000,
                 rebuild_batch_size: int = 50_000) -> None:  # fmt: skip
        self.recorder = recorder
        self.mapper = mapper
        self.engine = engine
        self.projections = {projection.name: projection for projection in projections}
        self.batch_size = batch_size
        self.rebuild_batch_size = max(batch_size, rebuild_batch_size)
        self._topics = tuple(f"{LEAD_TOPIC_PREFIX}{cls.__name__}" for cls in _lead_event_classes())
        self._log = _LogTable.of(recorder, engine, self._topics)
        self._decoder = EventDecoder(mapper)

    def create_tables(self) -> None:
        """Creates missing tables. A projection whose tables exist with other columns (an
        older release) gets fresh tables and position 0: it rebuilds on its next catch-up."""
        with self.engine.begin() as conn:
            positions.create(conn, checkfirst=True)
            existing = inspect(conn)
            for projection in self.projections.values():
                if any(_outdated(existing, table) for table in projection.tables()):
                    for table in reversed(projection.tables()):
                        table.drop(conn, checkfirst=True)
                    conn.execute(positions.delete().where(positions.c.name == projection.name))
                for table in projection.tables():
                    table.create(conn, checkfirst=True)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def position(self, name: str) -> int:
        with self.engine.connect() as conn:
            value = conn.scalar(select(positions.c.position).where(positions.c.name == name))
        return int(value or 0)

    def catch_up(self, name: str | None = None, progress: Progress | None = None) -> int:
        """Applies every event recorded so far; returns how many were applied (summed over
        the projections)."""
        return self._catch_up(self._selected(name), progress, self.batch_size)

    def _catch_up(self, selected: list[Projection], progress: Progress | None, limit: int) -> int:
        head = self.head()
        total = 0
        while True:
            applied, reached = self._run_batch(selected, limit)
            if not applied:
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
        for projection in self._selected(name):
            with self.engine.begin() as conn:
                self._locked_position(conn, projection.name)
                for table in reversed(projection.tables()):
                    conn.execute(table.delete())
                conn.execute(
                    positions.update().where(positions.c.name == projection.name).values(position=0)
                )

    # ----------------------------------------------------------------- helpers
    def _selected(self, name: str | Sequence[str] | None) -> list[Projection]:
        if name is None:
            return list(self.projections.values())
        names = [name] if isinstance(name, str) else name
        return [self.projections[each] for each in names]

    def _run_batch(self, projections: Sequence[Projection], limit: int) -> tuple[int, int]:
        """One batch for every projection, in one transaction: (events applied, position).

        SQLite has one write lock for the whole file, which the service's appends need too.
        So there a batch is first computed in a read transaction (a snapshot of the positions,
        the log and the rows it needs, without the lock) and the lock is taken only to write:
        the positions are checked to be where the batch was computed from, and rows and
        positions are written in one transaction. If another runner moved one meanwhile,
        nothing is written and the batch is redone holding the lock, so a runner always makes
        progress. PostgreSQL locks only the position rows, and computes in the transaction.
        """
        with _no_cyclic_gc():
            if self.engine.dialect.name == "sqlite" and all(
                isinstance(projection, Preparing) for projection in projections
            ):
                done = self._optimistic_batch(cast(Sequence[Preparing], projections), limit)
                if done is not None:
                    return done
            with self.engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    _tune_sqlite(conn)
                with conn.begin():
                    return self._apply_batch(conn, projections, limit)

    def _optimistic_batch(
        self, projections: Sequence[Preparing], limit: int
    ) -> tuple[int, int] | None:
        """A SQLite batch computed outside the write lock; None if a position moved meanwhile."""
        if not projections:
            return 0, 0
        ordered = sorted(projections, key=lambda p: p.name)
        with self.engine.connect() as conn:
            _tune_sqlite(conn)
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("BEGIN")  # deferred: a snapshot, and no write lock
            try:
                reached = {p.name: _read_position(conn, p.name) for p in ordered}
                batch = self._read(conn, min(reached.values()), limit)
                writes = [
                    (projection.name, projection.prepare(conn, part), len(part))
                    for projection in ordered
                    if (part := _after(batch, reached[projection.name]))
                ]
            finally:
                driver.execute("ROLLBACK")
            if not batch:
                return 0, min(reached.values())
            last = batch[-1].position
            with conn.begin():
                for projection in ordered:  # in name order, like every runner
                    if self._locked_position(conn, projection.name) != reached[projection.name]:
                        return None
                for name, write, _ in writes:
                    write(conn)
                    conn.execute(
                        positions.update().where(positions.c.name == name).values(position=last)
                    )
            return sum(count for _, _, count in writes), last

    def _apply_batch(
        self, conn: Connection, projections: Sequence[Projection], limit: int
    ) -> tuple[int, int]:
        if not projections:
            return 0, 0
        # Lock in name order, so that two runners never wait on each other in a cycle.
        ordered = sorted(projections, key=lambda p: p.name)
        reached = {p.name: self._locked_position(conn, p.name) for p in ordered}
        batch = self._read(conn, min(reached.values()), limit)
        if not batch:
            return 0, min(reached.values())
        applied = 0
        last = batch[-1].position
        for projection in ordered:
            start = reached[projection.name]
            part = _after(batch, start)
            if not part:
                continue
            projection.apply(conn, part)
            conn.execute(
                positions.update().where(positions.c.name == projection.name).values(position=last)
            )
            applied += len(part)
        return applied, last

    def _read(self, conn: Connection, start: int, limit: int) -> list[Envelope]:
        if self._log is None:
            notifications = self.recorder.select_notifications(
                start=start, limit=limit, topics=self._topics, inclusive_of_start=False
            )
            rows: Sequence[Any] = [
                (n.id, n.originator_id, n.originator_version, n.topic, n.state)
                for n in notifications
            ]
        else:
            rows = self._log.rows(conn, start, limit)
        return self._decoded(rows)

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

    def _locked_position(self, conn: Connection, name: str) -> int:
        query = select(positions.c.position).where(positions.c.name == name)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        value = conn.scalar(query)
        if value is None:
            # Two runners may meet a projection that has no position yet: one inserts it, the
            # other's insert does nothing, and both then lock the one row.
            conn.execute(_insert_once(conn).values(name=name, position=0))
            value = conn.scalar(query)
        return int(value or 0)


def _read_position(conn: Connection, name: str) -> int:
    """A projection's position read through a driver cursor (0 if it has none yet)."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute("SELECT position FROM projection_positions WHERE name = ?", (name,))
        row = cursor.fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row else 0


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


@dataclass(frozen=True)
class _LogTable:
    """Reads the recorder's table with plain SQL on the runner's own connection.

    Used when the events are in the same database as the read models: it skips the recorder's
    `Notification` objects and SQLAlchemy's result rows (each cost about as much as decoding
    the event), and reads inside the batch's transaction.
    """

    statement: str
    topics: tuple[str, ...]
    postgres: bool

    @classmethod
    def of(cls, recorder: ApplicationRecorder, engine: Engine,
           topics: tuple[str, ...]) -> _LogTable | None:  # fmt: skip
        """The reader for `recorder`'s table, or None (read through the recorder)."""
        table = getattr(recorder, "events_table_name", None)
        datastore = getattr(recorder, "datastore", None)
        if not isinstance(table, str) or not table.isidentifier() or datastore is None:
            return None
        dialect, module = engine.dialect.name, type(recorder).__module__
        if dialect == "sqlite" and module == "eventsourcing.sqlite":
            db_name = getattr(getattr(datastore, "pool", None), "db_name", None)
            if not db_name or not engine.url.database:
                return None
            if not _same_file(db_name, engine.url.database):
                return None
            marks = ", ".join("?" for _ in topics)
            statement = (
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
                f"WHERE rowid > ? AND topic IN ({marks}) ORDER BY rowid LIMIT ?"
            )
            return cls(statement, topics, postgres=False)
        if dialect == "postgresql" and module == "eventsourcing.postgres":
            where = getattr(getattr(datastore, "pool", None), "kwargs", None) or {}
            url = engine.url
            if (where.get("dbname"), str(where.get("host")), str(where.get("port") or 5432)) != (
                url.database,
                str(url.host),
                str(url.port or 5432),
            ):
                return None
            schema = getattr(datastore, "schema", None) or "public"
            if not schema.isidentifier():
                return None
            statement = (
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f'FROM "{schema}"."{table}" WHERE notification_id > %s AND topic = ANY(%s) '
                "ORDER BY notification_id LIMIT %s"
            )
            return cls(statement, topics, postgres=True)
        return None

    def rows(self, conn: Connection, start: int, limit: int) -> list[Any]:
        params: tuple[Any, ...]
        if self.postgres:
            params = (start, list(self.topics), limit)
        else:
            params = (start, *self.topics, limit)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.statement, params)
            return list(cursor.fetchall())
        finally:
            cursor.close()


def _same_file(a: str, b: str) -> bool | None:
    if a.startswith(":memory:") or b.startswith(":memory:") or "mode=memory" in a + b:
        return False
    return (
        Path(a.removeprefix("file:").split("?")[0]).resolve()
        == Path(b.removeprefix("file:").split("?")[0]).resolve()
    )


def _lead_event_classes() -> list[type[Lead.Event]]:
    return [
        value
        for value in vars(Lead).values()
        if isinstance(value, type) and issubclass(value, Lead.Event) and value is not Lead.Event
    ]
