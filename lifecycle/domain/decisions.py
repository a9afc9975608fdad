"""What the lead's commands decide before they record anything: the checks that refuse an
activity, and the deadlines an activity starts. Pure functions of the lead and the context;
`Lead` (lead.py) calls them and records the event."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .contact import ContactDetails
from .errors import (
    HasContactChannel,
    OccurredInFuture,
    OutOfOrder,
    SoftBantNotMet,
    ValidationFailed,
)
from .inputs import normalize_email
from .lead_events import LeadEvents
from .rules import Context
from .sla import STOPPED_BY
from .values import ATTEMPT_STATUSES, ContactChannel, Policy, Stage, Status

# Statuses in which a new MQL can be followed up by an attempt: elsewhere the lead is already
# in conversation (progressing), handed on (qualified) or closed, and the clock could only breach.
AWAITING_FOLLOW_UP = frozenset({Status.RAW, Status.OPEN, Status.NURTURE, *ATTEMPT_STATUSES})


def stage_allows(lead: LeadEvents, activity: str) -> bool:
    """Whether the funnel stage allows the activity (the status machine decides the rest)."""
    if activity == "accepted":
        return lead.passed_to is not None and lead.stage < Stage.SQL
    if activity == "opportunity_created":
        return lead.stage is Stage.SQL
    if activity in ("won", "lost"):
        return lead.stage is Stage.OPPORTUNITY and not lead.won_or_lost
    return True


def check_in_order(lead: LeadEvents, activity: str, ctx: Context) -> None:
    if ctx.occurred_at < lead.last_changed_at:
        raise OutOfOrder(
            f"{activity} occurred at {ctx.occurred_at.isoformat()}, before the lead's "
            f"latest change at {lead.last_changed_at.isoformat()}",
            latest=lead.last_changed_at.isoformat(),
        )


def check_not_in_future(ctx: Context) -> None:
    if ctx.occurred_at > ctx.now + ctx.rules.future_tolerance:
        raise OccurredInFuture(
            f"occurred_at {ctx.occurred_at.isoformat()} is more than "
            f"{ctx.rules.future_tolerance} in the future",
            occurred_at=ctx.occurred_at.isoformat(),
        )


def check_reachable(details: ContactDetails) -> None:
    if not normalize_email(details.email) and not (details.phone or "").strip():
        raise ValidationFailed(
            "a lead needs an email or a phone", fields={"email": "email or phone required"}
        )


def check_bant(bant: dict[str, bool]) -> None:
    if sum(1 for met in bant.values() if met) < 2:
        raise SoftBantNotMet(
            "Soft-BANT needs at least 2 of budget, authority, need and timeline",
            met=[name for name, met in bant.items() if met],
        )


def check_bad_data(lead: LeadEvents, channel: ContactChannel) -> None:
    """Refuses bad data while the lead has another working channel."""
    remaining = {
        ContactChannel.EMAIL: "phone" if (lead.phone or "").strip() else None,
        ContactChannel.PHONE: "email" if normalize_email(lead.email) else None,
        ContactChannel.ALL: None,
    }[channel]
    if remaining:
        raise HasContactChannel(
            f"the lead still has a working {remaining}: it is not bad data", channel=remaining
        )


def check_amount(amount: Decimal) -> None:
    if amount <= 0:
        raise ValidationFailed("amount must be positive", fields={"amount": "must be > 0"})


def first_attempt_clock(team: str | None, ctx: Context) -> dict[Policy, datetime]:
    routing = ctx.rules.routing
    calendar = next((t.calendar for t in routing.teams if t.name == team), None)
    return {Policy.FIRST_ATTEMPT: ctx.rules.sla.first_attempt_due(ctx.occurred_at, calendar)}


def attempt_clocks(
    lead: LeadEvents, ctx: Context
) -> tuple[dict[Policy, datetime], tuple[Policy, ...]]:
    """The deadlines an attempt starts and stops: the first attempt of a cadence starts its
    window; the attempt that completes the cadence within the window stops it."""
    sla = ctx.rules.sla
    start = {Policy.AUTO_NURTURE: ctx.occurred_at + sla.auto_nurture}
    stop: tuple[Policy, ...] = STOPPED_BY["attempted"]
    cadence_due = lead.deadlines.get(Policy.CADENCE)
    if lead.cadence_started_at is None and not lead.responded:
        start[Policy.CADENCE] = ctx.occurred_at + sla.cadence_window
    elif (
        cadence_due is not None
        and ctx.occurred_at <= cadence_due
        and lead.cadence_attempts + 1 >= sla.cadence_attempts
    ):
        stop = (*stop, Policy.CADENCE)
    return start, stop


def check_days(days: int | None) -> None:
    if days is not None and days <= 0:
        raise ValidationFailed("days must be positive", fields={"days": "must be > 0"})


def stopped_by_timer(policy: Policy) -> tuple[Policy, ...]:
    """The deadlines a timer event stops: its own (auto-nurture ends the cadence too)."""
    if policy is Policy.AUTO_NURTURE:
        return (Policy.AUTO_NURTURE, Policy.CADENCE)
    return (policy,)
