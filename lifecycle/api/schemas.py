"""The shapes only the HTTP API answers (health, readiness, errors), for the OpenAPI document.

Leads, timelines and the feed are `lifecycle.app.shapes`, reports `projections.reports.shapes`:
the CLI prints them too. Routes build their answers by hand and these models only describe
them, to clients and to the schema tests, which check every response against them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
