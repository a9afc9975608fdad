"""`/v1/leads…`: create, record activities, read a lead (now or as of a time), list, timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from ..app.recording import Outcome, Submission
from ..app.shapes import ActivityResult, CreatedLead, Lead, LeadPage, Timeline
from ..app.views import activity_json, created_lead_json, lead_json, lead_page, timeline_json
from ..domain.errors import ValidationFailed
from ..domain.inputs import check_text
from ..domain.values import Stage, Status
from . import listing
from .auth import authorize, require
from .bodies import idempotency_key, json_body, write_operation
from .deps import AppParts, ServicesDep
from .errors import documented
from .params import IsoTime, Line
from .responses import JsonBody
from .tokens import Caller

router = APIRouter(prefix="/v1", tags=["leads"])

Reader = Annotated[Caller, Depends(require("leads:read"))]
TimelineReader = Annotated[Caller, Depends(require("timeline:read"))]
_REF_DOC = "the lead's id, its external_id, or its email (case-insensitive)"
Ref = Annotated[Line, Path(description=_REF_DOC)]
# A write route checks its `ref` itself, after the token: 401/403 come before a 422.
UncheckedRef = Annotated[str, Path(description=_REF_DOC)]
REPLAYED = "Idempotent-Replayed"


@router.post(
    "/leads",
    status_code=201,
    response_model=CreatedLead,
    summary="Create a lead (scope events:write)",
    description="A `created` activity. 201 with the new lead, or 200 with the existing lead "
    "and `deduplicated: true` when its email or external_id is known (the inquiry is then "
    "recorded as a touch on it).",
    responses={
        200: {"model": CreatedLead, "description": "an existing lead (deduplicated)"},
        **documented(401, 403, 409, 413, 422),
    },
    openapi_extra=write_operation("Created"),
)
async def create_lead(request: Request) -> Response:
    outcome = await _record(request, "leads", None)
    status = 200 if outcome.deduplicated else 201
    answer = created_lead_json(outcome.lead, outcome.deduplicated)
    return JsonBody(answer, status, _headers(outcome))


@router.post(
    "/leads/{ref}/activities",
    response_model=ActivityResult,
    summary="Record an activity on a lead (scope events:write)",
    description="Any client activity but `created` (docs/activities.md); timer activities are "
    "refused (422). Answers the lead after the activity and the events it recorded.",
    responses=documented(401, 403, 404, 409, 413, 422),
    openapi_extra=write_operation("LeadActivity"),
)
async def record_activity(request: Request, ref: UncheckedRef) -> Response:
    outcome = await _record(request, f"leads/{ref}/activities", ref)
    return JsonBody(activity_json(outcome.lead, outcome.events), 200, _headers(outcome))


@router.get(
    "/leads",
    response_model=LeadPage,
    summary="List leads (scope leads:read)",
    description="Leads in creation order (`created_at`, then id), filtered; follow "
    "`next_cursor` for the next page. Filters read a projection, so they are eventually "
    "consistent (within 2 s).",
    responses=documented(401, 403, 422),
)
def list_leads(
    _caller: Reader,
    services: ServicesDep,
    status: Status | None = None,
    stage: Stage | None = None,
    owner: Annotated[Line | None, Query(max_length=200)] = None,
    source: Annotated[Line | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[Line | None, Query(max_length=100, description="from next_cursor")] = None,
) -> Response:
    wanted = listing.Filters(status, stage, owner, source)
    leads, next_cursor = listing.page(services, wanted, limit, cursor)
    return JsonBody(lead_page(leads, next_cursor))


@router.get(
    "/leads/{ref}",
    response_model=Lead,
    summary="Read a lead (scope leads:read)",
    responses=documented(401, 403, 404, 409, 422),
)
def get_lead(
    _caller: Reader,
    ref: Ref,
    services: ServicesDep,
    as_of: Annotated[
        IsoTime | None,
        Query(description="the lead as it was at this time (ISO-8601 with an offset)"),
    ] = None,
) -> Response:
    ledger = services.ledger
    lead = ledger.lead_as_of(ref, as_of) if as_of else ledger.find(ref)
    return JsonBody(lead_json(lead))


@router.get(
    "/leads/{ref}/timeline",
    response_model=Timeline,
    summary="A lead's timeline (scope timeline:read)",
    description="Every event of the lead in `seq` order (1, 2, 3… no gaps).",
    responses=documented(401, 403, 404, 409, 422),
)
def get_timeline(_caller: TimelineReader, ref: Ref, services: ServicesDep) -> Response:
    lead = services.ledger.find(ref)
    return JsonBody(timeline_json(str(lead.id), services.ledger.lead_events(lead.id)))


async def _record(request: Request, route: str, ref: str | None) -> Outcome:
    """Checks the token, reads the body and key (in FastAPI's order: 401/403 first), then
    validates here and records on the group writer (no thread-pool trip).

    Write routes take the request itself instead of declaring dependencies: solving them
    cost more than the rest of an append. A replayed answer is read back off the event loop.
    """
    caller = await authorize(request, "events:write")
    if ref is not None:
        ref = _checked(ref)
    body = await json_body(request)
    key = idempotency_key(request)
    _expect(body, created=ref is None)
    services: AppParts = request.app.state.services
    return await services.writer.record(Submission(ref, body, caller.name, key, route))


def _checked(ref: str) -> str:
    """`ref` if it is a line of text (`params.Line`), else the 422 FastAPI would give."""
    try:
        return check_text(ref)
    except ValueError as error:
        raise ValidationFailed("invalid request: ref", fields={"ref": str(error)}) from None


def _expect(body: Any, created: bool) -> None:
    """`created` goes to POST /v1/leads, everything else to a lead's activities."""
    if not isinstance(body, dict):
        return  # parse_activity says what an activity is
    kind = body.get("type")
    if created and kind != "created":
        raise ValidationFailed(
            "POST /v1/leads takes a `created` activity; other activities go to "
            "/v1/leads/{id}/activities",
            fields={"type": "must be created"},
        )
    if not created and kind == "created":
        raise ValidationFailed(
            "a lead is created with POST /v1/leads", fields={"type": "created is not allowed"}
        )


def _headers(outcome: Outcome) -> dict[str, str] | None:
    return {REPLAYED: "true"} if outcome.replayed else None
