"""The lead aggregate: commands decide, events record, appliers only assign.

Each command checks the activity against the status machine and the rules (`decisions.py`,
`lead_clocks.py`), then triggers one past-tense event (`lead_events.py`) carrying everything
replay needs: the business time (`occurred_at`), the `actor`, and the resulting `status`,
`stage` and pending `deadlines`. Appliers never check rules, read a clock or log: they run
again on every replay. The events are `Lead.Created`…, declared in `LeadEvents`; their stored
topics (`lifecycle:Lead.Created`…) are explicit and pinned by a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from . import machine
from .contact import ContactDetails, Touch
from .decisions import (
    check_amount,
    check_bad_data,
    check_bant,
    check_days,
    check_in_order,
    check_not_in_future,
    check_reachable,
    stage_allows,
    updates_watermark,
)
from .errors import TransitionNotAllowed, ValidationFailed
from .lead_clocks import AWAITING_FOLLOW_UP, attempt_clocks, first_attempt_clock, stopped_by_timer
from .lead_events import NEVER, LeadEvents
from .routing import Prospect
from .rules import Context
from .scoring import Profile
from .sla import STOPPED_BY, overdue, updated
from .values import ContactChannel, Policy, Region, Stage, Status

__all__ = ["NEVER", "ContactDetails", "Lead", "Touch"]


class Lead(LeadEvents):
    TOPIC = "lifecycle:Lead"

    # ---------------------------------------------------------------- commands
    @classmethod
    def create(cls, details: ContactDetails, ctx: Context) -> Lead:
        check_reachable(details)
        check_not_in_future(ctx)
        scoring = ctx.rules.scoring
        points = scoring.fit(Profile.of(details)) + scoring.points(scoring.creation_touch)
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
            activity_id=ctx.activity_id,
            digest=ctx.digest,
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

    def attempt(self, channel: str, ctx: Context) -> None:
        status = self._decide("attempted", ctx)
        start, stop = attempt_clocks(self, ctx)
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
        check_bant(bant)
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
        check_bad_data(self, channel)
        deadlines = updated(self.deadlines, stop=STOPPED_BY["bad_data"])
        self._trigger(
            Lead.MarkedBadData, ctx, status, deadlines=deadlines, channel=channel, reason=reason
        )

    def reopen(
        self, reason: str | None, email: str | None, phone: str | None, ctx: Context
    ) -> None:
        status = self._decide("reopened", ctx)
        start = first_attempt_clock(self.team, ctx) if self.owner else {}
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
        check_amount(amount)
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
        check_amount(amount)
        self._trigger(Lead.Won, ctx, status, stage=Stage.CUSTOMER, amount=amount)

    def lose(self, reason: str | None, ctx: Context) -> None:
        status = self._decide("lost", ctx)
        deadlines = updated(self.deadlines, stop=STOPPED_BY["lost"])
        self._trigger(Lead.Lost, ctx, status, deadlines=deadlines, reason=reason)

    def touch(self, touch: Touch, ctx: Context) -> None:
        """Records a marketing touch. Touches may arrive late: no ordering check."""
        check_not_in_future(ctx)
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

    def update(self, changes: Mapping[str, Any], ctx: Context) -> None:
        """Changes properties (`contact.UPDATABLE`, normalized; None clears one) and re-scores
        the fit (an MQL may follow). Those already holding their value are left out; with none
        left, nothing is recorded. Updates are ordered among themselves only."""
        self._decide("updated", ctx, latest=updates_watermark(self))
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not changed:
            return
        after = replace(ContactDetails.of(self), **changed)
        check_reachable(after)
        scoring = ctx.rules.scoring
        self._trigger(
            Lead.Updated,
            ctx,
            self.status,
            old={name: _plain(getattr(self, name)) for name in changed},
            new={name: _plain(value) for name, value in changed.items()},
            points=scoring.fit(Profile.of(after)) - scoring.fit(Profile.of(self)),
            rules_version=ctx.rules.version,
        )
        self._score_check(ctx)

    def opt_out(self, days: int | None, ctx: Context) -> None:
        status = self._decide("opted_out", ctx)
        check_days(days)
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
        deadlines = updated(self.deadlines, stop=stopped_by_timer(policy))
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
    def prospect(self) -> Prospect:
        return Prospect(self.company, self.region, self.employees)

    def allowed(self) -> list[str]:
        """The client activities allowed now (for `transition_not_allowed`)."""
        by_status = machine.allowed_from(self.status)
        return [a for a in by_status if a not in machine.TIMER_ACTIVITIES and stage_allows(self, a)]

    # ----------------------------------------------------------------- helpers
    def _decide(self, activity: str, ctx: Context, latest: datetime | None = None) -> Status:
        check_not_in_future(ctx)
        self._fire_overdue(ctx.occurred_at, ctx.now)
        if not stage_allows(self, activity):
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
        check_in_order(self, activity, ctx, latest)
        return status

    def _assigned(
        self, owner: str, rule: str, team: str | None, status: Status, ctx: Context
    ) -> None:
        start = (
            first_attempt_clock(team, ctx) if status is Status.OPEN and not self.attempts else {}
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

    def _score_check(self, ctx: Context) -> None:
        threshold = ctx.rules.scoring.mql_threshold
        if self.stage is not Stage.LEAD or self.score < threshold:
            return
        due: dict[Policy, datetime] = {}
        if self.status in AWAITING_FOLLOW_UP:
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
            activity_id=ctx.activity_id,
            digest=ctx.digest,
            **fields,
        )


def _plain(value: Any) -> Any:
    """A property's value as `Lead.Updated` stores it (a region by its name)."""
    return value.value if isinstance(value, Region) else value


# The event a due deadline records, and its activity for the status machine.
_TIMER_EVENTS: dict[Policy, tuple[type[Lead.Event], str]] = {
    Policy.AUTO_NURTURE: (Lead.AutoNurtured, "auto_nurtured"),
    Policy.FIRST_ATTEMPT: (Lead.SlaBreached, "sla_breached"),
    Policy.MQL_FOLLOW_UP: (Lead.SlaBreached, "sla_breached"),
    Policy.CADENCE: (Lead.SlaBreached, "sla_breached"),
    Policy.PASSED_FOLLOW_UP: (Lead.Escalated, "escalated"),
    Policy.OPT_OUT_EXPIRY: (Lead.OptOutExpired, "opt_out_expired"),
}
