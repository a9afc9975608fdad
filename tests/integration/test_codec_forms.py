"""Every stored form of every event class is still read, and the compact form is written byte
for byte as 0.2 wrote it (the hash chain of a later release hashes these bytes).

`data/codec_forms.json` holds, for a sample event of every event class of the application
(each with its optional fields set, and again unset), the bytes that 0.2's codec stored (the
compact form) and those that 0.1 stored (eventsourcing's marked form, with this project's
transcoder). It was written by this module run as a script from the 0.2 code:
`python tests/integration/test_codec_forms.py` (run it again only to add a class).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson
import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from lifecycle.domain.directory import LeadKey, TeamTurns
from lifecycle.domain.lead import Lead
from lifecycle.domain.requests import RequestKey
from lifecycle.storage.codec import TypedMapper, UnreadableEvent, optional_fields
from lifecycle.storage.store import transcoder

FORMS = Path(__file__).parent / "data" / "codec_forms.json"
LEAD_ID = UUID("1a6fac5a-ee6b-46fd-bac9-234a02476fbc")
AT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
AGGREGATES = (Lead, LeadKey, TeamTurns, RequestKey)
STORED_APART = ("originator_id", "originator_version")  # columns of their own


def event_classes() -> list[type[Any]]:
    """Every event class the application stores: those its aggregates declare."""
    return [
        each
        for aggregate in AGGREGATES
        for each in vars(aggregate).values()
        if isinstance(each, type)
        and issubclass(each, aggregate.Event)
        and each is not aggregate.Event
    ]


def sample(hint: Any, name: str, full: bool) -> Any:
    """A value of type `hint` for the field `name` (`full`: an optional one is set)."""
    if get_origin(hint) in (Union, UnionType):
        options = [option for option in get_args(hint) if option is not NoneType]
        return sample(options[0], name, full) if full else None
    if get_origin(hint) is dict:
        key, value = get_args(hint)
        keys = (["email", "title"] if key is str else list(key)[:2]) if full else []
        return {each: sample(value, getattr(each, "value", each), full) for each in keys}
    if isinstance(hint, type) and issubclass(hint, Enum):
        members = list(hint)
        return members[len(name) % len(members)]
    values: dict[Any, Any] = {
        datetime: AT + timedelta(minutes=len(name), microseconds=-len(name)),
        str: f'{name} · Zoë "ünïcode" \\ \t\u2028 ✓',
        int: len(name) * 1_000_003,
        bool: len(name) % 2 == 0,
        Decimal: Decimal(f"{len(name)}2000.50"),
        UUID: UUID(int=len(name) * 2**100 + 7),
    }
    return values[hint]


def samples() -> Iterator[tuple[str, Any]]:
    """(a name, an event) for each event class, with its optional fields set and then unset.

    The keyword-only fields added since 0.2 (`codec.optional_fields`) are left at None: not
    stored then, so the bytes are 0.2's (`test_fields_added_since_are_stored_only_when_set`).
    """
    for cls in event_classes():
        for full in (True, False):
            hints = get_type_hints(cls)
            fields = {
                name: sample(hint, name, full)
                for name, hint in hints.items()
                if get_origin(hint) is not ClassVar
                and hint is not KW_ONLY
                and name not in STORED_APART
                and name not in optional_fields(cls)
            }
            if "originator_topic" in fields:
                fields["originator_topic"] = cls.TOPIC.rpartition(".")[0]
            name = f"{cls.TOPIC}/{'full' if full else 'sparse'}"
            yield name, cls(originator_id=LEAD_ID, originator_version=3, **fields)


def forms() -> dict[str, dict[str, str]]:
    """The stored bytes of every sample, as this code writes them, in both forms."""
    compact = TypedMapper[UUID](transcoder=transcoder())
    marked = Mapper[UUID](transcoder=transcoder())
    return {
        name: {
            "compact": compact.to_stored_event(event).state.decode(),
            "marked": marked.to_stored_event(event).state.decode(),
        }
        for name, event in samples()
    }


STORED: dict[str, dict[str, str]] = orjson.loads(FORMS.read_bytes()) if FORMS.exists() else {}
SAMPLES = dict(samples())


def test_every_event_class_has_its_stored_forms() -> None:
    assert sorted(STORED) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_compact_form_is_written_byte_for_byte_as_0_2_wrote_it(name: str) -> None:
    stored = TypedMapper[UUID](transcoder=transcoder()).to_stored_event(SAMPLES[name])
    assert stored.state == STORED[name]["compact"].encode()
    assert b"_type_" not in stored.state


@pytest.mark.parametrize("form", ["compact", "marked"])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_both_stored_forms_read_back_as_the_event(name: str, form: str) -> None:
    event = SAMPLES[name]
    stored = StoredEvent(LEAD_ID, 3, name.partition("/")[0], STORED[name][form].encode())

    read = TypedMapper[UUID](transcoder=transcoder()).to_domain_event(stored)

    assert type(read) is type(event)
    unstored = optional_fields(type(event))  # None: not stored, read from the class default
    expected = {k: v for k, v in vars(event).items() if k not in unstored}
    if form == "marked" and "deadlines" in expected:  # the marked form kept no key types
        expected = {**expected, "deadlines": {k.value: v for k, v in event.deadlines.items()}}
    # ... or left at None where a form stores them (the marked form of a class added since)
    found = {k: v for k, v in vars(read).items() if not (k in unstored and v is None)}
    assert found == expected
    assert {k: type(v) for k, v in found.items()} == {k: type(v) for k, v in expected.items()}


def test_fields_added_since_are_stored_only_when_set() -> None:
    """`activity_id` and `digest` (0.4): absent from the bytes when None, so events without
    them are stored as 0.2 stored them; set, they are stored and read back."""
    mapper = TypedMapper[UUID](transcoder=transcoder())
    plain = SAMPLES["lifecycle:Lead.Attempted/full"]
    fields = {k: v for k, v in vars(plain).items() if k not in STORED_APART}
    identified = Lead.Attempted(
        originator_id=LEAD_ID, originator_version=3,
        **{**fields, "activity_id": "call-7", "digest": "ab" * 16},
    )  # fmt: skip

    assert (
        mapper.to_stored_event(plain).state
        == STORED["lifecycle:Lead.Attempted/full"]["compact"].encode()
    )
    stored = mapper.to_stored_event(identified)
    assert orjson.loads(stored.state)["activity_id"] == "call-7"
    read = mapper.to_domain_event(stored)
    assert isinstance(read, Lead.Attempted)
    assert (read.activity_id, read.digest) == ("call-7", "ab" * 16)
    assert read == identified
    unset = mapper.to_domain_event(mapper.to_stored_event(plain))
    assert isinstance(unset, Lead.Attempted)
    assert (unset.activity_id, unset.digest) == (None, None)  # the class's defaults


def test_a_compact_state_with_a_value_of_another_type_is_a_value_error_naming_it() -> None:
    stored = TypedMapper[UUID](transcoder=transcoder()).to_stored_event(
        SAMPLES["lifecycle:Lead.Assigned/full"]
    )
    edited = orjson.dumps({**orjson.loads(stored.state), "status": "sleeping"})

    with pytest.raises(UnreadableEvent) as caught:
        TypedMapper[UUID](transcoder=transcoder()).to_domain_event(
            StoredEvent(LEAD_ID, 3, stored.topic, edited)
        )

    assert type(caught.value.error) is ValueError  # as for any state that is not the event
    assert "$.status" in str(caught.value.error)


def test_an_upcast_is_given_the_fields_the_class_still_has_typed_and_the_others_as_json() -> None:
    @dataclass(frozen=True)
    class Moved(DomainEvent):
        class_version: ClassVar[int] = 2
        due: datetime
        where: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["due"] += timedelta(days=state.pop("days"))  # `due` is a datetime already
            state["where"] = state.pop("place")

    mapper = TypedMapper[UUID](transcoder=transcoder())
    older = b'{"timestamp":"2026-03-01T09:00:00+00:00","due":"2026-03-01T09:00:00+00:00",'
    older += '"days":2,"place":"Köln"}'.encode()
    stored = StoredEvent(LEAD_ID, 1, get_topic(Moved), older)

    event = mapper.to_domain_event(stored)

    assert vars(event) == {
        "timestamp": datetime(2026, 3, 1, 9, tzinfo=UTC),
        "due": datetime(2026, 3, 3, 9, tzinfo=UTC), "where": "Köln",
        "originator_id": LEAD_ID, "originator_version": 1,
    }  # fmt: skip
    assert mapper.to_stored_event(event).state == (
        b'{"timestamp":"2026-03-01T09:00:00+00:00","due":"2026-03-03T09:00:00+00:00",'
        b'"where":"K\xc3\xb6ln","class_version":2}'
    )


if __name__ == "__main__":
    FORMS.parent.mkdir(exist_ok=True)
    FORMS.write_bytes(orjson.dumps(forms(), option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.write(f"{len(SAMPLES)} samples written to {FORMS}\n")
