"""Every text field of every activity refuses poison characters; every time, the out-of-range.

The fields are found from the activity models themselves, so a field added later is covered.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest
from helpers import DEFAULT_BODIES, body, created

from lifecycle.app.activities import CLIENT_ACTIVITIES, Activity, parse_activity
from lifecycle.domain.errors import ValidationFailed

MODELS = {model.model_fields["type"].annotation.__args__[0]: model  # type: ignore[union-attr]
          for model in typing.get_args(typing.get_args(Activity)[0])}  # fmt: skip
FREE_TEXT = {"note", "reason"}
POISON = {
    "NUL": "\x00",
    "unit separator": "\x1f",
    "next line": "\x85",
    "zero-width space": "\u200b",
    "right-to-left override": "\u202e",
    "byte-order mark": "\ufeff",
    "lone surrogate": "\ud800",
}


def _text_fields(activity_type: str) -> list[str]:
    """The fields of the activity whose value is free text (enums and literals excluded)."""
    properties = MODELS[activity_type].model_json_schema()["properties"]
    fields = []
    for name, schema in properties.items():
        options = schema.get("anyOf", [schema])
        if any(
            option.get("type") == "string"
            and not {"enum", "const"} & option.keys()
            and option.get("format") != "date-time"
            for option in options
        ):
            fields.append(name)
    return [name for name in fields if name != "type"]


def _base(activity_type: str) -> dict[str, Any]:
    return created() if activity_type == "created" else body(activity_type)


def _valid(field: str) -> str:
    return {
        "email": "ann@example.com",
        "url": "https://example.com/p",
        "phone": "+1 415 555 0100",
    }.get(field, "webinar")


def _spoiled(field: str, char: str) -> str:
    value = _valid(field)
    if field == "email":
        return f"an{char}n@example.com"
    return f"{value[:3]}{char}{value[3:]}"


CASES = [
    (kind, field, name)
    for kind in CLIENT_ACTIVITIES
    for field in _text_fields(kind)
    for name in POISON
]


def test_the_table_covers_every_text_field_of_every_activity():
    assert {kind for kind, _, _ in CASES} >= set(DEFAULT_BODIES) | {"created"} - {
        "accepted",
        "opted_in",
    }
    created_fields = {field for kind, field, _ in CASES if kind == "created"}
    assert {"email", "phone", "first_name", "source", "external_id", "actor"} <= created_fields


@pytest.mark.parametrize(("kind", "field", "poison"), CASES)
def test_a_poison_character_in_any_text_field_is_a_validation_error_naming_it(kind, field, poison):
    activity = {**_base(kind), field: _spoiled(field, POISON[poison])}
    with pytest.raises(ValidationFailed) as caught:
        parse_activity(activity)
    assert list(caught.value.details["fields"]) == [field]


@pytest.mark.parametrize("kind", sorted(FREE_TEXT_KINDS := {"qualified": "note",
                                                            "disqualified": "reason",
                                                            "lost": "reason"}))  # fmt: skip
def test_free_text_keeps_its_line_ends(kind):
    field = FREE_TEXT_KINDS[kind]
    parsed = parse_activity({**_base(kind), field: "first line\r\n\tsecond line"})
    assert getattr(parsed, field) == "first line\r\n\tsecond line"


TIMES = {
    "1899-12-31T23:59:59Z": False,
    "1900-01-01T00:00:00Z": True,
    "2199-12-31T23:59:59Z": True,
    "2200-01-01T00:00:00Z": False,
    "0001-01-01T00:00:00+14:00": False,
    "9999-12-31T23:59:59-14:00": False,
}


@pytest.mark.parametrize("kind", CLIENT_ACTIVITIES)
@pytest.mark.parametrize(("moment", "accepted"), TIMES.items(), ids=TIMES.keys())
def test_occurred_at_must_lie_between_1900_and_2200_in_utc(kind, moment, accepted):
    activity = {**_base(kind), "occurred_at": moment}
    if accepted:
        assert parse_activity(activity).occurred_at is not None
        return
    with pytest.raises(ValidationFailed) as caught:
        parse_activity(activity)
    assert list(caught.value.details["fields"]) == ["occurred_at"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Ann@Example.COM", "ann@example.com"),
        ("ａｎｎ@example.com", "ann@example.com"),
        ("ann＠example.com", "ann@example.com"),
        (" ann@example.com ", "ann@example.com"),
    ],
)
@pytest.mark.parametrize("kind", ["created", "reopened"])
def test_emails_are_read_in_their_compared_form(kind, given, stored):
    assert parse_activity({**_base(kind), "email": given}).email == stored  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "email",
    [
        "ann\u200b@example.com",
        "a@b",
        "ann@@example.com",
        "ann example@example.com",
        "@example.com",
        "ann@",
        "ann@example..com",
        "ann@ex_ample.com",
    ],
)
@pytest.mark.parametrize("kind", ["created", "reopened"])
def test_an_email_that_is_not_a_valid_address_is_a_validation_error(kind, email):
    with pytest.raises(ValidationFailed) as caught:
        parse_activity({**_base(kind), "email": email})
    assert list(caught.value.details["fields"]) == ["email"]
