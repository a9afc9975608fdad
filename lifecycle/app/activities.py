"""Activities: what clients send (docs/activities.md), parsed and validated into typed values.

One pydantic model per activity type; unknown fields, naive times and wrong types are
`validation_error`s naming the offending fields. Timer activities are refused here: only the
scheduler records them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
)
from pydantic import ValidationError as PydanticError

from ..domain.errors import ValidationFailed
from ..domain.inputs import check_text, check_time, normalize_email
from ..domain.machine import TIMER_ACTIVITIES
from ..domain.values import Channel, ContactChannel, Region, TouchKind


def _iso_text(value: Any) -> Any:
    """Times are ISO-8601 text (docs/activities.md, Values); pydantic alone would read a number
    as Unix time."""
    if isinstance(value, str | datetime):
        return value
    raise ValueError("an ISO-8601 time with an offset, such as 2026-01-05T10:00:00Z")


def _valid_email(value: str) -> str:
    """The address in its compared form (`inputs.normalize_email`), if it is one."""
    email = normalize_email(value) or ""
    check_text(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None
    return email


Time = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(check_time)]
Text = Annotated[
    str, Field(min_length=1, max_length=500), AfterValidator(partial(check_text, free_text=True))
]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_text)]
Email = Annotated[
    str,
    Field(min_length=3, max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(_valid_email),
]
Phone = Annotated[str, Field(min_length=3, max_length=50), AfterValidator(check_text)]
Url = Annotated[str, Field(max_length=2000), AfterValidator(check_text)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]


class _Activity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)
    occurred_at: Time | None = None
    actor: Name | None = None


class Created(_Activity):
    type: Literal["created"]
    email: Email | None = None
    phone: Phone | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    company: Name | None = None
    title: Name | None = None
    country: Name | None = None
    region: Region | None = None
    employees: Annotated[StrictInt, Field(ge=0, le=10_000_000)] | None = None
    industry: Name | None = None
    source: Name | None = None
    campaign: Name | None = None
    channel: Name | None = None
    external_id: Name | None = None


class Assigned(_Activity):
    type: Literal["assigned"]
    owner: Name | None = None


class Attempted(_Activity):
    type: Literal["attempted"]
    channel: Channel


class Responded(_Activity):
    type: Literal["responded"]
    channel: Channel | None = None


class Qualified(_Activity):
    type: Literal["qualified"]
    budget: StrictBool = False
    authority: StrictBool = False
    need: StrictBool = False
    timeline: StrictBool = False
    note: Text | None = None


class Disqualified(_Activity):
    type: Literal["disqualified"]
    reason: Text


class Nurtured(_Activity):
    type: Literal["nurtured"]
    reason: Text | None = None


class BadData(_Activity):
    type: Literal["bad_data"]
    channel: ContactChannel = ContactChannel.ALL
    reason: Text | None = None


class Reopened(_Activity):
    type: Literal["reopened"]
    reason: Text | None = None
    email: Email | None = None
    phone: Phone | None = None


class Passed(_Activity):
    type: Literal["passed"]
    to_owner: Name


class Accepted(_Activity):
    type: Literal["accepted"]


class OpportunityCreated(_Activity):
    type: Literal["opportunity_created"]
    amount: Amount
    opportunity_id: Name | None = None


class Won(_Activity):
    type: Literal["won"]
    amount: Amount


class Lost(_Activity):
    type: Literal["lost"]
    reason: Text | None = None


class Touched(_Activity):
    type: Literal["touched"]
    kind: TouchKind
    source: Name | None = None
    campaign: Name | None = None
    content: Name | None = None
    url: Url | None = None


class OptedOut(_Activity):
    type: Literal["opted_out"]
    days: Annotated[StrictInt, Field(gt=0, le=3650)] | None = None


class OptedIn(_Activity):
    type: Literal["opted_in"]


Activity = Annotated[
    Created
    | Assigned
    | Attempted
    | Responded
    | Qualified
    | Disqualified
    | Nurtured
    | BadData
    | Reopened
    | Passed
    | Accepted
    | OpportunityCreated
    | Won
    | Lost
    | Touched
    | OptedOut
    | OptedIn,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Activity] = TypeAdapter(Activity)
CLIENT_ACTIVITIES = (
    "created",
    "assigned",
    "attempted",
    "responded",
    "qualified",
    "disqualified",
    "nurtured",
    "bad_data",
    "reopened",
    "passed",
    "accepted",
    "opportunity_created",
    "won",
    "lost",
    "touched",
    "opted_out",
    "opted_in",
)


def parse_activity(body: Any) -> Activity:
    """A validated activity, or `ValidationFailed` naming every offending field."""
    if not isinstance(body, dict):
        raise ValidationFailed("an activity is a JSON object", fields={"": "expected an object"})
    kind = body.get("type")
    if kind in TIMER_ACTIVITIES:
        raise ValidationFailed(
            f"{kind} is a timer activity: only the scheduler records it",
            fields={"type": "timer activities cannot be sent"},
        )
    if kind not in CLIENT_ACTIVITIES:
        raise ValidationFailed(
            f"unknown activity type {kind!r}",
            fields={"type": f"one of {', '.join(CLIENT_ACTIVITIES)}"},
        )
    try:
        return _ADAPTER.validate_python(body)
    except PydanticError as error:
        raise validation_failed(error) from None


def validation_failed(error: PydanticError) -> ValidationFailed:
    fields: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        location = [str(part) for part in problem["loc"]]
        if location and location[0] in CLIENT_ACTIVITIES:
            location = location[1:]  # the discriminator tag pydantic puts first
        fields[".".join(location) or "body"] = problem_message(problem)
    names = ", ".join(fields)
    return ValidationFailed(f"invalid activity: {names}", fields=fields)


def problem_message(problem: Mapping[str, Any]) -> str:
    """What pydantic says is wrong with a value, without its "Value error, " prefix (our own
    rules raise `ValueError`s whose message is the whole story)."""
    return str(problem.get("msg", "")).removeprefix("Value error, ")
