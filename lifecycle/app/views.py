"""The JSON answers of docs/json.md, built as plain dicts for the CLI and the HTTP API.

Their shapes are the `TypedDict`s of `shapes` (which the OpenAPI document shows too); mypy
checks that each builder makes exactly its shape's keys.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, overload

import orjson

from ..domain.lead import Lead
from . import shapes


@overload
def utc(moment: datetime) -> str: ...
@overload
def utc(moment: None) -> None: ...
@overload
def utc(moment: datetime | None) -> str | None: ...
def utc(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a `Z`, as every time in our output.

    A time that has no UTC form (recorded before times were checked, such as
    0001-01-01T00:00:00+14:00, before year 1 in UTC) is shown as stored, with its offset:
    one odd time must not make a lead, its timeline or a page of the feed unreadable.
    """
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    except OverflowError:
        return moment.isoformat()


def plain(value: Any) -> Any:
    """A JSON-ready copy: enums by value, times in UTC, money as numbers."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value  # the common case first: most values are already plain
    if kind is dict:
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def lead_json(lead: Lead) -> shapes.Lead:
    return {
        "id": str(lead.id),
        "external_id": lead.external_id,
        "email": lead.email,
        "phone": lead.phone,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company": lead.company,
        "title": lead.title,
        "country": lead.country,
        "region": plain(lead.region),
        "owner": lead.owner,
        "status": lead.status.value,
        "stage": lead.stage.value,
        "score": lead.score,
        "attempts": lead.attempts,
        "source": lead.source,
        "campaign": lead.campaign,
        "opted_out": lead.opted_out,
        "created_at": utc(lead.created_at),
        "updated_at": utc(lead.updated_at),
        "version": lead.version,
    }


def created_lead_json(lead: Lead, deduplicated: bool) -> shapes.CreatedLead:
    return {**lead_json(lead), "deduplicated": deduplicated}


def timeline_entry(event: Lead.Event) -> shapes.TimelineEntry:
    return {
        "seq": event.originator_version,
        "type": event.TYPE,
        "occurred_at": utc(event.occurred_at),
        "recorded_at": utc(event.timestamp),
        "actor": event.actor,
        "activity_id": event.activity_id,
        "status": plain(event.status),
        "stage": plain(event.stage),
        "data": plain(event.data()),
    }


def feed_entry(event: Lead.Event, position: int) -> shapes.FeedEntry:
    return {**timeline_entry(event), "lead_id": str(event.originator_id), "position": position}


def timeline_json(lead_id: str, events: list[Lead.Event]) -> shapes.Timeline:
    return {"lead_id": lead_id, "events": [timeline_entry(event) for event in events]}


def activity_json(lead: Lead, events: list[Lead.Event]) -> shapes.ActivityResult:
    return {"lead": lead_json(lead), "events": [timeline_entry(event) for event in events]}


def lead_page(leads: list[Lead], next_cursor: str | None) -> shapes.LeadPage:
    return {"items": [lead_json(lead) for lead in leads], "next_cursor": next_cursor}


def event_page(items: list[shapes.FeedEntry], next_after: int) -> shapes.EventPage:
    return {"items": items, "next_after": next_after}


def dumps(value: Any, pretty: bool = False) -> str:
    return dumps_bytes(value, pretty).decode()


def dumps_bytes(value: Any, pretty: bool = False) -> bytes:
    """JSON as `plain` would make it, written by orjson directly: enums and dict keys natively,
    times and money through `_fallback` (walking the value first cost a tenth of a request)."""
    option = _OPTIONS | (orjson.OPT_INDENT_2 if pretty else 0)
    return orjson.dumps(value, default=_fallback, option=option)


# Times reach `_fallback` (UTC with a `Z`); keys may be enums, as in `plain`.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _fallback(value: Any) -> Any:
    if isinstance(value, datetime | Decimal):
        return plain(value)
    if isinstance(value, date | time):  # passed through with the datetimes; as orjson writes them
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
