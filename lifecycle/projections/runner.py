"""Runs read-model projections over the global, ordered notification log.

Each projection reads the log in batches after its recorded position, updates its tables and
its position in ONE transaction: a crash at any point leaves the rows and the position in
step, so every event is applied exactly once and catch-up resumes where it stopped. Runners
for the same projection serialize on the position row (SELECT … FOR UPDATE on PostgreSQL, a
write lock from BEGIN on SQLite), so several processes can run side by side safely.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Column, Connection, Engine, Integer, MetaData, String, Table, select

from ..domain.lead import Lead

LEAD_TOPIC_PREFIX = "lifecycle:Lead."

metadata = MetaData()
positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)


@dataclass(frozen=True)
class Envelope:
    """A lead event with its place in the global log."""

    position: int
    event: Lead.Event


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
    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        engine: Engine,
        projections: Sequence[Projection],
        batch_size: int = 2000,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.engine = engine
        self.projections = {projection.name: projection for projection in projections}
        self.batch_size = batch_size
        self._topics = tuple(f"{LEAD_TOPIC_PREFIX}{cls.__name__}" for cls in _lead_event_classes())

    def create_tables(self) -> None:
        tables = [positions, *(t for p in self.projections.values() for t in p.tables())]
        with self.engine.begin() as conn:
            for table in tables:
                table.create(conn, checkfirst=True)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def position(self, name: str) -> int:
        with self.engine.connect() as conn:
            value = conn.scalar(select(positions.c.position).where(positions.c.name == name))
        return int(value or 0)

    def catch_up(self, name: str | None = None, progress: Progress | None = None) -> int:
        """Applies every event recorded so far; returns how many were applied."""
        names = [name] if name else list(self.projections)
        return sum(self._catch_up_one(self.projections[n], progress) for n in names)

    def run_batch(self, projection: Projection) -> int:
        """Applies the next batch in one transaction; 0 when the projection is at the head."""
        with self.engine.begin() as conn:
            start = self._locked_position(conn, projection.name)
            notifications = self.recorder.select_notifications(
                start=start, limit=self.batch_size, topics=self._topics, inclusive_of_start=False
            )
            if not notifications:
                return 0
            batch = [
                Envelope(n.id, self.mapper.to_domain_event(n))  # type: ignore[arg-type]
                for n in notifications
            ]
            projection.apply(conn, batch)
            conn.execute(
                positions.update()
                .where(positions.c.name == projection.name)
                .values(position=notifications[-1].id)
            )
            return len(batch)

    def rebuild(self, name: str | None = None, progress: Progress | None = None) -> int:
        """Empties the named projection (or all) and replays the log from position 0."""
        names = [name] if name else list(self.projections)
        for each in names:
            projection = self.projections[each]
            with self.engine.begin() as conn:
                self._locked_position(conn, each)
                for table in reversed(projection.tables()):
                    conn.execute(table.delete())
                conn.execute(positions.update().where(positions.c.name == each).values(position=0))
        return self.catch_up(name, progress)

    def _catch_up_one(self, projection: Projection, progress: Progress | None) -> int:
        total = 0
        head = self.head()
        while applied := self.run_batch(projection):
            total += applied
            if progress:
                progress(self.position(projection.name), head)
        return total

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


def _lead_event_classes() -> list[type[Lead.Event]]:
    return [
        value
        for value in vars(Lead).values()
        if isinstance(value, type) and issubclass(value, Lead.Event) and value is not Lead.Event
    ]
