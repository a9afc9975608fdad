"""`/v1/reports/{name}` and `/v1/plan`: `build_report` over the read models, as the CLI prints.

Reports read the projections as they stand (the `serve` process keeps them caught up, within
2 s of a write); they never catch up per request, which would make every report a writer.
One route per report, so that each documents only the options it takes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from ..projections.attribution_models import Model
from ..projections.reports import REPORTS, build_report
from .auth import require
from .deps import AppParts, ServicesDep
from .errors import documented
from .params import IsoTime
from .responses import JsonBody

router = APIRouter(
    prefix="/v1",
    tags=["reports"],
    dependencies=[Depends(require("reports:read"))],
    responses=documented(401, 403, 422),
)

From = Annotated[
    IsoTime | None,
    Query(alias="from", description="only what occurred at or after this time"),
]
To = Annotated[IsoTime | None, Query(description="only what occurred before this time")]
Now = Annotated[
    IsoTime | None,
    Query(description="the time deadlines and current stays are judged at (default: now)"),
]
Group = Literal["source", "campaign", "month", "owner", "region"]
# Bounds that keep every stage count finite: the planner divides by each rate in turn.
Rate = Annotated[Decimal | None, Query(ge=Decimal("0.0001"), le=1)]
Money = Annotated[Decimal, Query(ge=Decimal("0.01"), le=Decimal("1e12"))]
# At least 0.01 MQLs a rep-week: the reps needed stay a number (at most ~1e28 within the bounds
# above); a smaller capacity once made the plan overflow (issue 14).
Capacity = Annotated[float, Query(ge=0.01, le=10_000)]


def _shape(name: str) -> type:
    """The report's JSON shape (`projections.reports.shapes`), for the OpenAPI document."""
    return REPORTS[name].shape


def _report(services: AppParts, name: str, **options: Any) -> Response:
    return JsonBody(
        build_report(name, services.engine, services.rules, services.clock(), **options)
    )


@router.get(
    "/reports/funnel", response_model=_shape("funnel"), summary="Funnel (scope reports:read)"
)
def funnel(
    services: ServicesDep,
    start: From = None,
    to: To = None,
    now: Now = None,
    group_by: Group | None = None,
) -> Response:
    return _report(services, "funnel", start=start, end=to, now=now, group_by=group_by)


@router.get(
    "/reports/status", response_model=_shape("status"), summary="Status board (reports:read)"
)
def status(
    services: ServicesDep,
    start: From = None,
    to: To = None,
    now: Now = None,
    group_by: Group | None = None,
) -> Response:
    return _report(services, "status", start=start, end=to, now=now, group_by=group_by)


@router.get("/reports/sla", response_model=_shape("sla"), summary="SLA compliance (reports:read)")
def sla(services: ServicesDep, start: From = None, to: To = None, now: Now = None) -> Response:
    return _report(services, "sla", start=start, end=to, now=now)


@router.get(
    "/reports/activity", response_model=_shape("activity"), summary="Sales activity (reports:read)"
)
def activity(services: ServicesDep, start: From = None, to: To = None, now: Now = None) -> Response:
    return _report(services, "activity", start=start, end=to, now=now)


@router.get(
    "/reports/time-in-status",
    response_model=_shape("time-in-status"),
    summary="Time in status (reports:read)",
)
def time_in_status(
    services: ServicesDep,
    start: From = None,
    to: To = None,
    now: Now = None,
    per_lead: Annotated[bool, Query(description="include each lead's stays")] = True,
) -> Response:
    return _report(services, "time-in-status", start=start, end=to, now=now, per_lead=per_lead)


@router.get(
    "/reports/attribution",
    response_model=_shape("attribution"),
    summary="Attribution (reports:read)",
)
def attribution(
    services: ServicesDep,
    start: From = None,
    to: To = None,
    now: Now = None,
    model: Model | None = None,
    goal: Literal["created", "mql", "sql", "opportunity", "customer"] | None = None,
) -> Response:
    return _report(services, "attribution", start=start, end=to, now=now, model=model, goal=goal)


@router.get(
    "/reports/reasons",
    response_model=_shape("reasons"),
    summary="Disqualification, nurture, loss and bad-data reasons (reports:read)",
)
def reasons(
    services: ServicesDep,
    start: From = None,
    to: To = None,
    now: Now = None,
    group_by: Group | None = None,
) -> Response:
    return _report(services, "reasons", start=start, end=to, now=now, group_by=group_by)


@router.get(
    "/plan",
    response_model=_shape("plan"),
    summary="The reverse funnel for a revenue goal (scope reports:read)",
    description="The parameters of `lifecycle plan`: `conversion_rate` for every stage, or "
    "one rate per stage. With leads in the store, the actuals of the period beside it.",
)
def plan(
    services: ServicesDep,
    revenue_goal: Money,
    deal_size: Money,
    conversion_rate: Rate = None,
    weeks: Annotated[int, Query(ge=1, le=520)] = 48,
    mqls_per_rep_week: Capacity = 8,
    visitor_to_lead: Rate = None,
    lead_to_mql: Rate = None,
    mql_to_sql: Rate = None,
    sql_to_opportunity: Rate = None,
    opportunity_to_customer: Rate = None,
    start: From = None,
    to: To = None,
    now: Now = None,
) -> Response:
    return _report(
        services,
        "plan",
        revenue_goal=revenue_goal,
        deal_size=deal_size,
        conversion_rate=conversion_rate,
        weeks=weeks,
        mqls_per_rep_week=mqls_per_rep_week,
        visitor_to_lead=visitor_to_lead,
        lead_to_mql=lead_to_mql,
        mql_to_sql=mql_to_sql,
        sql_to_opportunity=sql_to_opportunity,
        opportunity_to_customer=opportunity_to_customer,
        start=start,
        end=to,
        now=now,
    )
