"""The JSON shapes of docs/json.md, defined once: what `views` builds and what OpenAPI shows.

Each shape is a `TypedDict`: the builders in `views` return plain dicts that orjson writes
directly (the fast path of the HTTP API and of the CLI's `--json`), mypy checks that they
build exactly these keys, and pydantic turns the same classes into the OpenAPI document's
components (the routes name them as `response_model`). Times are ISO-8601 text in UTC with a
`Z`, ids are UUID text and enums their values, as the builders write them.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, GetPydanticSchema, WithJsonSchema, with_config
from typing_extensions import TypedDict

from ..domain.values import Region, Stage, Status

CLOSED = ConfigDict(extra="forbid")  # `additionalProperties: false`: every key is listed


def enum_text(enum: type[Enum]) -> GetPydanticSchema:
    """A string holding one of `enum`'s values (the builders write `.value`), shown in the
    document as the enum's own component."""
    return GetPydanticSchema(lambda _source, handler: handler(enum))


Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Uuid = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]
StatusText = Annotated[str, enum_text(Status)]
StageText = Annotated[str, enum_text(Stage)]
RegionText = Annotated[str, enum_text(Region)]


@with_config(CLOSED)
class Lead(TypedDict):
    id: Uuid
    external_id: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    title: str | None
    country: str | None
    region: RegionText | None
    owner: str | None
    status: StatusText
    stage: StageText
    score: int
    attempts: Annotated[int, Field(ge=0)]
    source: str | None
    campaign: str | None
    opted_out: bool
    created_at: Time
    updated_at: Time
    version: Annotated[int, Field(ge=1)]


@with_config(CLOSED)
class CreatedLead(Lead):
    deduplicated: Annotated[
        bool,
        Field(
            description="true when the email or external_id matched an existing lead: the "
            "inquiry was recorded as a touch on it and that lead is returned"
        ),
    ]


@with_config(CLOSED)
class TimelineEntry(TypedDict):
    seq: Annotated[
        int, Field(ge=1, description="the lead's version after the event; 1, 2, 3… no gaps")
    ]
    type: Annotated[str, Field(description="the activity or timer type, or a service-derived one")]
    occurred_at: Time
    recorded_at: Time
    actor: str
    activity_id: Annotated[
        str | None,
        Field(description="the `id` the activity that recorded the event was sent with"),
    ]
    status: Annotated[StatusText, Field(description="the status after the event")]
    stage: Annotated[StageText, Field(description="the stage after the event")]
    data: dict[str, Any]


@with_config(CLOSED)
class FeedEntry(TimelineEntry):
    lead_id: Uuid
    position: Annotated[int, Field(ge=1, description="the event's place in the global log")]


@with_config(CLOSED)
class ActivityResult(TypedDict):
    lead: Lead
    events: Annotated[list[TimelineEntry], Field(description="the events this activity recorded")]


@with_config(CLOSED)
class Timeline(TypedDict):
    lead_id: Uuid
    events: list[TimelineEntry]


@with_config(CLOSED)
class LeadPage(TypedDict):
    items: list[Lead]
    next_cursor: Annotated[
        str | None, Field(description="pass as `cursor` for the next page; null: done")
    ]


@with_config(CLOSED)
class EventPage(TypedDict):
    items: list[FeedEntry]
    next_after: Annotated[
        int,
        Field(
            ge=0, description="pass as `after` for the next page (the same value when none is new)"
        ),
    ]
