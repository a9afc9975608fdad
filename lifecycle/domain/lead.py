"""The lead aggregate: commands decide, events record, appliers only assign.

Each command checks the activity against the status machine and the rules, then triggers one
past-tense event carrying everything replay needs: the business time (`occurred_at`), the
`actor`, and the resulting `status`, `stage` and pending `deadlines`. Appliers never check
rules, read a clock or log: they run again on every replay.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from . import machine
from .errors import (
    HasContactChannel,
    OccurredInFuture,
    OutOfOrder,
    SoftBantNotMet,
    TransitionNotAllowed,
    ValidationFailed,
)
from .inputs import normalize_email
from .routing import Prospect
from .rules import Context
from .scoring import Profile
from .sla import STOPPED_BY, overdue, updated
from .values import (
    ATTEMPT_STATUSES,
    ContactChannel,
    Outcome,
    Policy,
    Region,
    Stage,
    Status,
    TouchKind,
)

NEVER = datetime.min.replace(tzinfo=UTC)

# Statuses in which a new MQL can be followed up by an attempt: elsewhere the lead is already
# in conversation (progressing), handed on (qualified) or closed, and the clock could only breach.
_AWAITING_FOLLOW_UP = frozenset({Status.RAW, Status.OPEN, Status.NURTURE, *ATTEMPT_STATUSES})


@dataclass(frozen=True)
class ContactDetails:
    """The fields of a `created` activity."""

    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    country: str | None = None
    region: Region | None = None
    employees: int | None = None
    industry: str | None = None
    source: str | None = None
    campaign: str | None = None
    channel: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class Touch:
    kind: TouchKind
    source: str | None = None
    campaign: str | None = None
    content: str | None = None
    url: str | None = None


class Lead(Aggregate):
    TOPIC = "lifecycle:Lead"

    class Event(Aggregate.Event):
        """What every lead event carries."""

        TOPIC = "lifecycle:Lead.Event"
        TYPE: ClassVar[str] = ""
        # Timer notices and touches do not move the ordering watermark (docs/activities.md), and
        # may have happened before ordered events recorded earlier: they change no status and
        # apply their own change to the deadlines rather than copying the whole map, so a
        # fold "as of" a time never sees state from events that had not happened yet.
        ORDERED: ClassVar[bool] = True
        # Only these events move the funnel stage.
        MOVES_STAGE: ClassVar[bool] = False
        occurred_at: datetime
        actor: str
        status: Status
        stage: Stage
        deadlines: dict[Policy, datetime]

        def apply(self, lead: Lead) -> None:
            if self.ORDERED:
                lead.status = self.status
                lead.deadlines = {Policy(key): due for key, due in self.deadlines.items()}
                lead.last_changed_at = max(lead.last_changed_at, self.occurred_at)
            if self.MOVES_STAGE:
                lead.stage = max(lead.stage, self.stage)
            lead.updated_at = self.timestamp
            self.fold(lead)

        def fold(self, lead: Lead) -> None:
            """What this kind of event changes beyond status, stage and deadlines."""

        def data(self) -> dict[str, Any]:
            """The event's own fields, for the timeline."""
            common = {"originator_id", "originator_version", "timestamp", "originator_topic"}
            common |= {"occurred_at", "actor", "status", "stage", "deadlines"}
            return {key: value for key, value in vars(self).items() if key not in common}

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

        def fold(self, lead: Lead) -> None:
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

        def fold(self, lead: Lead) -> None:
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

        def fold(self, lead: Lead) -> None:
            lead.owner, lead.team = self.owner, self.team

    class Attempted(Event):
        TOPIC = "lifecycle:Lead.Attempted"
        TYPE = "attempted"
        channel: str
        attempt: int
        rules_version: str

        def fold(self, lead: Lead) -> None:
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

        def fold(self, lead: Lead) -> None:
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

        def fold(self, lead: Lead) -> None:
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

        def fold(self, lead: Lead) -> None:
            lead.owner = lead.passed_to = self.to_owner

    class Accepted(Event):
        TOPIC = "lifecycle:Lead.Accepted"
        MOVES_STAGE = True
        TYPE = "accepted"

        def fold(self, lead: Lead) -> None:
            lead.stage_entered.setdefault(Stage.SQL, self.occurred_at)

    class OpportunityCreated(Event):
        TOPIC = "lifecycle:Lead.OpportunityCreated"
        MOVES_STAGE = True
        TYPE = "opportunity_created"
        amount: Decimal
        opportunity_id: str | None

        def fold(self, lead: Lead) -> None:
            lead.opportunity_id, lead.amount = self.opportunity_id, self.amount
            lead.stage_entered.setdefault(Stage.OPPORTUNITY, self.occurred_at)

    class Won(Event):
        TOPIC = "lifecycle:Lead.Won"
        MOVES_STAGE = True
        TYPE = "won"
        amount: Decimal

        def fold(self, lead: Lead) -> None:
            lead.outcome, lead.revenue = Outcome.WON, self.amount
            lead.stage_entered.setdefault(Stage.CUSTOMER, self.occurred_at)

    class Lost(Event):
        TOPIC = "lifecycle:Lead.Lost"
        TYPE = "lost"
        reason: str | None

        def fold(self, lead: Lead) -> None:
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

        def fold(self, lead: Lead) -> None:
            lead.score += self.points

    class OptedOut(Event):
        TOPIC = "lifecycle:Lead.OptedOut"
        TYPE = "opted_out"
        days: int | None

        def fold(self, lead: Lead) -> None:
            lead.opted_out = True

    class OptedIn(Event):
        TOPIC = "lifecycle:Lead.OptedIn"
        TYPE = "opted_in"

        def fold(self, lead: Lead) -> None:
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

        def fold(self, lead: Lead) -> None:
            lead.deadlines.pop(Policy(self.policy), None)

    class Escalated(Event):
        TOPIC = "lifecycle:Lead.Escalated"
        TYPE = "escalated"
        ORDERED = False
        policy: Policy
        due_at: datetime
        owner: str | None

        def fold(self, lead: Lead) -> None:
            lead.deadlines.pop(Policy(self.policy), None)

    class OptOutExpired(Event):
        TOPIC = "lifecycle:Lead.OptOutExpired"
        TYPE = "opt_out_expired"
        ORDERED = False  # a notice: the status stays, a late opt-in/out may predate it
        policy: Policy
        due_at: datetime

        def fold(self, lead: Lead) -> None:
            lead.opted_out = False
            lead.deadlines.pop(Policy(self.policy), None)

    def __deepcopy__(self, memo: dict[int, Any]) -> Lead:
        """A copy safe to mutate: every attribute is immutable but these containers.

        eventsourcing copies each cached aggregate before a command; the generic deepcopy
        walked every datetime and enum and cost more than replaying a short history.
        """
        copied = copy(self)
        copied.stage_entered = dict(self.stage_entered)
        copied.deadlines = dict(self.deadlines)
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

    # ---------------------------------------------------------------- commands
    @classmethod
    def create(cls, details: ContactDetails, ctx: Context) -> Lead:
        if not normalize_email(details.email) and not (details.phone or "").strip():
            raise ValidationFailed(
                "a lead needs an email or a phone", fields={"email": "email or phone required"}
            )
        _check_not_in_future(ctx)
        scoring = ctx.rules.scoring
        profile = Profile(details.title, details.employees, details.industry)
        points = scoring.fit(profile) + scoring.points(scoring.creation_touch)
        lead = cls._create(
            cls.Created,
            timestamp=ctx.now,
            occurred_at=ctx.occurred_at,
            actor=ctx.actor,
            status=Status.RAW,
            stage=Stage.LEAD,
            deadlines={},
            rules_version=ctx.rules.version,
            points=points,
            **{name: getattr(details, name) for name in ContactDetails.__dataclass_fields__},
        )
        lead._score_check(ctx)
        return lead

    def assign(self, owner: str | None, ctx: Context) -> None:
        """Gives the lead an owner: the one named, or the one the routing rules choose.

        Without an owner, the caller resolves the team's turn; see `route`.
        """
        status = self._decide("assigned", ctx)
        if not owner:
            raise ValidationFailed("assigned needs an owner", fields={"owner": "required"})
        team = ctx.rules.routing.team_of(owner)
        self._assigned(owner, "explicit", team.name if team else None, status, ctx)

    def assign_routed(self, owner: str, rule: str, team: str | None, ctx: Context) -> None:
        status = self._decide("assigned", ctx)
        self._assigned(owner, rule, team, status, ctx)

    def prospect(self) -> Prospect:
        return Prospect(self.company, self.region, self.employees)

    def attempt(self, channel: str, ctx: Context) -> None:
        status = self._decide("attempted", ctx)
        sla = ctx.rules.sla
        start = {Policy.AUTO_NURTURE: ctx.occurred_at + sla.auto_nurture}
        stop: tuple[Policy, ...] = STOPPED_BY["attempted"]
        cadence_due = self.deadlines.get(Policy.CADENCE)
        if self.cadence_started_at is None and not self.responded:
            start[Policy.CADENCE] = ctx.occurred_at + sla.cadence_window
        elif (
            cadence_due is not None
            and ctx.occurred_at <= cadence_due
            and self.cadence_attempts + 1 >= sla.cadence_attempts
        ):
            stop = (*stop, Policy.CADENCE)
        self._trigger(
            Lead.Attempted,
            ctx,
            status,
            deadlines=updated(self.deadlines, start, stop),
            channel=channel,
            attempt=self.attempts + 1,
            rules_version=ctx.rules.version,
        )

    def respond(self, channel: str | None, ctx: Context) -> None:
        status = self._decide("responded", ctx)
        deadlines = updated(self.deadlines, stop=STOPPED_BY["responded"])
        self._trigger(Lead.Responded, ctx, status, deadlines=deadlines, channel=channel)

    def qualify(self, bant: dict[str, bool], note: str | None, ctx: Context) -> None:
        status = self._decide("qualified", ctx)
        if sum(1 for met in bant.values() if met) < 2:
            raise SoftBantNotMet(
                "Soft-BANT needs at least 2 of budget, authority, need and timeline",
                met=[name for name, met in bant.items() if met],
            )
        deadlines = updated(self.deadlines, stop=STOPPED_BY["qualified"])
        self._trigger(
            Lead.Qualified,
            ctx,
            status,
            deadlines=deadlines,
            note=note,
            budget=bant["budget"],
            authority=bant["authority"],
            need=bant["need"],
            timeline=bant["timeline"],
        )

    def disqualify(self, reason: str, ctx: Context) -> None:
        status = self._decide("disqualified", ctx)
        deadlines = updated(self.deadlines, stop=STOPPED_BY["disqualified"])
        self._trigger(Lead.Disqualified, ctx, status, deadlines=deadlines, reason=reason)

    def nurture(self, reason: str | None, ctx: Context) -> None:
        status = self._decide("nurtured", ctx)
        deadlines = updated(self.deadlines, stop=STOPPED_BY["nurtured"])
        self._trigger(Lead.Nurtured, ctx, status, deadlines=deadlines, reason=reason)

    def mark_bad_data(self, channel: ContactChannel, reason: str | None, ctx: Context) -> None:
        status = self._decide("bad_data", ctx)
        remaining = {
            ContactChannel.EMAIL: "phone" if (self.phone or "").strip() else None,
            ContactChannel.PHONE: "email" if normalize_email(self.email) else None,
            ContactChannel.ALL: None,
        }[channel]
        if remaining:
            raise HasContactChannel(
                f"the lead still has a working {remaining}: it is not bad data",
                channel=remaining,
            )
        deadlines = updated(self.deadlines, stop=STOPPED_BY["bad_data"])
        self._trigger(
            Lead.MarkedBadData, ctx, status, deadlines=deadlines, channel=channel, reason=reason
        )

    def reopen(
        self, reason: str | None, email: str | None, phone: str | None, ctx: Context
    ) -> None:
        status = self._decide("reopened", ctx)
        start = self._first_attempt_clock(self.team, ctx) if self.owner else {}
        self._trigger(
            Lead.Reopened,
            ctx,
            status,
            deadlines=updated(self.deadlines, start),
            reason=reason,
            email=email if email is not None else self.email,
            phone=phone if phone is not None else self.phone,
            rules_version=ctx.rules.version,
        )

    def pass_to(self, to_owner: str, ctx: Context) -> None:
        status = self._decide("passed", ctx)
        start = {Policy.PASSED_FOLLOW_UP: ctx.occurred_at + ctx.rules.sla.passed_follow_up}
        self._trigger(
            Lead.Passed,
            ctx,
            status,
            deadlines=updated(self.deadlines, start),
            to_owner=to_owner,
            from_owner=self.owner,
            rules_version=ctx.rules.version,
        )

    def accept(self, ctx: Context) -> None:
        status = self._decide("accepted", ctx)
        deadlines = updated(self.deadlines, stop=STOPPED_BY["accepted"])
        self._trigger(Lead.Accepted, ctx, status, stage=Stage.SQL, deadlines=deadlines)

    def open_opportunity(self, amount: Decimal, opportunity_id: str | None, ctx: Context) -> None:
        status = self._decide("opportunity_created", ctx)
        _check_amount(amount)
        deadlines = updated(self.deadlines, stop=STOPPED_BY["opportunity_created"])
        self._trigger(
            Lead.OpportunityCreated,
            ctx,
            status,
            stage=Stage.OPPORTUNITY,
            deadlines=deadlines,
            amount=amount,
            opportunity_id=opportunity_id,
        )

    def win(self, amount: Decimal, ctx: Context) -> None:
        status = self._decide("won", ctx)
        _check_amount(amount)
        self._trigger(Lead.Won, ctx, status, stage=Stage.CUSTOMER, amount=amount)

    def lose(self, reason: str | None, ctx: Context) -> None:
        status = self._decide("lost", ctx)
        deadlines = updated(self.deadlines, stop=STOPPED_BY["lost"])
        self._trigger(Lead.Lost, ctx, status, deadlines=deadlines, reason=reason)

    def touch(self, touch: Touch, ctx: Context) -> None:
        """Records a marketing touch. Touches may arrive late: no ordering check."""
        _check_not_in_future(ctx)
        points = ctx.rules.scoring.points(touch.kind)
        self._trigger(
            Lead.Touched,
            ctx,
            self.status,
            kind=touch.kind,
            source=touch.source,
            campaign=touch.campaign,
            content=touch.content,
            url=touch.url,
            points=points,
            rules_version=ctx.rules.version,
        )
        self._score_check(ctx)

    def opt_out(self, days: int | None, ctx: Context) -> None:
        status = self._decide("opted_out", ctx)
        if days is not None and days <= 0:
            raise ValidationFailed("days must be positive", fields={"days": "must be > 0"})
        start = {Policy.OPT_OUT_EXPIRY: ctx.occurred_at + timedelta(days=days)} if days else {}
        deadlines = updated(self.deadlines, start, stop=STOPPED_BY["opted_out"])
        self._trigger(Lead.OptedOut, ctx, status, deadlines=deadlines, days=days)

    def opt_in(self, ctx: Context) -> None:
        status = self._decide("opted_in", ctx)
        deadlines = updated(self.deadlines, stop=STOPPED_BY["opted_in"])
        self._trigger(Lead.OptedIn, ctx, status, deadlines=deadlines)

    # ------------------------------------------------------------------ timers
    def fire(
        self, policy: Policy, due_at: datetime, now: datetime, actor: str = "scheduler"
    ) -> bool:
        """Records the timer event for a due deadline; False when it is not (or no longer) due.

        Firing is idempotent: the event clears the deadline, so a second fire finds nothing.
        Timers of this lead due earlier fire first, whoever asks: concurrent ticks then cannot
        record them out of order or let a later timer stop an earlier one unrecorded.
        """
        if self.deadlines.get(policy) != due_at or due_at > now:
            return False
        self._fire_overdue(due_at, now, actor, policy)
        self._fire_one(policy, due_at, now, actor)
        return True

    def _fire_overdue(
        self,
        before: datetime,
        now: datetime,
        actor: str = "scheduler",
        policy: Policy | None = None,
    ) -> None:
        """Fires every pending deadline due before `before` (see `sla.overdue`), in order.

        A command calls it with its `occurred_at`: a deadline that passed before the activity
        happened was missed, whether or not a tick ran in between, so its event is recorded
        first (dated at its due time) and downtime of the scheduler changes nothing.
        """
        for pending, due_at in overdue(self.deadlines, before, policy):
            if self.deadlines.get(pending) == due_at:  # an earlier timer may have stopped it
                self._fire_one(pending, due_at, now, actor)

    def _fire_one(self, policy: Policy, due_at: datetime, now: datetime, actor: str) -> None:
        event_class, activity = _TIMER_EVENTS[policy]
        status = machine.next_status(self.status, activity)
        deadlines = updated(self.deadlines, stop=_stopped_by_timer(policy))
        extra = {"owner": self.owner} if event_class is Lead.Escalated else {}
        self.trigger_event(
            event_class,
            timestamp=now,
            occurred_at=due_at,
            actor=actor,
            status=status,
            stage=self.stage,
            deadlines=deadlines,
            policy=policy,
            due_at=due_at,
            **extra,
        )

    # ----------------------------------------------------------------- queries
    def allowed(self) -> list[str]:
        """The client activities allowed now (for `transition_not_allowed`)."""
        by_status = machine.allowed_from(self.status)
        return [a for a in by_status if a not in machine.TIMER_ACTIVITIES and self._stage_allows(a)]

    @property
    def won_or_lost(self) -> bool:
        return self.outcome is not None

    # ----------------------------------------------------------------- helpers
    def _decide(self, activity: str, ctx: Context) -> Status:
        _check_not_in_future(ctx)
        self._fire_overdue(ctx.occurred_at, ctx.now)
        if not self._stage_allows(activity):
            raise TransitionNotAllowed(
                f"{activity} is not allowed when the lead is {self.status.value} "
                f"at stage {self.stage.value}",
                status=self.status.value,
                stage=self.stage.value,
                allowed=self.allowed(),
            )
        try:
            status = machine.next_status(self.status, activity)
        except TransitionNotAllowed as error:
            error.details["allowed"] = self.allowed()
            raise
        if ctx.occurred_at < self.last_changed_at:
            raise OutOfOrder(
                f"{activity} occurred at {ctx.occurred_at.isoformat()}, before the lead's "
                f"latest change at {self.last_changed_at.isoformat()}",
                latest=self.last_changed_at.isoformat(),
            )
        return status

    def _stage_allows(self, activity: str) -> bool:
        if activity == "accepted":
            return self.passed_to is not None and self.stage < Stage.SQL
        if activity == "opportunity_created":
            return self.stage is Stage.SQL
        if activity in ("won", "lost"):
            return self.stage is Stage.OPPORTUNITY and not self.won_or_lost
        return True

    def _assigned(
        self, owner: str, rule: str, team: str | None, status: Status, ctx: Context
    ) -> None:
        start = (
            self._first_attempt_clock(team, ctx)
            if status is Status.OPEN and not self.attempts
            else {}
        )
        self._trigger(
            Lead.Assigned,
            ctx,
            status,
            deadlines=updated(self.deadlines, start),
            owner=owner,
            previous_owner=self.owner,
            rule=rule,
            team=team,
            rules_version=ctx.rules.version,
        )

    def _first_attempt_clock(self, team: str | None, ctx: Context) -> dict[Policy, datetime]:
        routing = ctx.rules.routing
        calendar = next((t.calendar for t in routing.teams if t.name == team), None)
        return {Policy.FIRST_ATTEMPT: ctx.rules.sla.first_attempt_due(ctx.occurred_at, calendar)}

    def _score_check(self, ctx: Context) -> None:
        threshold = ctx.rules.scoring.mql_threshold
        if self.stage is not Stage.LEAD or self.score < threshold:
            return
        due: dict[Policy, datetime] = {}
        if self.status in _AWAITING_FOLLOW_UP:
            due[Policy.MQL_FOLLOW_UP] = ctx.occurred_at + ctx.rules.sla.mql_follow_up
        self._trigger(
            Lead.Scored,
            ctx,
            self.status,
            stage=Stage.MQL,
            deadlines=updated(self.deadlines, due),
            score=self.score,
            threshold=threshold,
            rules_version=ctx.rules.version,
        )

    def _trigger(
        self,
        event_class: type[Lead.Event],
        ctx: Context,
        status: Status,
        stage: Stage | None = None,
        deadlines: dict[Policy, datetime] | None = None,
        **fields: Any,
    ) -> None:
        self.trigger_event(
            event_class,
            timestamp=ctx.now,
            occurred_at=ctx.occurred_at,
            actor=ctx.actor,
            status=status,
            stage=max(stage or self.stage, self.stage),
            deadlines=dict(self.deadlines) if deadlines is None else deadlines,
            **fields,
        )


