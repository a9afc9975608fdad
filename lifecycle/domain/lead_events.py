"""The lead's state and its events: what each activity records, and how it is applied.

`LeadEvents` declares them; the aggregate `Lead` (lead.py) subclasses it, and eventsourcing
nests a subclass of each event in it: `Lead.Created`, `Lead.Assigned`… (their module and
qualname say so). Record, match and type-check with those: each `TOPIC`
(`lifecycle:Lead.Created`…, the name stores hold) belongs to the class nested in `Lead`.
Appliers only assign: they run again on every replay, so they never check rules, read a
clock or log.
"""

from __future__ import annotations

from copy import copy
from dataclasses import KW_ONLY
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Self

from eventsourcing.domain import Aggregate

from .contact import ContactDetails
from .identity import ANONYMOUS, identify
from .values import ContactChannel, Outcome, Policy, Region, Stage, Status, TouchKind

NEVER = datetime.min.replace(tzinfo=UTC)
# What every event has that is not its own data (`Event.data`).
_COMMON = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "occurred_at"}
    | {"actor", "status", "stage", "deadlines", "activity_id", "digest"}
)


class LeadEvents(Aggregate):
    """The lead's state and its events, for `Lead` to inherit (no topic: never recorded)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """A copy safe to mutate: every attribute is immutable but these containers (the
        generic deepcopy walked every datetime and enum: dearer than a short replay)."""
        copied = copy(self)
        copied.stage_entered = dict(self.stage_entered)
        copied.deadlines = dict(self.deadlines)
        copied.activities = dict(self.activities)
        copied._pending_events = list(self._pending_events)
        return copied

    def __init__(self) -> None:
        # Everything a Lead has; Created.fold fills in the contact details.
        self.email: str | None = None
        self.phone: str | None = None
        self.first_name: str | None = None
        self.last_name: str | None = None
        self.company: str | None = None
        self.title: str | None = None
        self.country: str | None = None
        self.region: Region | None = None
        self.employees: int | None = None
        self.industry: str | None = None
        self.source: str | None = None
        self.campaign: str | None = None
        self.channel: str | None = None
        self.external_id: str | None = None
        self.status = Status.RAW
        self.stage = Stage.LEAD
        self.stage_entered: dict[Stage, datetime] = {}
        self.score = 0
        self.owner: str | None = None
        self.team: str | None = None
        self.attempts = 0
        self.last_attempt_at: datetime | None = None
        self.cadence_started_at: datetime | None = None
        self.cadence_attempts = 0
        self.responded = False
        self.passed_to: str | None = None
        self.opportunity_id: str | None = None
        self.amount: Decimal | None = None
        self.revenue: Decimal | None = None
        self.outcome: Outcome | None = None
        self.opted_out = False
        self.deadlines: dict[Policy, datetime] = {}
        self.created_at = NEVER
        self.updated_at = NEVER
        self.last_changed_at = NEVER
        self.profile_changed_at = NEVER  # the latest `updated`: they are recorded in order
        # The first and last seq each activity recorded, by ("id"|"digest", value).
        self.activities: dict[tuple[str, str], tuple[int, int]] = {}
        self.last_identity: tuple[str | None, str | None] = ANONYMOUS

    class Event(Aggregate.Event):
        """What every lead event carries."""

        TOPIC = "lifecycle:Lead.Event"
        TYPE: ClassVar[str] = ""
        # Unordered events (timer notices, touches, updates) may have happened before ordered
        # events recorded earlier: they change no status and apply their own change to the
        # deadlines, so a fold "as of" a time never sees what had not happened yet.
        ORDERED: ClassVar[bool] = True
        # Only these events move the funnel stage.
        MOVES_STAGE: ClassVar[bool] = False
        occurred_at: datetime
        actor: str
        status: Status
        stage: Stage
        deadlines: dict[Policy, datetime]
        # Keyword-only with defaults: the client activity's `id` and content digest
        # (`rules.Context`); None (not stored: `storage.codec`) for timers and older events.
        _: KW_ONLY
        activity_id: str | None = None
        digest: str | None = None

        def apply(self, lead: LeadEvents) -> None:
            identify(lead, self.activity_id, self.digest, self.originator_version)
            if self.ORDERED:
                lead.status = self.status
                lead.deadlines = {Policy(key): due for key, due in self.deadlines.items()}
                lead.last_changed_at = max(lead.last_changed_at, self.occurred_at)
            if self.MOVES_STAGE:
                lead.stage = max(lead.stage, self.stage)
            lead.updated_at = self.timestamp
            self.fold(lead)

        def fold(self, lead: LeadEvents) -> None:
            """What this kind of event changes beyond status, stage and deadlines."""

        def data(self) -> dict[str, Any]:
            """The event's own fields, for the timeline."""
            return {key: value for key, value in vars(self).items() if key not in _COMMON}

    class Created(Event, Aggregate.Created):
        TOPIC = "lifecycle:Lead.Created"
        TYPE = "created"
        email: str | None
        phone: str | None
        first_name: str | None
        last_name: str | None
        company: str | None
        title: str | None
        country: str | None
        region: Region | None
        employees: int | None
        industry: str | None
        source: str | None
        campaign: str | None
        channel: str | None
        external_id: str | None
        rules_version: str
        points: int

        def fold(self, lead: LeadEvents) -> None:
            for name in ContactDetails.__dataclass_fields__:
                setattr(lead, name, getattr(self, name))
            lead.created_at = self.occurred_at
            lead.score = self.points
            lead.stage_entered = {Stage.LEAD: self.occurred_at}

    class Scored(Event):
        """The score reached the MQL threshold: the lead became a marketing qualified lead."""

        TOPIC = "lifecycle:Lead.Scored"
        TYPE = "scored"
        ORDERED = False
        MOVES_STAGE = True
        score: int
        threshold: int
        rules_version: str

        def fold(self, lead: LeadEvents) -> None:
            lead.stage_entered.setdefault(Stage.MQL, self.occurred_at)
            due = {Policy(key): at for key, at in self.deadlines.items()}
            if Policy.MQL_FOLLOW_UP in due:
                lead.deadlines[Policy.MQL_FOLLOW_UP] = due[Policy.MQL_FOLLOW_UP]

    class Assigned(Event):
        TOPIC = "lifecycle:Lead.Assigned"
        TYPE = "assigned"
        owner: str
        previous_owner: str | None
        rule: str
        team: str | None
        rules_version: str

        def fold(self, lead: LeadEvents) -> None:
            lead.owner, lead.team = self.owner, self.team

    class Attempted(Event):
        TOPIC = "lifecycle:Lead.Attempted"
        TYPE = "attempted"
        channel: str
        attempt: int
        rules_version: str

        def fold(self, lead: LeadEvents) -> None:
            lead.attempts = self.attempt
            lead.last_attempt_at = self.occurred_at
            if lead.cadence_started_at is not None:
                lead.cadence_attempts += 1
            elif not lead.responded:
                lead.cadence_started_at, lead.cadence_attempts = self.occurred_at, 1

    class Responded(Event):
        TOPIC = "lifecycle:Lead.Responded"
        TYPE = "responded"
        channel: str | None

        def fold(self, lead: LeadEvents) -> None:
            lead.responded = True

    class Qualified(Event):
        TOPIC = "lifecycle:Lead.Qualified"
        TYPE = "qualified"
        budget: bool
        authority: bool
        need: bool
        timeline: bool
        note: str | None

    class Disqualified(Event):
        TOPIC = "lifecycle:Lead.Disqualified"
        TYPE = "disqualified"
        reason: str

    class Nurtured(Event):
        TOPIC = "lifecycle:Lead.Nurtured"
        TYPE = "nurtured"
        reason: str | None

    class MarkedBadData(Event):
        TOPIC = "lifecycle:Lead.MarkedBadData"
        TYPE = "bad_data"
        channel: ContactChannel
        reason: str | None

    class Reopened(Event):
        TOPIC = "lifecycle:Lead.Reopened"
        TYPE = "reopened"
        reason: str | None
        email: str | None
        phone: str | None
        rules_version: str

        def fold(self, lead: LeadEvents) -> None:
            lead.email = self.email
            lead.phone = self.phone
            lead.responded = False
            lead.cadence_started_at, lead.cadence_attempts = None, 0

    class Passed(Event):
        TOPIC = "lifecycle:Lead.Passed"
        TYPE = "passed"
        to_owner: str
        from_owner: str | None
        rules_version: str

        def fold(self, lead: LeadEvents) -> None:
            lead.owner = lead.passed_to = self.to_owner

    class Accepted(Event):
        TOPIC = "lifecycle:Lead.Accepted"
        MOVES_STAGE = True
        TYPE = "accepted"

        def fold(self, lead: LeadEvents) -> None:
            lead.stage_entered.setdefault(Stage.SQL, self.occurred_at)

    class OpportunityCreated(Event):
        TOPIC = "lifecycle:Lead.OpportunityCreated"
        MOVES_STAGE = True
        TYPE = "opportunity_created"
        amount: Decimal
        opportunity_id: str | None

        def fold(self, lead: LeadEvents) -> None:
            lead.opportunity_id, lead.amount = self.opportunity_id, self.amount
            lead.stage_entered.setdefault(Stage.OPPORTUNITY, self.occurred_at)

    class Won(Event):
        TOPIC = "lifecycle:Lead.Won"
        MOVES_STAGE = True
        TYPE = "won"
        amount: Decimal

        def fold(self, lead: LeadEvents) -> None:
            lead.outcome, lead.revenue = Outcome.WON, self.amount
            lead.stage_entered.setdefault(Stage.CUSTOMER, self.occurred_at)

    class Lost(Event):
        TOPIC = "lifecycle:Lead.Lost"
        TYPE = "lost"
        reason: str | None

        def fold(self, lead: LeadEvents) -> None:
            lead.outcome = Outcome.LOST

    class Touched(Event):
        TOPIC = "lifecycle:Lead.Touched"
        TYPE = "touched"
        ORDERED = False
        kind: TouchKind
        source: str | None
        campaign: str | None
        content: str | None
        url: str | None
        points: int
        rules_version: str

        def fold(self, lead: LeadEvents) -> None:
            lead.score += self.points

    class Updated(Event):
        """Contact or company properties changed: `old` and `new` values of those that did
        (plain JSON values), and the change of fit score (`points`)."""

        TOPIC = "lifecycle:Lead.Updated"
        TYPE = "updated"
        ORDERED = False
        old: dict[str, str | int | None]
        new: dict[str, str | int | None]
        points: int
        rules_version: str

        def fold(self, lead: LeadEvents) -> None:
            for name, value in self.new.items():
                setattr(lead, name, Region(value) if name == "region" and value else value)
            lead.score += self.points
            lead.profile_changed_at = self.occurred_at

    class OptedOut(Event):
        TOPIC = "lifecycle:Lead.OptedOut"
        TYPE = "opted_out"
        days: int | None

        def fold(self, lead: LeadEvents) -> None:
            lead.opted_out = True

    class OptedIn(Event):
        TOPIC = "lifecycle:Lead.OptedIn"
        TYPE = "opted_in"

        def fold(self, lead: LeadEvents) -> None:
            lead.opted_out = False

    # Timer events: recorded only by the scheduler; `occurred_at` is the deadline's due time.
    class AutoNurtured(Event):
        TOPIC = "lifecycle:Lead.AutoNurtured"
        TYPE = "auto_nurtured"
        policy: Policy
        due_at: datetime

    class SlaBreached(Event):
        TOPIC = "lifecycle:Lead.SlaBreached"
        TYPE = "sla_breached"
        ORDERED = False
        policy: Policy
        due_at: datetime

        def fold(self, lead: LeadEvents) -> None:
            lead.deadlines.pop(Policy(self.policy), None)

    class Escalated(Event):
        TOPIC = "lifecycle:Lead.Escalated"
        TYPE = "escalated"
        ORDERED = False
        policy: Policy
        due_at: datetime
        owner: str | None

        def fold(self, lead: LeadEvents) -> None:
            lead.deadlines.pop(Policy(self.policy), None)

    class OptOutExpired(Event):
        TOPIC = "lifecycle:Lead.OptOutExpired"
        TYPE = "opt_out_expired"
        ORDERED = False  # a notice: the status stays, a late opt-in/out may predate it
        policy: Policy
        due_at: datetime

        def fold(self, lead: LeadEvents) -> None:
            lead.opted_out = False
            lead.deadlines.pop(Policy(self.policy), None)
