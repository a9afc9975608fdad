"""The stored form of events: compact JSON read by annotations; the marked form still read.

Every test that touches storage runs on SQLite and PostgreSQL (the `ledger` fixture).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID, uuid4

import orjson
import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Mapper
from helpers import given_lead, when

from lifecycle.app.ledger import LeadLedger
from lifecycle.domain.lead import Lead
from lifecycle.domain.values import Policy, Region, Stage, Status
from lifecycle.storage.codec import TypedMapper, UnreadableEvent, schema_of
from lifecycle.storage.store import transcoder

WON = ("assigned", "attempted", "responded", "qualified", "passed", "accepted",
       "opportunity_created", "won")  # fmt: skip


def stored_states(ledger: LeadLedger, lead_id: str) -> list[dict[str, Any]]:
    return [orjson.loads(stored.state) for stored in ledger.recorder.select_events(UUID(lead_id))]


def test_lead_events_are_stored_as_plain_json_by_value(ledger: LeadLedger) -> None:
    lead = given_lead(ledger, "assigned", region="emea")
    created, assigned = stored_states(ledger, lead)

    assert b"_type_" not in orjson.dumps([created, assigned])
    assert created["region"] == "emea"
    assert created["status"] == "raw"
    assert datetime.fromisoformat(created["occurred_at"]).tzinfo is not None
    assert assigned["deadlines"] == {
        "first_attempt": assigned["deadlines"]["first_attempt"]
    }  # a policy's value, then the due time as ISO-8601 text


def test_every_event_of_a_won_lead_reads_back_equal_with_its_types(ledger: LeadLedger) -> None:
    lead = given_lead(ledger, *WON, region="emea")
    when(ledger, lead, "touched", kind="webinar", content="guide")
    recorded = ledger.lead_events(UUID(lead))

    fresh = LeadLedger(ledger.env, ledger.clock)  # no cache: every event decoded from storage
    try:
        read = fresh.lead_events(UUID(lead))
    finally:
        fresh.close()

    assert [vars(event) for event in read] == [vars(event) for event in recorded]
    for event in read:
        assert type(event.occurred_at) is datetime
        assert type(event.status) is Status and type(event.stage) is Stage
        assert all(type(key) is Policy for key in event.deadlines)
    won = read[-2]
    assert isinstance(won, Lead.Won)
    assert won.amount == Decimal("12000") and type(won.amount) is Decimal
    assert isinstance(read[0], Lead.Created) and read[0].region is Region.EMEA


def test_events_stored_in_the_marked_form_are_still_read(ledger: LeadLedger) -> None:
    lead = given_lead(ledger, "assigned")
    event = ledger.lead_events(UUID(lead))[-1]
    marked = Mapper[UUID](transcoder=transcoder()).to_stored_event(event)
    assert b"_type_" in marked.state

    read = vars(ledger.mapper.to_domain_event(marked))
    # The marked form never recorded the keys' type: they come back as the policies' values.
    assert {**read, "deadlines": {Policy(k): v for k, v in read["deadlines"].items()}} == vars(
        event
    )


def test_a_class_with_a_field_json_cannot_type_keeps_the_marked_form() -> None:
    @dataclass(frozen=True)
    class Listed(DomainEvent):
        items: list[str]

    @dataclass(frozen=True)
    class Dated(DomainEvent):
        due: datetime
        amount: Decimal | None

    mapper = TypedMapper[UUID](transcoder=transcoder())
    assert schema_of(Listed) is None
    assert schema_of(Dated) is not None
    when_ = datetime(2026, 3, 1, 9, tzinfo=UTC)
    event = Dated(originator_id=uuid4(), originator_version=1, timestamp=when_, due=when_,
                  amount=None)  # fmt: skip
    stored = mapper.to_stored_event(event)
    assert orjson.loads(stored.state) == {
        "timestamp": "2026-03-01T09:00:00+00:00", "due": "2026-03-01T09:00:00+00:00",
        "amount": None,
    }  # fmt: skip
    assert vars(mapper.to_domain_event(stored)) == vars(event)


def test_an_older_class_version_is_upcast_from_the_compact_form() -> None:
    @dataclass(frozen=True)
    class Renamed(DomainEvent):
        class_version: ClassVar[int] = 2
        owner: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["owner"] = state.pop("rep")

    mapper = TypedMapper[UUID](transcoder=transcoder())
    event = Renamed(originator_id=uuid4(), originator_version=1,
                    timestamp=datetime(2026, 3, 1, tzinfo=UTC), owner="ana")  # fmt: skip
    stored = mapper.to_stored_event(event)
    assert orjson.loads(stored.state)["class_version"] == 2
    old = orjson.loads(stored.state)
    del old["class_version"]
    old["rep"] = old.pop("owner")
    older = type(stored)(stored.originator_id, 1, stored.topic, orjson.dumps(old))

    assert vars(mapper.to_domain_event(older)) == vars(event)


@pytest.mark.parametrize(
    ("topic", "damage"),
    [
        ("lifecycle:Lead.Assigned", b"{"),
        ("lifecycle:Lead.Assigned", b'{"timestamp": "yesterday"}'),
        ("lifecycle:Lead.Assigned", b'{"status": "open"}'),  # the marked form's way
        ("lifecycle:Lead.Gone", b"{}"),
    ],
)
def test_a_damaged_stored_event_is_reported_with_its_place(topic: str, damage: bytes) -> None:
    mapper = TypedMapper[UUID](transcoder=transcoder())
    lead_id = uuid4()
    stored = type(mapper.to_stored_event(_assigned(lead_id)))(lead_id, 2, topic, damage)
    with pytest.raises(UnreadableEvent, match=f"originator_id '{lead_id}'") as caught:
        mapper.to_domain_event(stored)
    assert (caught.value.originator_id, caught.value.originator_version) == (lead_id, 2)
    assert caught.value.topic == topic


def _assigned(lead_id: UUID) -> Lead.Assigned:
    at = datetime(2026, 3, 1, 9, tzinfo=UTC)
    return Lead.Assigned(
        originator_id=lead_id, originator_version=2, timestamp=at, occurred_at=at, actor="t",
        status=Status.OPEN, stage=Stage.LEAD, deadlines={Policy.FIRST_ATTEMPT: at},
        owner="ana", previous_owner=None, rule="explicit", team=None, rules_version="1",
    )  # fmt: skip
