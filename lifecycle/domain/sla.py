"""SLA policies (DESIGN.md §1): how long each clock runs, and which events start or stop it.

Deadlines are part of the lead's state: every event carries the full map of pending deadlines
after it, computed once here when the event is decided, so replay and the deadlines projection
copy them instead of recomputing (a later change of policy never moves a recorded deadline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Mapping

from .calendar import BusinessCalendar
from .values import Policy

Deadlines = Mapping[Policy, datetime]
NO_DEADLINES: Deadlines = MappingProxyType({})


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


def updated(deadlines: Deadlines, start: Deadlines = NO_DEADLINES, stop: tuple[Policy, ...] = ()) -> dict[Policy, datetime]:
    """The deadlines after stopping `stop` and (re)starting `start`."""
    result = {policy: due for policy, due in deadlines.items() if policy not in stop}
    result.update(start)
    return result
