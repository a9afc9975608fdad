"""The touches read model: every marketing interaction of every lead, for attribution.

The `created` inquiry is the lead's first touch (docs/activities.md: its source and campaign), so it
is stored as a touch of kind `created`; a repeated inquiry from a known lead arrives as an
ordinary `touched` event. Touches may be recorded late: each row keeps its business time
(`occurred_at`) and its place in the lead's history (`seq`), which breaks ties between touches
at the same instant. The table is append-only, so a batch is one bulk insert.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Connection, Integer, String, Table

from ..domain.lead import Lead
from .base import micros, position_column, prepare, time_column
from .protocol import Envelope, Write, metadata

CREATED = "created"

touches = Table(
    "touches",
    metadata,
    position_column(primary_key=True),
    Column("lead_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),
    time_column("occurred_at", nullable=False),
    Column("kind", String(30), nullable=False),
    Column("source", String),
    Column("campaign", String),
    Column("content", String),
)


class Touches:
    """Projection feeding `touches`."""

    name = "touches"

    def tables(self) -> Sequence[Table]:
        return (touches,)

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        self.prepare(conn, batch)(conn)

    def prepare(self, conn: Connection, batch: Sequence[Envelope]) -> Write:
        rows = []
        for envelope in batch:
            event = envelope.event
            kind = type(event)
            if kind is Lead.Touched:
                assert isinstance(event, Lead.Touched)
                touch_kind, content = event.kind.value, event.content
            elif kind is Lead.Created:
                assert isinstance(event, Lead.Created)
                touch_kind, content = CREATED, None
            else:
                continue
            row = {
                "position": envelope.position, "lead_id": envelope.lead_id,
                "seq": event.originator_version,
                "occurred_at": micros(event.occurred_at), "kind": touch_kind,
                "source": event.source, "campaign": event.campaign, "content": content,
            }  # fmt: skip
            rows.append(row)
        return prepare(touches, rows, upsert=False)
