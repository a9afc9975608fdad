"""Idempotency keys as aggregates: a retried request gets its first answer, recorded nothing new.

A `RequestKey` remembers the answer to one client request (`Idempotency-Key` of one caller):
which lead it touched, the range of the lead's event `seq`s it recorded, whether the lead was
a duplicate (the status code follows from that and the route).
It is saved in the SAME atomic write as those lead events, so the key and its effect exist
together or not at all — after a crash too. Its id is derived from the caller and the key, so
two racing requests with the same key both try to record version 1 of the same aggregate: the
store lets exactly one win; the other retries, finds the key and replays the first answer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

_NAMESPACE = UUID("0c6b9f0e-3f4e-4f7a-9a57-5d2b8e6a1c43")
REMEMBERED_FOR = timedelta(hours=24)


def request_key(caller: str, key: str) -> UUID:
    """The aggregate id of `key` as sent by `caller` (callers never share keys)."""
    return uuid5(_NAMESPACE, f"{caller}\n{key}")


@dataclass(frozen=True)
class Answer:
    """What a request did: enough to give the same answer again from the lead's history."""

    fingerprint: str  # a hash of the request (route and body): a reused key must match it
    lead_id: UUID
    first_seq: int  # the lead events this request recorded: first_seq..last_seq
    last_seq: int
    deduplicated: bool
    answered_at: datetime


class RequestKey(Aggregate):
    TOPIC = "lifecycle:RequestKey"

    class Event(Aggregate.Event):
        TOPIC = "lifecycle:RequestKey.Event"

    class Created(Event, Aggregate.Created):
        """The first request with this key was answered."""

        TOPIC = "lifecycle:RequestKey.Answered"
        fingerprint: str
        lead_id: UUID
        first_seq: int
        last_seq: int
        deduplicated: bool
        answered_at: datetime

    class Reanswered(Event):
        """The key came back after it had been forgotten, with a new request."""

        TOPIC = "lifecycle:RequestKey.Reanswered"
        fingerprint: str
        lead_id: UUID
        first_seq: int
        last_seq: int
        deduplicated: bool
        answered_at: datetime

        def apply(self, key: RequestKey) -> None:
            key.answer = _answer_of(self)

    def __init__(
        self,
        fingerprint: str,
        lead_id: UUID,
        first_seq: int,
        last_seq: int,
        deduplicated: bool,
        answered_at: datetime,
    ) -> None:
        self.answer = Answer(fingerprint, lead_id, first_seq, last_seq, deduplicated, answered_at)

    @classmethod
    def remember(cls, key_id: UUID, answer: Answer) -> RequestKey:
        return cls._create(cls.Created, id=key_id, **vars(answer))

    def remember_again(self, answer: Answer) -> None:
        self.trigger_event(self.Reanswered, **vars(answer))

    def remembered_at(self, now: datetime) -> Answer | None:
        """The answer while it is remembered (24 hours), None once it is forgotten."""
        return self.answer if now - self.answer.answered_at < REMEMBERED_FOR else None


def _answer_of(event: RequestKey.Created | RequestKey.Reanswered) -> Answer:
    return Answer(**{field.name: getattr(event, field.name) for field in fields(Answer)})
