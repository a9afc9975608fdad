"""The JSON shape of every report (docs/reports.md, docs/json.md), defined once.

Each report's `build` returns its `…Body` (mypy checks its keys); `build_report` adds
`warnings`, making the published shape (`FunnelReport`, …): the HTTP routes' `response_model`
(the OpenAPI document shows every key), which the schema tests check real reports against and
the CLI's `--json` prints. Rows keyed by an enum's values get their keys from it here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, NotRequired

from pydantic import ConfigDict, Field, WithJsonSchema, with_config
from typing_extensions import TypedDict

from ...domain.values import STAGE_ORDER, Channel, Status
from ..attribution_models import Model
from ..clocks import SLA_POLICIES
from ..reasons import TYPES as REASON_TYPES
from .options import GOALS, GROUPS

CLOSED = ConfigDict(extra="forbid")  # `additionalProperties: false`: every key is listed
STATUSES = [status.value for status in Status]
STAGES = [stage.value for stage in STAGE_ORDER]
CHANNELS = [channel.value for channel in Channel]


def one_of(values: list[str] | tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(values)})


Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Rate = Annotated[float | None, Field(description="a fraction in [0, 1]; null: nothing to divide")]
Money = Annotated[float, Field(description="in the currency's units: whole amounts are integers")]
Hours = float | None
Group = Annotated[str | None, Field(description="the group's value (null: none recorded)")]

# `from` is a keyword: the period is declared the functional way.
Period = TypedDict("Period", {"from": Time | None, "to": Time | None})
with_config(CLOSED)(Period)


@with_config(CLOSED)
class ReportWarning(TypedDict):
    code: Annotated[str, Field(description="`projection_quarantine`: the read model skips leads")]
    projection: Annotated[str, Field(description="the read model")]
    leads: Annotated[int, Field(ge=1, description="how many leads it skips")]
    message: str


class Warned(TypedDict):
    warnings: Annotated[
        list[ReportWarning],
        Field(
            description="empty when every read model the report reads is whole; else one entry "
            "per read model that skips leads whose events could not be applied (see `lifecycle "
            "projections status`): the report is then incomplete"
        ),
    ]


# ------------------------------------------------------------------------------- funnel
@with_config(CLOSED)
class FunnelRow(TypedDict):
    group: Group
    leads: int
    mqls: int
    sqls: int
    opportunities: int
    customers: int
    revenue: Money
    lead_to_mql: Rate
    mql_to_sql: Rate
    sql_to_opportunity: Rate
    opportunity_to_customer: Rate
    lead_to_customer: Rate


@with_config(CLOSED)
class FunnelBody(Period):
    group_by: Annotated[str, one_of(GROUPS)] | None
    rows: list[FunnelRow]
    total: FunnelRow


# ------------------------------------------------------------------------------- status
@with_config(CLOSED)
class StatusCount(TypedDict):
    status: Annotated[str, one_of(STATUSES)]
    count: int


@with_config(CLOSED)
class StageCount(TypedDict):
    stage: Annotated[str, one_of(STAGES)]
    count: int


if TYPE_CHECKING:  # one key per status: mypy sees a dict, the document every key
    StatusGroup = dict[str, Any]
    WeeklyAttempts = dict[str, Any]
else:
    StatusGroup = with_config(CLOSED)(
        TypedDict("StatusGroup", {"group": Group, **dict.fromkeys(STATUSES, int), "total": int})
    )
    WeeklyAttempts = with_config(CLOSED)(
        TypedDict(
            "WeeklyAttempts",
            {"owner": str | None, "week": str, **dict.fromkeys(CHANNELS, int), "total": int},
        )
    )


@with_config(CLOSED)
class StatusBody(Period):
    group_by: Annotated[str, one_of(GROUPS)] | None
    rows: Annotated[list[StatusCount], Field(description="every status, zeros included")]
    stages: list[StageCount]
    groups: list[StatusGroup]
    total: int


# ---------------------------------------------------------------------------------- sla
@with_config(CLOSED)
class Tally(TypedDict):
    due: Annotated[int, Field(description="met + breached")]
    met: int
    breached: int
    compliance: Rate
    pending: int
    corrected: Annotated[int, Field(description="breaches turned around by a late record")]
    breaches_recorded: int


@with_config(CLOSED)
class PolicyTally(Tally):
    policy: Annotated[str, one_of(SLA_POLICIES)]


@with_config(CLOSED)
class OwnerTally(PolicyTally):
    owner: str | None


@with_config(CLOSED)
class FirstAttempts(TypedDict):
    leads: int
    median_business_hours: Hours
    p90_business_hours: Hours


@with_config(CLOSED)
class OwnerFirstAttempts(FirstAttempts):
    owner: str | None


@with_config(CLOSED)
class SlaBody(Period):
    now: Time
    policies: list[PolicyTally]
    time_to_first_attempt: FirstAttempts
    by_owner: list[OwnerTally]
    first_attempt_by_owner: list[OwnerFirstAttempts]


# ----------------------------------------------------------------------------- activity
@with_config(CLOSED)
class Targets(TypedDict):
    emails_per_week: int
    dials_per_month: int


@with_config(CLOSED)
class Depth(TypedDict):
    attempts: Annotated[str, Field(description='"0" … "5", then "6+"')]
    leads: int
    share: Rate


@with_config(CLOSED)
class OwnerActivity(TypedDict):
    owner: str
    attempts: int
    emails: int
    dials: int
    weeks: int
    email_weeks_met: int
    email_weeks_missed: int
    months: int
    dial_months_met: int
    dial_months_missed: int
    emails_by_week: Annotated[dict[str, int], Field(description="by ISO week (2026-W02)")]
    dials_by_month: Annotated[dict[str, int], Field(description="by month (2026-01)")]


class DepthSummary(TypedDict):
    leads_worked: Annotated[int, Field(description="assigned leads created in the period")]
    mean_attempts: float | None
    depth: list[Depth]


@with_config(CLOSED)
class ActivityBody(Period, DepthSummary):
    targets: Targets
    weekly: list[WeeklyAttempts]
    owners: list[OwnerActivity]


# ----------------------------------------------------------------------- time in status
@with_config(CLOSED)
class Stays(TypedDict):
    entered: int
    exited: int
    current: int
    median_hours: Hours
    p90_hours: Hours


@with_config(CLOSED)
class StatusStays(Stays):
    status: Annotated[str, one_of(STATUSES)]


@with_config(CLOSED)
class StageStays(Stays):
    stage: Annotated[str, one_of(STAGES)]


@with_config(CLOSED)
class Stay(TypedDict):
    entered_at: Annotated[Time, Field(description="the first time it was entered")]
    exited_at: Annotated[Time | None, Field(description="the last exit; null: in it now")]
    latest_hours: Hours
    cumulative_hours: Hours


@with_config(CLOSED)
class LeadStays(TypedDict):
    lead_id: str
    statuses: Annotated[dict[str, Stay], Field(description="by status")]
    stages: Annotated[dict[str, Stay], Field(description="by stage")]


@with_config(CLOSED)
class TimeInStatusBody(Period):
    now: Time
    statuses: list[StatusStays]
    stages: list[StageStays]
    leads: NotRequired[Annotated[list[LeadStays], Field(description="unless per_lead=false")]]


# -------------------------------------------------------------------------- attribution
@with_config(CLOSED)
class Credit(TypedDict):
    credit: float
    revenue: Annotated[Money | None, Field(description="null unless the goal is customer")]


@with_config(CLOSED)
class CreditRow(Credit):
    source: str | None
    campaign: str | None
    content: str | None


@with_config(CLOSED)
class SourceCredit(Credit):
    source: str | None


@with_config(CLOSED)
class CampaignCredit(Credit):
    campaign: str | None


@with_config(CLOSED)
class ContentCredit(Credit):
    content: str | None


@with_config(CLOSED)
class Assists(TypedDict):
    content: str
    assists: int


@with_config(CLOSED)
class AttributionBody(Period):
    model: Annotated[str, one_of([model.value for model in Model])]
    goal: Annotated[str, one_of(GOALS)]
    conversions: int
    credited: Annotated[int, Field(description="conversions with a touch to credit")]
    revenue: Annotated[Money | None, Field(description="null unless the goal is customer")]
    rows: list[CreditRow]
    by_source: list[SourceCredit]
    by_campaign: list[CampaignCredit]
    by_content: list[ContentCredit]
    assists: list[Assists]


# --------------------------------------------------------------------------------- plan
@with_config(CLOSED)
class Actuals(Period):
    weeks: float
    visitors: Annotated[int | None, Field(description="not recorded: null")]
    leads: int
    mqls: int
    sqls: int
    opportunities: int
    customers: int
    revenue: Money
    mqls_per_week: float | None


@with_config(CLOSED)
class StageTarget(TypedDict):
    stage: Annotated[str, one_of(("visitors", "leads", "mqls", "sqls", "opportunities",
                                  "customers"))]  # fmt: skip
    target: int
    target_for_period: float
    actual: int | None
    attainment: Rate


@with_config(CLOSED)
class PlanBody(TypedDict):
    customers: int
    opportunities: int
    sqls: int
    mqls: int
    leads: int
    visitors: int
    mqls_per_week: float
    reps_needed: float
    reps_to_hire: int
    actuals: NotRequired[Annotated[Actuals, Field(description="with leads in the store")]]
    stages: NotRequired[list[StageTarget]]


# ------------------------------------------------------------------------------ reasons
@with_config(CLOSED)
class ReasonTotal(TypedDict):
    type: Annotated[str, one_of(REASON_TYPES)]
    count: int
    leads: Annotated[int, Field(description="distinct leads")]


@with_config(CLOSED)
class ReasonRow(ReasonTotal):
    group: NotRequired[Annotated[Group, Field(description="with group_by only")]]
    reason: Annotated[str | None, Field(description="as recorded (null: none given)")]
    share: Annotated[Rate, Field(description="of its type's count in its group")]


@with_config(CLOSED)
class ReasonsBody(Period):
    group_by: Annotated[str, one_of(GROUPS)] | None
    rows: list[ReasonRow]
    totals: Annotated[list[ReasonTotal], Field(description="every type, zeros included")]


# ------------------------------------------------------------------- published (+ warnings)
@with_config(CLOSED)
class FunnelReport(FunnelBody, Warned):
    """`lifecycle report funnel` and `GET /v1/reports/funnel` (docs/reports.md)."""


@with_config(CLOSED)
class StatusReport(StatusBody, Warned):
    """`lifecycle report status` and `GET /v1/reports/status`."""


@with_config(CLOSED)
class SlaReport(SlaBody, Warned):
    """`lifecycle report sla` and `GET /v1/reports/sla`."""


@with_config(CLOSED)
class ActivityReport(ActivityBody, Warned):
    """`lifecycle report activity` and `GET /v1/reports/activity`."""


@with_config(CLOSED)
class TimeInStatusReport(TimeInStatusBody, Warned):
    """`lifecycle report time-in-status` and `GET /v1/reports/time-in-status`."""


@with_config(CLOSED)
class AttributionReport(AttributionBody, Warned):
    """`lifecycle report attribution` and `GET /v1/reports/attribution`."""


@with_config(CLOSED)
class ReasonsReport(ReasonsBody, Warned):
    """`lifecycle report reasons` and `GET /v1/reports/reasons`."""


@with_config(CLOSED)
class PlanReport(PlanBody, Warned):
    """`lifecycle plan` and `GET /v1/plan`: the reverse funnel, beside the actuals."""
