"""Small aggregates that keep uniqueness and turns consistent under concurrent writers.

A `LeadKey` claims a normalized email, an external id or — for a lead known by its phone alone
— an E.164 phone number for one lead. Its id is derived from
the key, so two concurrent creates of the same email both try to record version 1 of the same
key: the store lets exactly one win, the other retries and finds the lead (deduplication).
A `TeamTurns` aggregate is a team's round-robin counter, taken in the same atomic save as the
assignment it decides.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

_NAMESPACE = UUID("6f0b8a4e-7d1c-4b8e-9a61-2f5f3c1d9e70")


@lru_cache(maxsize=65536)
def email_key(normalized_email: str) -> UUID:
    return uuid5(_NAMESPACE, f"email:{normalized_email}")


@lru_cache(maxsize=65536)
def external_key(external_id: str) -> UUID:
    return uuid5(_NAMESPACE, f"external_id:{external_id.strip()}")


@lru_cache(maxsize=65536)
def phone_key(e164_phone: str) -> UUID:
    """The key of a phone number in its E.164 form (`phones.normalize_phone`)."""
    return uuid5(_NAMESPACE, f"phone:{e164_phone}")


def team_key(team: str) -> UUID:
    return uuid5(_NAMESPACE, f"team:{team}")


class LeadKey(Aggregate):
    TOPIC = "lifecycle:LeadKey"

    class Event(Aggregate.Event):
        TOPIC = "lifecycle:LeadKey.Event"

    class Created(Event, Aggregate.Created):
        """The key was claimed for a lead."""

        TOPIC = "lifecycle:LeadKey.Claimed"
        lead_id: UUID

    def __init__(self, lead_id: UUID) -> None:
        self.lead_id = lead_id

    @classmethod
    def claim(cls, key: UUID, lead_id: UUID) -> LeadKey:
        return cls._create(cls.Created, id=key, lead_id=lead_id)


class TeamTurns(Aggregate):
    TOPIC = "lifecycle:TeamTurns"

    class Event(Aggregate.Event):
        TOPIC = "lifecycle:TeamTurns.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "lifecycle:TeamTurns.Started"
        team: str

    class Taken(Event):
        TOPIC = "lifecycle:TeamTurns.Taken"
        member: str

        def apply(self, turns: TeamTurns) -> None:
            turns.taken += 1

    def __init__(self, team: str) -> None:
        self.team = team
        self.taken = 0

    @classmethod
    def start(cls, team: str) -> TeamTurns:
        return cls._create(cls.Created, id=team_key(team), team=team)

    def whose_turn(self, members: tuple[str, ...]) -> str:
        return members[self.taken % len(members)]

    def take(self, member: str) -> None:
        self.trigger_event(self.Taken, member=member)
