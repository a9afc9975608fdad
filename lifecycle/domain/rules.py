"""The rulebook: every configurable policy a lead command reads, with the version that made it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .routing import RoutingRules
from .scoring import ScoringPolicy
from .sla import SlaPolicies


@dataclass(frozen=True)
class Rulebook:
    version: str = "builtin"
    scoring: ScoringPolicy = field(default_factory=ScoringPolicy)
    routing: RoutingRules = field(default_factory=RoutingRules)
    sla: SlaPolicies = field(default_factory=SlaPolicies)
    # How far in the future an `occurred_at` may be (clocks of senders drift).
    future_tolerance: timedelta = timedelta(minutes=5)
    # Where a phone number without a country code is read (domain/phones.py), ISO 3166-1.
    phone_region: str = "US"


@dataclass(frozen=True)
class Context:
    """Who records an activity, when it happened, what time it is now, and the rules in force.

    The domain never reads a clock: `now` is given, like everything else.
    """

    occurred_at: datetime
    actor: str
    now: datetime
    rules: Rulebook = field(default_factory=Rulebook)
    # What identifies the activity on its lead (docs/activities.md, Duplicates): the sender's
    # own `id`, and a digest of its content when it says when it happened. Every event the
    # activity records carries them, so a second delivery of it is known and records nothing.
    activity_id: str | None = None
    digest: str | None = None
