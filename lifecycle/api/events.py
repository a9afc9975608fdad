"""`GET /v1/events`: the global log of lead events, in order, resumable from `next_after`.

The store's notification log is in commit order on both engines (PostgreSQL appends take a
table lock), so a consumer that resumes from the last `position` it saw misses nothing.
Positions may skip numbers (PostgreSQL rolls back ids; other aggregates share the log): the
consumer keeps the `next_after` it was given, never `position + 1`.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from ..app.shapes import EventPage
from ..app.views import event_page, feed_entry
from ..domain.lead import Lead
from .auth import require
from .deps import ServicesDep
from .errors import documented
from .responses import JsonBody
from .tokens import Caller

router = APIRouter(prefix="/v1", tags=["events"])


@router.get(
    "/events",
    response_model=EventPage,
    summary="The global event log (scope timeline:read)",
    description="Lead events in the order they were recorded, after `after` (a `position`; "
    "0 for the start). Each item is a timeline entry plus `lead_id` and `position`.",
    responses=documented(401, 403, 409, 422),
)
def feed(
    _caller: Annotated[Caller, Depends(require("timeline:read"))],
    services: ServicesDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    ledger = services.ledger
    notifications = ledger.recorder.select_notifications(
        start=after, limit=limit, topics=lead_topics(), inclusive_of_start=False
    )
    items = [feed_entry(ledger.decode(n), n.id) for n in notifications]
    next_after = notifications[-1].id if notifications else after
    return JsonBody(event_page(items, next_after))


@cache
def lead_topics() -> tuple[str, ...]:
    """The topics of every lead event (keys, turns and request keys are not in the feed)."""
    return tuple(
        value.TOPIC
        for value in vars(Lead).values()
        if isinstance(value, type) and issubclass(value, Lead.Event) and value is not Lead.Event
    )
