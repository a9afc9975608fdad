"""The plan (docs/reports.md): the reverse funnel for a revenue goal, beside the actuals.

The keys of `Plan.as_dict()` come first and unchanged. With leads in the store, `actuals`
gives the funnel of the leads created in the period (or from the first lead to `now`), and
`stages` puts each stage's target beside its actual: the target scaled to the period's length
(`target_for_period`, the plan being for `weeks` weeks) and the attainment against it.
Visitors are not recorded, so their actual is null.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Connection, func, select

from ...domain.errors import ValidationFailed
from ...domain.rules import Rulebook
from ..base import micros, moment
from ..facts import lead_facts
from ..planner import plan
from . import funnel, shapes
from .common import ratio
from .options import PLAN_OPTIONS, Options, Spec

SPEC = Spec(accepts=PLAN_OPTIONS)
STAGES = ("visitors", "leads", "mqls", "sqls", "opportunities", "customers")
_WEEK = timedelta(weeks=1)


def build(conn: Connection, rules: Rulebook, options: Options) -> shapes.PlanBody:
    inputs = options.plan
    assert inputs is not None  # the spec accepts the plan options, so parse() filled them
    try:
        target = plan(inputs.revenue_goal, inputs.deal_size, inputs.rates, inputs.weeks,
                      inputs.mqls_per_rep_week)  # fmt: skip
    except ValueError as error:
        raise ValidationFailed(str(error)) from None
    targets: dict[str, Any] = target.as_dict()
    # The plan's own keys first (`as_dict` writes exactly the fields of `Plan`).
    result = cast(shapes.PlanBody, targets)
    weeks = _weeks(conn, options)
    if weeks is None:
        return result
    actual = funnel.build(conn, rules, Options(period=options.period, now=options.now))["total"]
    counts: Mapping[str, Any] = actual
    share = min(weeks / inputs.weeks, 1.0) if inputs.weeks else 1.0
    bounds = options.period.as_dict()
    result["actuals"] = {
        "from": bounds["from"], "to": bounds["to"], "weeks": round(weeks, 2),
        "visitors": None, "leads": actual["leads"], "mqls": actual["mqls"],
        "sqls": actual["sqls"], "opportunities": actual["opportunities"],
        "customers": actual["customers"], "revenue": actual["revenue"],
        "mqls_per_week": ratio(actual["mqls"], weeks, 2),
    }  # fmt: skip
    result["stages"] = [
        {"stage": stage, "target": targets[stage],
         "target_for_period": round(targets[stage] * share, 2),
         "actual": counts.get(stage),
         "attainment": ratio(counts[stage], targets[stage] * share) if stage in counts else None}
        for stage in STAGES
    ]  # fmt: skip
    return result


def _weeks(conn: Connection, options: Options) -> float | None:
    """The period's length in weeks; None when no lead was created in it."""
    facts = lead_facts.c
    first = conn.scalar(
        select(func.min(facts.created_at)).where(*options.period.where(facts.created_at))
    )
    if first is None:
        return None
    start = options.period.start or moment(first)
    end = options.period.end or options.now
    return max(micros(end) - micros(start), 0) / (_WEEK / timedelta(microseconds=1))
