"""The JSON shapes of docs/json.md, as pydantic models for the OpenAPI document.

Routes build their answers with `lifecycle.app.views` (the CLI's `--json` does too), so both give
the same bytes; these models only describe those answers to clients and to the schema tests,
which check every response against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..domain.values import Region, Stage, Status


class Lead(BaseModel):
    id: UUID
    external_id: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    title: str | None
    country: str | None
    region: Region | None
    owner: str | None
    status: Status
    stage: Stage
    score: int
    attempts: int = Field(ge=0)
    source: str | None
    campaign: str | None
    opted_out: bool
    created_at: datetime
    updated_at: datetime
    version: int = Field(ge=1)


class CreatedLead(Lead):
    deduplicated: bool = Field(
        description="true when the email or external_id matched an existing lead: the "
        "inquiry was recorded as a touch on it and that lead is returned"
    )


class TimelineEntry(BaseModel):
    seq: int = Field(ge=1, description="the lead's version after the event; 1, 2, 3… no gaps")
    type: str = Field(description="the activity or timer type, or a service-derived one")
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    status: Status = Field(description="the status after the event")
    stage: Stage = Field(description="the stage after the event")
    data: dict[str, Any]


class FeedEntry(TimelineEntry):
    lead_id: UUID
    position: int = Field(ge=1, description="the event's place in the global log")


class ActivityResult(BaseModel):
    lead: Lead
    events: list[TimelineEntry] = Field(description="the events this activity recorded")


class Timeline(BaseModel):
    lead_id: UUID
    events: list[TimelineEntry]


class LeadPage(BaseModel):
    items: list[Lead]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: done")


class EventPage(BaseModel):
    items: list[FeedEntry]
    next_after: int = Field(
        ge=0, description="pass as `after` for the next page (the same value when none is new)"
    )


class Health(BaseModel):
    status: str = Field(description='always "ok": the process answers')


class ReadinessCheck(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: str = Field(description='"ok" or "failing"')
    message: str | None = Field(default=None, description="why it is failing")


class Readiness(BaseModel):
    """`/readyz`: every check is ok. The projections check adds `head`, `reached`, `behind`
    (log positions) and `lag_seconds` (age of the oldest event not yet applied)."""

    status: str = Field(description='"ready"')
    checks: dict[str, ReadinessCheck] = Field(
        description="database (a read), writes (a write through the append path), "
        "projections (read models caught up)"
    )


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str = Field(
        description="not_found, transition_not_allowed, soft_bant_not_met, has_contact_channel, "
        "out_of_order, occurred_in_future, validation_error, conflict, unauthorized, "
        "forbidden, payload_too_large, method_not_allowed, unavailable or internal_error"
    )
    message: str


class Error(BaseModel):
    """`{"error": {"code", "message", …}}`: extra fields depend on the code."""

    error: ErrorDetail


class ReportWarning(BaseModel):
    code: str = Field(description="`projection_quarantine`: the read model skips some leads")
    projection: str = Field(description="the read model")
    leads: int = Field(ge=1, description="how many leads it skips")
    message: str


class Report(BaseModel):
    """A report: its keys depend on the report (docs/reports.md)."""

    model_config = ConfigDict(extra="allow")
    warnings: list[ReportWarning] = Field(
        description="empty when every read model the report reads is whole; else one entry "
        "per read model that skips leads whose events could not be applied (see `lifecycle "
        "projections status`): the report is then incomplete"
    )
