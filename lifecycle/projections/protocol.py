"""What a read model is to its runner: it owns tables in `metadata` and applies batches of
`Envelope`s (lead events with their log positions) in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from sqlalchemy import Connection, MetaData, Table

from ..domain.lead import Lead

metadata = MetaData()  # every read model's tables, and the runner's positions


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
    """A projection that can compute a batch's rows before writing them (see `Batches.run`)."""

    def prepare(self, conn: Connection, batch: Sequence[Envelope]) -> Write:
        """Reads what the batch needs and computes its rows; returns what writes them.

        Only reads, through driver cursors (`driver_cursor`, as `storage.bulk.rows_by_key`
        does): on SQLite this runs in a read transaction begun on the driver, outside the
        write lock. `apply(conn, batch)` is `prepare(conn, batch)(conn)`.
        """
        ...
