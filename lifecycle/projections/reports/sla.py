"""SLA compliance: per policy, how many deadlines were due, met and breached, and by owner.

A deadline is *due* once it was met or its time has passed (`now`); `met + breached = due`,
`compliance = met / due`. Met and breached go by when things *occurred*: a deadline stopped by
an activity that occurred in time is met even if it was recorded after the scheduler fired the
breach — those are counted as `corrected` — and a deadline whose time passed before the
scheduler got to it is breached already. Clocks replaced before they were due (a reassigned
lead gets a new first-attempt clock) are not deadlines anyone missed and are left out.

The period selects clocks by the time they started. Owners are the lead's owner when the clock
started: the person who had to act. Time to first attempt is measured from the lead's first
assignment to its first attempt in the business hours of the assigned team's calendar.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ...domain.calendar import BusinessCalendar
from ...domain.rules import Rulebook
from ..base import micros, moment
from ..clocks import BREACHED, MET, PENDING, SLA_POLICIES, sla_clocks
from ..facts import lead_facts
from . import shapes
from .common import hours, percentile, ratio, utc
from .options import Options, Spec

SPEC = Spec(groups=("owner",), default_group="owner")


@dataclass
class _Tally:
    met: int = 0
    breached: int = 0
    pending: int = 0
    corrected: int = 0
    recorded: int = 0

    def count(self, outcome: str, corrected: bool, recorded: bool) -> None:
        if outcome == MET:
            self.met += 1
        elif outcome == BREACHED:
            self.breached += 1
        else:
            self.pending += 1
        self.corrected += corrected
        self.recorded += recorded

    def as_dict(self) -> shapes.Tally:
        due = self.met + self.breached
        return {
            "due": due, "met": self.met, "breached": self.breached,
            "compliance": ratio(self.met, due), "pending": self.pending,
            "corrected": self.corrected, "breaches_recorded": self.recorded,
        }  # fmt: skip


def build(conn: Connection, rules: Rulebook, options: Options) -> shapes.SlaBody:
    policies = {policy: _Tally() for policy in SLA_POLICIES}
    owners: dict[tuple[Any, str], _Tally] = defaultdict(_Tally)
    now = micros(options.now)
    clocks = sla_clocks.c
    query = select(clocks.policy, clocks.owner, clocks.due_at, clocks.outcome,
                   clocks.corrected, clocks.breach_recorded).where(
        clocks.policy.in_(SLA_POLICIES), clocks.outcome.in_((MET, BREACHED, PENDING)),
        *options.period.where(clocks.started_at),
    )  # fmt: skip
    for policy, owner, due_at, outcome, corrected, recorded in conn.execute(query):
        if outcome == PENDING and due_at <= now:
            outcome = BREACHED  # its time passed; the scheduler has not caught up yet
        for tally in (policies[policy], owners[(owner, policy)]):
            tally.count(outcome, bool(corrected), bool(recorded))
    first_attempts = _first_attempt_hours(conn, rules, options)
    return {
        **options.period.as_dict(),
        "now": utc(options.now),
        "policies": [{"policy": p, **tally.as_dict()} for p, tally in policies.items()],
        "time_to_first_attempt": _summary(
            [h for values in first_attempts.values() for h in values]
        ),
        "by_owner": [
            {"owner": owner, "policy": policy, **tally.as_dict()}
            for (owner, policy), tally in sorted(owners.items(), key=_owner_order)
        ],
        "first_attempt_by_owner": [
            {"owner": owner, **_summary(values)}
            for owner, values in sorted(first_attempts.items(), key=lambda i: _order(i[0]))
        ],
    }


def _first_attempt_hours(
    conn: Connection, rules: Rulebook, options: Options
) -> dict[Any, list[float]]:
    """Business hours from first assignment to first attempt, per first owner."""
    facts = lead_facts.c
    query = select(facts.first_owner, facts.first_team, facts.assigned_at,
                   facts.first_attempt_at).where(
        facts.assigned_at.is_not(None), facts.first_attempt_at.is_not(None),
        *options.period.where(facts.assigned_at),
    )  # fmt: skip
    calendars: dict[str | None, BusinessCalendar] = {}
    result: dict[Any, list[float]] = defaultdict(list)
    for owner, team, assigned, attempted in conn.execute(query):
        if team not in calendars:
            calendars[team] = _calendar(rules, team)
        start, end = moment(assigned), moment(attempted)
        result[owner].append(calendars[team].business_hours_between(start, end))
    return result


def _calendar(rules: Rulebook, team: str | None) -> BusinessCalendar:
    name = next((t.calendar for t in rules.routing.teams if t.name == team), None)
    return rules.sla.calendar(name)


def _summary(values: list[float]) -> shapes.FirstAttempts:
    return {
        "leads": len(values),
        "median_business_hours": hours(percentile(values, 0.5)),
        "p90_business_hours": hours(percentile(values, 0.9)),
    }


def _order(key: Any) -> tuple[bool, str]:
    return key is None, str(key)


def _owner_order(item: tuple[tuple[Any, str], _Tally]) -> tuple[bool, str, int]:
    (owner, policy), _ = item
    return owner is None, str(owner), SLA_POLICIES.index(policy)
