"""The lead events a batch applies, decoded into `Envelope`s: read through storage's
`LogTable` (plain SQL on the batch's own connection) when the events are in the read models'
database, else through the recorder. Lead ids are parsed once per batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine

from ..domain.lead import Lead
from ..storage.log_reader import LogTable
from .decoding import EventDecoder
from .partitions import Partition
from .protocol import Envelope
from .quarantine import Broken, transient

LEAD_TOPIC_PREFIX = "lifecycle:Lead."


class Feed:
    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[Any], engine: Engine) -> None:
        self.recorder = recorder
        self.topics = tuple(f"{LEAD_TOPIC_PREFIX}{cls.__name__}" for cls in _lead_event_classes())
        self.log = LogTable.of(recorder, engine, self.topics)
        self._decoder = EventDecoder(mapper)

    def read(self, conn: Connection, start: int, limit: int, partition: Partition | None,
             stop: int | None) -> tuple[list[Envelope], int]:  # fmt: skip
        """The next events after `start` (of the partition, up to `stop`) and the position
        the batch reaches: its last event, or for a partition that is not full, the bound
        (events of other partitions lie between)."""
        rows, last = self.read_rows(conn, start, limit, partition, stop)
        return self.decoded(rows), last

    def read_rows(self, conn: Connection, start: int, limit: int, partition: Partition | None,
                  stop: int | None) -> tuple[Sequence[Any], int]:  # fmt: skip
        """`read`'s rows, not decoded yet."""
        if partition is None:
            rows, _ = self._rows(conn, start, limit, None, None)
            return rows, int(rows[-1][0]) if rows else start
        # The bound first: every event up to it is committed, so the read below sees them all.
        bound = self.head(conn) if stop is None else stop
        rows, scanned = self._rows(conn, start, limit, partition, bound)
        return rows, max(start, scanned if scanned is not None else bound)

    def _rows(self, conn: Connection, start: int, limit: int, partition: Partition | None,
              bound: int | None) -> tuple[Sequence[Any], int | None]:  # fmt: skip
        """Rows (position, originator id, version, topic, state) and, when the read stopped
        at `limit`, the last position it looked at (None: it reached the bound)."""
        digits = partition.digits if partition else None
        if self.log is not None:
            rows = self.log.rows(conn, start, limit, digits, bound)
            return rows, rows[-1][0] if len(rows) == limit else None
        notifications = self.recorder.select_notifications(
            start=start, limit=limit, stop=bound, topics=self.topics, inclusive_of_start=False
        )
        scanned = notifications[-1].id if len(notifications) == limit else None
        return [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in notifications
            if digits is None or str(n.originator_id)[-1] in digits
        ], scanned

    def head(self, conn: Connection) -> int:
        if self.log is not None:
            return self.log.head(conn)
        return self.recorder.max_notification_id() or 0

    def decoded(self, rows: Sequence[Any]) -> list[Envelope]:
        ids: dict[Any, tuple[UUID, str]] = {}
        decode = self._decoder.decode
        batch = []
        for position, originator_id, version, topic, state in rows:
            known = ids.get(originator_id)
            if known is None:
                known = ids[originator_id] = _lead_id(originator_id)
            batch.append(Envelope(position, decode(known[0], version, topic, state), known[1]))
        return batch

    def decoded_apart(self, rows: Sequence[Any]) -> tuple[list[Envelope], list[Broken]]:
        """`decoded`, one row at a time: the rows that do not decode come back apart."""
        batch, broken = [], []
        for row in rows:
            try:
                batch += self.decoded([row])
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


def _event_type(topic: str) -> str:
    """The activity type of a stored event's topic (`lifecycle:Lead.Created` → `created`)."""
    name = topic.removeprefix(LEAD_TOPIC_PREFIX)
    cls = getattr(Lead, name, None)
    found = getattr(cls, "TYPE", None) if isinstance(cls, type) else None
    return str(found) if found else name[:100]


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
