"""What the lead's commands check before they record anything: each check refuses the
activity with its error, or passes. Pure functions of the lead and the context; `Lead`
(lead.py) calls them, and `lead_clocks.py` says which deadlines the activity starts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from . import machine
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
from .values import ContactChannel, Stage


def stage_allows(lead: LeadEvents, activity: str) -> bool:
    """Whether the funnel stage allows the activity (the status machine decides the rest)."""
    if activity == "accepted":
        return lead.passed_to is not None and lead.stage < Stage.SQL
    if activity == "opportunity_created":
        return lead.stage is Stage.SQL
    if activity in ("won", "lost"):
        return lead.stage is Stage.OPPORTUNITY and lead.outcome is None
    return True


def check_in_order(
    lead: LeadEvents, activity: str, ctx: Context, latest: datetime | None = None
) -> None:
    """Refuses an activity older than the lead's latest change (`latest`: by default its
    latest state change; an `updated` is ordered among the updates only)."""
    latest = lead.last_changed_at if latest is None else latest
    if ctx.occurred_at < latest:
        raise OutOfOrder(
            f"{activity} occurred at {ctx.occurred_at.isoformat()}, before the lead's "
            f"latest change at {latest.isoformat()}",
            latest=latest.isoformat(),
        )


def updates_watermark(lead: LeadEvents) -> datetime:
    """What an `updated` may not be older than: the lead's creation and its latest update."""
    return max(lead.created_at, lead.profile_changed_at)


def can_update(lead: LeadEvents, ctx: Context) -> bool:
    """Whether an `updated` at `ctx` is allowed (its status, its order)."""
    allowed = "updated" in machine.allowed_from(lead.status)
    return allowed and ctx.occurred_at >= updates_watermark(lead)


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


def check_days(days: int | None) -> None:
    if days is not None and days <= 0:
        raise ValidationFailed("days must be positive", fields={"days": "must be > 0"})
