"""The command table: one typed command per activity type clients send, and its handler.

Each activity (docs/activities.md) is a pydantic model: unknown fields, naive times and wrong
types are `validation_error`s naming the offending fields. Each model's `apply` is its
handler: it calls the lead's command (the domain decides) and, where the activity needs more
than the lead (routing, a corrected email's key), the batch. `Activity` below is the table:
the union of every model, from which the type names, the parser and the OpenAPI schemas come.
A new activity type is a domain command, a model here and its entry in `Activity`.

Timer activities are refused here (only the scheduler records them, with `TimerDue`).
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, TypeAdapter
from pydantic import ValidationError as PydanticError

from ..domain.contact import UPDATABLE
from ..domain.errors import ValidationFailed
from ..domain.inputs import normalize_email
from ..domain.lead import Lead, Touch
from ..domain.machine import TIMER_ACTIVITIES
from ..domain.rules import Context
from ..domain.values import Channel, ContactChannel, Policy, Region, TouchKind
from .fields import ActivityId, Amount, Email, Name, Phone, Text, Time, Url

if TYPE_CHECKING:
    from .batch import Batch


class _Activity(BaseModel):
    """What every activity may carry: when it happened, who did it, and the sender's id."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)
    id: ActivityId | None = None
    occurred_at: Time | None = None
    actor: Name | None = None

    def digest(self) -> str | None:
        """What identifies the activity by its content when it says when it happened: its
        type, time and every field but `id`, in one canonical form (times in UTC, amounts
        without trailing zeros), hashed. None without an explicit `occurred_at`: two such
        activities sent at different moments are two activities (docs/activities.md)."""
        if self.occurred_at is None:
            return None
        content = self.identity()
        canonical = orjson.dumps(content, default=_canonical, option=_CANONICAL)
        return hashlib.sha256(canonical).hexdigest()[:32]

    def identity(self) -> dict[str, Any]:
        """What the digest covers: every field but `id`."""
        return self.model_dump(exclude={"id"})


_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        try:
            return value.astimezone(UTC).isoformat()
        except OverflowError:  # no UTC form (built unchecked, never from a client): as is
            return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} has no canonical form")


class LeadActivity(_Activity):
    """An activity on an existing lead: `apply` runs it through the lead's commands. Every
    such model must define it (pydantic's model class is an ABC: one without cannot be made)."""

    @abstractmethod
    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        """The handler: calls the lead's command for this activity (and the batch, if the
        activity needs more than the lead)."""


class _Properties(_Activity):
    """The lead's properties `created` gives and `updated` changes (`contact.UPDATABLE`)."""

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


class Created(_Properties):
    """A new lead, or a repeated inquiry from a known one (`Batch.record` handles it)."""

    type: Literal["created"]
    source: Name | None = None
    campaign: Name | None = None
    channel: Name | None = None
    external_id: Name | None = None


class Assigned(LeadActivity):
    type: Literal["assigned"]
    owner: Name | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        if self.owner is None:
            batch.route(lead, ctx)  # the routing rules choose the owner
        else:
            lead.assign(self.owner, ctx)


class Attempted(LeadActivity):
    type: Literal["attempted"]
    channel: Channel

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.attempt(self.channel.value, ctx)


class Responded(LeadActivity):
    type: Literal["responded"]
    channel: Channel | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.respond(self.channel.value if self.channel else None, ctx)


class Qualified(LeadActivity):
    type: Literal["qualified"]
    budget: StrictBool = False
    authority: StrictBool = False
    need: StrictBool = False
    timeline: StrictBool = False
    note: Text | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        bant = {"budget": self.budget, "authority": self.authority, "need": self.need,
                "timeline": self.timeline}  # fmt: skip
        lead.qualify(bant, self.note, ctx)


class Disqualified(LeadActivity):
    type: Literal["disqualified"]
    reason: Text

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.disqualify(self.reason, ctx)


class Nurtured(LeadActivity):
    type: Literal["nurtured"]
    reason: Text | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.nurture(self.reason, ctx)


class BadData(LeadActivity):
    type: Literal["bad_data"]
    channel: ContactChannel = ContactChannel.ALL
    reason: Text | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.mark_bad_data(self.channel, self.reason, ctx)


class Reopened(LeadActivity):
    type: Literal["reopened"]
    reason: Text | None = None
    email: Email | None = None
    phone: Phone | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        email = normalize_email(self.email) if self.email else None
        phone = batch.normalized_phone(self.phone, lead.country)
        batch.claiming(
            lead,
            lambda: lead.reopen(self.reason, email, phone, ctx),
            email=email,
            phone=phone,
            phone_only=not (email or lead.email or lead.external_id),
        )


class Passed(LeadActivity):
    type: Literal["passed"]
    to_owner: Name

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.pass_to(self.to_owner, ctx)


class Accepted(LeadActivity):
    type: Literal["accepted"]

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.accept(ctx)


class OpportunityCreated(LeadActivity):
    type: Literal["opportunity_created"]
    amount: Amount
    opportunity_id: Name | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.open_opportunity(self.amount, self.opportunity_id, ctx)


class Won(LeadActivity):
    type: Literal["won"]
    amount: Amount

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.win(self.amount, ctx)


class Lost(LeadActivity):
    type: Literal["lost"]
    reason: Text | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.lose(self.reason, ctx)


class Touched(LeadActivity):
    type: Literal["touched"]
    kind: TouchKind
    source: Name | None = None
    campaign: Name | None = None
    content: Name | None = None
    url: Url | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.touch(Touch(self.kind, self.source, self.campaign, self.content, self.url), ctx)


class Updated(_Properties, LeadActivity):
    """Changes the properties it names; one named with null is cleared."""

    type: Literal["updated"]

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        changes = {name: getattr(self, name) for name in self.model_fields_set & set(UPDATABLE)}
        if not changes:
            fields = dict.fromkeys(UPDATABLE, "name at least one property to update")
            raise ValidationFailed("updated names no property to change", fields=fields)
        batch.update(lead, changes, ctx)

    def identity(self) -> dict[str, Any]:
        """Only the properties it names: `{"title": null}` clears, absent leaves alone."""
        return self.model_dump(exclude={"id"}, exclude_unset=True) | {"type": self.type}


class OptedOut(LeadActivity):
    type: Literal["opted_out"]
    days: Annotated[StrictInt, Field(gt=0, le=3650)] | None = None

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.opt_out(self.days, ctx)


class OptedIn(LeadActivity):
    type: Literal["opted_in"]

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.opt_in(ctx)


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
    | Updated
    | OptedOut
    | OptedIn,
    Field(discriminator="type"),
]
MODELS: tuple[type[_Activity], ...] = get_args(get_args(Activity)[0])
CLIENT_ACTIVITIES: tuple[str, ...] = tuple(
    get_args(model.model_fields["type"].annotation)[0] for model in MODELS
)
_ADAPTER: TypeAdapter[Activity] = TypeAdapter(Activity)


@dataclass(frozen=True)
class TimerDue:
    """The scheduler's command: the lead's `policy` deadline at `due_at` is due (`tick`)."""

    lead_id: UUID
    policy: Policy
    due_at: datetime
    actor: str = "scheduler"
    occurred_at: None = None
    id: None = None

    def digest(self) -> None:
        """A timer has no identity of its own: the deadline it clears makes it fire once."""

    def apply(self, lead: Lead, ctx: Context, batch: Batch) -> None:
        lead.fire(self.policy, self.due_at, ctx.now, self.actor)


Command = Activity | TimerDue


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
