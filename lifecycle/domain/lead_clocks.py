"""The SLA clocks of the lead's commands: the deadlines an activity starts (the first
attempt's, on a team's business calendar; a cadence's), and those a timer event stops. The
rest of what an activity stops is `sla.STOPPED_BY`."""

from __future__ import annotations

from datetime import datetime

from .lead_events import LeadEvents
from .rules import Context
from .sla import STOPPED_BY
from .values import ATTEMPT_STATUSES, Policy, Status

# Statuses in which a new MQL can be followed up by an attempt: elsewhere the lead is already
# in conversation (progressing), handed on (qualified) or closed, and the clock could only breach.
AWAITING_FOLLOW_UP = frozenset({Status.RAW, Status.OPEN, Status.NURTURE, *ATTEMPT_STATUSES})


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


def stopped_by_timer(policy: Policy) -> tuple[Policy, ...]:
    """The deadlines a timer event stops: its own (auto-nurture ends the cadence too)."""
    if policy is Policy.AUTO_NURTURE:
        return (Policy.AUTO_NURTURE, Policy.CADENCE)
    return (policy,)
