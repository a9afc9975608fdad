"""SLA policies (docs/activities.md): how long each clock runs, and which events start or stop it.

Deadlines are part of the lead's state: every event carries the full map of pending deadlines
after it, computed once here when the event is decided, so replay and the deadlines projection
copy them instead of recomputing (a later change of policy never moves a recorded deadline).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from .calendar import BusinessCalendar
from .values import Policy

Deadlines = Mapping[Policy, datetime]
NO_DEADLINES: Deadlines = MappingProxyType({})


_WORKED = (Policy.FIRST_ATTEMPT, Policy.MQL_FOLLOW_UP)
_CLOSED = (*_WORKED, Policy.AUTO_NURTURE, Policy.CADENCE)

# Which clocks each activity stops (met, when it happened by the deadline). The aggregate
# applies it when deciding; the SLA report reads it to judge activities recorded late. The
# cadence is also met by its last attempt in time, and `attempted` restarts auto-nurture:
# the aggregate handles those two itself.
STOPPED_BY: Mapping[str, tuple[Policy, ...]] = MappingProxyType(
    {
        "attempted": _WORKED,
        "responded": (*_CLOSED, Policy.PASSED_FOLLOW_UP),
        "qualified": _CLOSED,
        "disqualified": (*_CLOSED, Policy.PASSED_FOLLOW_UP),
        "nurtured": (*_CLOSED, Policy.PASSED_FOLLOW_UP),
        "bad_data": _CLOSED,
        "lost": _CLOSED,
        "accepted": (Policy.PASSED_FOLLOW_UP,),
        "opportunity_created": (Policy.PASSED_FOLLOW_UP,),
        "opted_out": (Policy.OPT_OUT_EXPIRY,),
        "opted_in": (Policy.OPT_OUT_EXPIRY,),
    }
)


@dataclass(frozen=True)
class SlaPolicies:
    first_attempt_business_hours: float = 4.0
    mql_follow_up: timedelta = timedelta(hours=24)
    cadence_attempts: int = 5
    cadence_window: timedelta = timedelta(days=14)
    auto_nurture: timedelta = timedelta(days=21)
    passed_follow_up: timedelta = timedelta(days=3)
    opt_out_expiry: timedelta = timedelta(days=30)
    calendars: Mapping[str, BusinessCalendar] = field(
        default_factory=lambda: {"default": BusinessCalendar()}
    )

    def calendar(self, name: str | None) -> BusinessCalendar:
        return self.calendars.get(name or "default") or self.calendars.get(
            "default", BusinessCalendar()
        )

    def first_attempt_due(self, assigned_at: datetime, calendar: str | None) -> datetime:
        return self.calendar(calendar).add_business_hours(
            assigned_at, self.first_attempt_business_hours
        )


def updated(
    deadlines: Deadlines, start: Deadlines = NO_DEADLINES, stop: tuple[Policy, ...] = ()
) -> dict[Policy, datetime]:
    """The deadlines after stopping `stop` and (re)starting `start`.

    Due times are kept in UTC: clients send any offset, and one form makes the stored events,
    the deadlines table and the equality check of `Lead.fire` agree.
    """
    result = {policy: due for policy, due in deadlines.items() if policy not in stop}
    result.update({policy: due.astimezone(UTC) for policy, due in start.items()})
    return result


_RANK = {policy: rank for rank, policy in enumerate(Policy)}


def overdue(
    deadlines: Deadlines, before: datetime, policy: Policy | None = None
) -> list[tuple[Policy, datetime]]:
    """The deadlines that fall due before `before` (and, at the same time, before `policy`).

    In firing order: by due time, ties in the order of `Policy`. Timers of one lead fire in
    this order whoever fires them, so a timer that stops another (auto-nurture stops the
    cadence) never hides an earlier one.
    """
    limit = (before, _RANK[policy] if policy is not None else -1)
    due = [(p, at) for p, at in deadlines.items() if (at, _RANK[p]) < limit]
    return sorted(due, key=lambda item: (item[1], _RANK[item[0]]))