_TIMER_EVENTS: dict[Policy, tuple[type[Lead.Event], str]] = {
    Policy.AUTO_NURTURE: (Lead.AutoNurtured, "auto_nurtured"),
    Policy.FIRST_ATTEMPT: (Lead.SlaBreached, "sla_breached"),
    Policy.MQL_FOLLOW_UP: (Lead.SlaBreached, "sla_breached"),
    Policy.CADENCE: (Lead.SlaBreached, "sla_breached"),
    Policy.PASSED_FOLLOW_UP: (Lead.Escalated, "escalated"),
    Policy.OPT_OUT_EXPIRY: (Lead.OptOutExpired, "opt_out_expired"),
}


def _stopped_by_timer(policy: Policy) -> tuple[Policy, ...]:
    if policy is Policy.AUTO_NURTURE:
        return (Policy.AUTO_NURTURE, Policy.CADENCE)
    return (policy,)


def _check_not_in_future(ctx: Context) -> None:
    if ctx.occurred_at > ctx.now + ctx.rules.future_tolerance:
        raise OccurredInFuture(
            f"occurred_at {ctx.occurred_at.isoformat()} is more than "
            f"{ctx.rules.future_tolerance} in the future",
            occurred_at=ctx.occurred_at.isoformat(),
        )


def _check_amount(amount: Decimal) -> None:
    if amount <= 0:
        raise ValidationFailed("amount must be positive", fields={"amount": "must be > 0"})
