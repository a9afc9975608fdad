"""`GET /v1/leads`: filter on the `lead_facts` read model, answer with the leads themselves.

The projection picks and orders the ids (creation time, then id: a keyset, so a page costs
the same however deep it is); the leads are then loaded from the event store in one read, so
every item is the lead as it is now, exactly as `GET /v1/leads/{id}` shows it. The cursor is
the keyset of the last item: `<created_at micros>.<lead id>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select, tuple_

from ..app.batch import Batch
from ..domain.errors import ValidationFailed
from ..domain.lead import Lead
from ..domain.values import Stage, Status
from ..projections.facts import lead_facts
from ..storage.db import reading
from .deps import AppParts


@dataclass(frozen=True)
class Filters:
    status: Status | None = None
    stage: Stage | None = None
    owner: str | None = None
    source: str | None = None


def page(
    services: AppParts, filters: Filters, limit: int, cursor: str | None
) -> tuple[list[Lead], str | None]:
    """Up to `limit` leads after `cursor`, and the cursor of the next page (None at the end)."""
    facts = lead_facts.c
    query = select(facts.lead_id, facts.created_at).order_by(facts.created_at, facts.lead_id)
    for column, value in (
        (facts.status, filters.status.value if filters.status else None),
        (facts.stage, filters.stage.value if filters.stage else None),
        (facts.owner, filters.owner),
        (facts.source, filters.source),
    ):
        if value is not None:
            query = query.where(column == value)
    if cursor:
        query = query.where(tuple_(facts.created_at, facts.lead_id) > _keyset(cursor))
    with reading(services.engine) as conn:
        rows = conn.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    batch = Batch(services.ledger)
    ids = [UUID(row.lead_id) for row in rows]
    batch.prefetch(ids)
    leads = [lead for lead in map(batch.get, ids) if isinstance(lead, Lead)]
    next_cursor = f"{rows[-1].created_at}.{rows[-1].lead_id}" if more else None
    return leads, next_cursor


def _keyset(cursor: str) -> tuple[int, str]:
    created_at, _, lead_id = cursor.partition(".")
    try:
        return int(created_at), str(UUID(lead_id))
    except ValueError:
        raise ValidationFailed(
            "cursor: pass the next_cursor of the previous page", fields={"cursor": cursor}
        ) from None
