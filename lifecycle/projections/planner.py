"""The reverse funnel (seed 003 slides 61-71): from a revenue goal to visitors and sales reps.

Customers needed = revenue goal / deal size. Each stage above needs the stage below divided by
the conversion rate between them: opportunities = customers / (opportunity -> customer rate), and
so on up through SQLs, MQLs and leads to visitors. Every count is rounded **up** to a whole number
at its own stage, before the next stage is worked out: 4 customers at 30% need 14 opportunities,
and those 14 (not 13.33) need 47 SQLs.

Staffing: `mqls_per_week = mqls / weeks`; `reps_needed = mqls_per_week / mqls_per_rep_week`,
exact; `reps_to_hire` is `reps_needed` rounded up, computed in exact rational arithmetic over the
decimal values given, so float noise (3.0000000000000004) never hires an extra rep.

Every figure must be a number a client can read (a float holds at most about 1.8e308): a plan
whose visitors or reps needed would be larger is refused (`ValueError`) instead of answered with
a figure nobody can read. The HTTP API's bounds never get there; the CLI takes any positive
value.

Worked example (the seed's): a $100,000 goal, $1,000 deals and 50% at every stage need 100
customers, 200 opportunities, 400 SQLs, 800 MQLs, 1,600 leads and 3,200 visitors; over 48 weeks
that is 16.67 MQLs a week, 2.08 reps reviewing 8 MQLs a week each, so 3 reps to hire.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from fractions import Fraction

_LARGEST = Fraction(sys.float_info.max)  # the largest figure a float (and JSON reader) holds


@dataclass(frozen=True)
class StageRates:
    """The conversion rate between each pair of neighbouring funnel stages, each in (0, 1]."""

    visitor_to_lead: Decimal
    lead_to_mql: Decimal
    mql_to_sql: Decimal
    sql_to_opportunity: Decimal
    opportunity_to_customer: Decimal

    def __post_init__(self) -> None:
        for stage in fields(self):
            _require_rate(stage.name, getattr(self, stage.name))

    @classmethod
    def uniform(cls, rate: Decimal) -> StageRates:
        """The same rate at every stage."""
        return cls(rate, rate, rate, rate, rate)


@dataclass(frozen=True)
class Plan:
    """What a revenue goal needs at each funnel stage and in sales reps (docs/reports.md)."""

    customers: int
    opportunities: int
    sqls: int
    mqls: int
    leads: int
    visitors: int
    mqls_per_week: float
    reps_needed: float
    reps_to_hire: int

    def as_dict(self) -> dict[str, float | int]:
        """The `lifecycle plan` JSON: exactly the keys of the contract, in its order."""
        return asdict(self)


def plan(
    revenue_goal: Decimal,
    deal_size: Decimal,
    rates: StageRates | Decimal,
    weeks: int = 48,
    mqls_per_rep_week: float = 8,
) -> Plan:
    """The reverse funnel for `revenue_goal`; a single rate applies to every stage."""
    _require_amount("revenue_goal", revenue_goal)
    _require_amount("deal_size", deal_size)
    _require_weeks(weeks)
    _require_capacity(mqls_per_rep_week)
    stage_rates = _stage_rates(rates)
    customers = math.ceil(Fraction(revenue_goal) / Fraction(deal_size))
    opportunities = _needed(customers, stage_rates.opportunity_to_customer)
    sqls = _needed(opportunities, stage_rates.sql_to_opportunity)
    mqls = _needed(sqls, stage_rates.mql_to_sql)
    leads = _needed(mqls, stage_rates.lead_to_mql)
    visitors = _needed(leads, stage_rates.visitor_to_lead)
    reps = Fraction(mqls, weeks) / Fraction(str(mqls_per_rep_week))
    _require_representable(visitors, reps)
    return Plan(
        customers=customers,
        opportunities=opportunities,
        sqls=sqls,
        mqls=mqls,
        leads=leads,
        visitors=visitors,
        mqls_per_week=mqls / weeks,
        reps_needed=float(reps),
        reps_to_hire=math.ceil(reps),
    )


def _needed(converted: int, rate: Decimal) -> int:
    """How many must enter a stage for `converted` to come out of it at `rate`."""
    return math.ceil(converted / Fraction(rate))


def _stage_rates(rates: StageRates | Decimal) -> StageRates:
    if isinstance(rates, StageRates):
        return rates
    _require_rate("rates", rates)
    return StageRates.uniform(rates)


def _require_amount(name: str, amount: Decimal) -> None:
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"{name} must be a positive amount, got {amount}")


def _require_rate(name: str, rate: Decimal) -> None:
    if not rate.is_finite() or not 0 < rate <= 1:
        raise ValueError(f"{name} must be a conversion rate in (0, 1], got {rate}")


def _require_weeks(weeks: int) -> None:
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")


def _require_capacity(mqls_per_rep_week: float) -> None:
    if not math.isfinite(mqls_per_rep_week) or mqls_per_rep_week <= 0:
        raise ValueError(f"mqls_per_rep_week must be a positive number, got {mqls_per_rep_week}")


def _require_representable(visitors: int, reps: Fraction) -> None:
    """Visitors are the largest count (every rate is at most 1) and every other figure is at
    most one of the two: if both fit a float, the whole plan does."""
    if visitors > _LARGEST or reps > _LARGEST:
        raise ValueError(
            "the plan is too large to compute: raise deal_size, the conversion rates or "
            "mqls_per_rep_week, or lower revenue_goal"
        )
