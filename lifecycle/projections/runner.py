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
from typing import Any, Protocol
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
    bindparam,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Inspector
from sqlalchemy.sql.elements import TextClause

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


@dataclass(frozen=True, slots=True)
class Envelope:
    """A lead event with its place in the global log (and its lead id as text)."""

    position: int
    event: Lead.Event
    lead_id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.lead_id:
            object.__setattr__(self, "lead_id", str(self.event.originator_id))


class Projection(Protocol):
    name: str

    def tables(self) -> Sequence[Table]:
        """The tables this projection owns (created if missing, emptied on rebuild)."""
        ...

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        """Updates the tables for a batch of events, in the caller's transaction."""
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
                 rebuild_batch_size: int = 10000) -> None:  # fmt: skip
        self.recorder = recorder
        self.mapper = mapper
        self.engine = engine
        self.projections = {projection.name: projection for projection in projections}
        self.batch_size = batch_size
        self.rebuild_batch_size = max(batch_size, rebuild_batch_size)
        self._topics = tuple(f"{LEAD_TOPIC_PREFIX}{cls.__name__}" for cls in _lead_event_classes())
        self._log_query = _direct_log_query(recorder, engine)
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

    def rebuild(self, name: str | None = None, progress: Progress | None = None) -> int:
        """Empties the named projection (or all) and replays the log from position 0."""
        for projection in self._selected(name):
            with self.engine.begin() as conn:
                self._locked_position(conn, projection.name)
                for table in reversed(projection.tables()):
                    conn.execute(table.delete())
                conn.execute(
                    positions.update().where(positions.c.name == projection.name).values(position=0)
                )
        return self._catch_up(self._selected(name), progress, self.rebuild_batch_size)

    # ----------------------------------------------------------------- helpers
    def _selected(self, name: str | None) -> list[Projection]:
        if name is None:
            return list(self.projections.values())
        return [self.projections[name]]

    def _run_batch(self, projections: Sequence[Projection], limit: int) -> tuple[int, int]:
        """One batch for every projection, in one transaction: (events applied, position)."""
        with _no_cyclic_gc(), self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                # Updates land on each lead's row, at random places in the tables: a page cache
                # larger than SQLite's 2 MB default keeps them in memory.
                conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
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
                part = batch if start < batch[0].position else _after(batch, start)
                if not part:
                    continue
                projection.apply(conn, part)
                conn.execute(
                    positions.update()
                    .where(positions.c.name == projection.name)
                    .values(position=last)
                )
                applied += len(part)
            return applied, last

    def _read(self, conn: Connection, start: int, limit: int) -> list[Envelope]:
        if self._log_query is None:
            notifications = self.recorder.select_notifications(
                start=start, limit=limit, topics=self._topics, inclusive_of_start=False
            )
            rows: Sequence[Any] = [
                (n.id, n.originator_id, n.originator_version, n.topic, n.state)
                for n in notifications
            ]
        else:
            params = {"start": start, "limit": limit, "topics": list(self._topics)}
            rows = conn.execute(self._log_query, params).all()
        return self._decoded(rows)

    def _decoded(self, rows: Sequence[Any]) -> list[Envelope]:
        ids: dict[Any, tuple[UUID, str]] = {}
        decode = self._decoder.decode
        batch = []
        for position, originator_id, version, topic, state in rows:
            known = ids.get(originator_id)
            if known is None:
                uuid = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
                known = ids[originator_id] = (uuid, str(uuid))
            event = decode(known[0], version, topic, bytes(state))
            batch.append(Envelope(position, event, known[1]))
        return batch

    def _locked_position(self, conn: Connection, name: str) -> int:
        query = select(positions.c.position).where(positions.c.name == name)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        value = conn.scalar(query)
        if value is None:
            conn.execute(positions.insert().values(name=name, position=0))
            if conn.dialect.name == "postgresql":
                value = conn.scalar(query)
        return int(value or 0)


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
    return [envelope for envelope in batch if envelope.position > start]


def _direct_log_query(recorder: ApplicationRecorder, engine: Engine) -> TextClause | None:
    """A query reading the recorder's table on the runner's engine, if both are one database.

    Anything else (another recorder, another database file) reads through the recorder.
    """
    table = getattr(recorder, "events_table_name", None)
    datastore = getattr(recorder, "datastore", None)
    if not isinstance(table, str) or not table.isidentifier() or datastore is None:
        return None
    dialect = engine.dialect.name
    module = type(recorder).__module__
    if dialect == "sqlite" and module == "eventsourcing.sqlite":
        db_name = getattr(getattr(datastore, "pool", None), "db_name", None)
        database = engine.url.database
        if not db_name or not database or _same_file(db_name, database) is False:
            return None
        position, source = "rowid", table
    elif dialect == "postgresql" and module == "eventsourcing.postgres":
        if getattr(datastore, "dbname", None) != engine.url.database:
            return None
        schema = getattr(datastore, "schema", None) or "public"
        if not schema.isidentifier():
            return None
        position, source = "notification_id", f'"{schema}"."{table}"'
    else:
        return None
    query = text(
        f"SELECT {position}, originator_id, originator_version, topic, state FROM {source} "
        f"WHERE {position} > :start AND topic IN :topics ORDER BY {position} LIMIT :limit"
    )
    return query.bindparams(bindparam("topics", expanding=True))


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
