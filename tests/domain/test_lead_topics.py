"""The topics stores hold: every lead event class keeps its name and its stored topic, whatever
module it is declared in (`lead_events.py`), since stored events are found by them."""

from __future__ import annotations

from eventsourcing.utils import get_topic, resolve_topic

from lifecycle.domain.lead import Lead

# The stored topic of every lead event class (and of the aggregate, in each Created event).
TOPICS = {
    "Created": "lifecycle:Lead.Created",
    "Scored": "lifecycle:Lead.Scored",
    "Assigned": "lifecycle:Lead.Assigned",
    "Attempted": "lifecycle:Lead.Attempted",
    "Responded": "lifecycle:Lead.Responded",
    "Qualified": "lifecycle:Lead.Qualified",
    "Disqualified": "lifecycle:Lead.Disqualified",
    "Nurtured": "lifecycle:Lead.Nurtured",
    "MarkedBadData": "lifecycle:Lead.MarkedBadData",
    "Reopened": "lifecycle:Lead.Reopened",
    "Passed": "lifecycle:Lead.Passed",
    "Accepted": "lifecycle:Lead.Accepted",
    "OpportunityCreated": "lifecycle:Lead.OpportunityCreated",
    "Won": "lifecycle:Lead.Won",
    "Lost": "lifecycle:Lead.Lost",
    "Touched": "lifecycle:Lead.Touched",
    "Updated": "lifecycle:Lead.Updated",
    "OptedOut": "lifecycle:Lead.OptedOut",
    "OptedIn": "lifecycle:Lead.OptedIn",
    "AutoNurtured": "lifecycle:Lead.AutoNurtured",
    "SlaBreached": "lifecycle:Lead.SlaBreached",
    "Escalated": "lifecycle:Lead.Escalated",
    "OptOutExpired": "lifecycle:Lead.OptOutExpired",
}


def event_classes() -> dict[str, type[Lead.Event]]:
    return {
        name: value
        for name, value in vars(Lead).items()
        if isinstance(value, type) and issubclass(value, Lead.Event) and value is not Lead.Event
    }


def test_every_lead_event_class_keeps_its_stored_topic() -> None:
    assert {name: get_topic(cls) for name, cls in event_classes().items()} == TOPICS
    assert get_topic(Lead) == "lifecycle:Lead"
    assert Lead.Event.TOPIC == "lifecycle:Lead.Event"


def test_every_stored_topic_resolves_to_the_class_nested_in_the_lead() -> None:
    for name, topic in TOPICS.items():
        assert resolve_topic(topic) is getattr(Lead, name)
    assert resolve_topic("lifecycle:Lead") is Lead


def test_the_event_classes_are_named_as_nested_in_the_lead() -> None:
    # Integrity errors name the record by the class's qualname (`Lead.Assigned` → lead).
    for name, cls in event_classes().items():
        assert cls.__qualname__ == f"Lead.{name}"
        assert cls.__module__ == "lifecycle.domain.lead"
