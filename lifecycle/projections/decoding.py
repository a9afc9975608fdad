"""Decodes stored lead events for projections, with no more work per event than needed.

Replay speed is mostly decoding speed. Events in the compact form (`lifecycle.storage.codec`) are
decoded here by their class's schema directly from the log's rows: no `StoredEvent`, no topic
lookup per event, the lead id parsed once per batch by the feed. Anything else (events stored
in eventsourcing's marked form, a mapper that is not a `TypedMapper`, or one that encrypts or
compresses) goes through the mapper, so every event decodes exactly as the application reads it.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import resolve_topic

from ..domain.lead import Lead
from ..storage.codec import Schema, TypedMapper


class EventDecoder:
    """`decode(originator_id, version, topic, state) -> Lead.Event`."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self._schemas: dict[str, Schema | None] = {}

    def decode(self, originator_id: UUID, version: int, topic: str, state: bytes) -> Lead.Event:
        schema = self._schemas[topic] if topic in self._schemas else self._schema(topic)
        if schema is not None:
            event = schema.event(state, originator_id, version)
            if event is not None:
                return cast(Lead.Event, event)
        stored = StoredEvent(originator_id, version, topic, bytes(state))
        return cast(Lead.Event, self.mapper.to_domain_event(stored))

    def _schema(self, topic: str) -> Schema | None:
        """The schema for a topic's lead events, or None when the mapper must decode them."""
        cls = resolve_topic(topic)
        mapper = self.mapper
        lead_event = isinstance(cls, type) and issubclass(cls, Lead.Event)
        schema = mapper.schema(cls) if isinstance(mapper, TypedMapper) and lead_event else None
        self._schemas[topic] = schema
        return schema
