"""Activity identity (docs/activities.md, Duplicates): the seqs each client activity recorded
on its lead, found again by the activity's `id` or, without one, by its content digest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .rules import Context

if TYPE_CHECKING:
    from .lead_events import LeadEvents

ANONYMOUS: tuple[str | None, str | None] = (None, None)


def identify(lead: LeadEvents, activity_id: str | None, digest: str | None, seq: int) -> None:
    """Notes that the event at `seq` belongs to the activity with this `id` and digest (an
    applier: it runs on every replay). The events of one activity are consecutive and carry
    the same identity; an earlier activity with one identity in common (another `id`, the
    same digest) keeps its own span."""
    pair = (activity_id, digest)
    continues = pair == lead.last_identity
    lead.last_identity = pair
    for kind, value in (("id", activity_id), ("digest", digest)):
        if value is None:
            continue
        key = (kind, value)
        span = lead.activities.get(key)
        if span is None:
            lead.activities[key] = (seq, seq)
        elif continues and span[1] == seq - 1:
            lead.activities[key] = (span[0], seq)


def recorded_span(lead: LeadEvents, ctx: Context) -> tuple[int, int] | None:
    """The first and last seq of the events the activity of `ctx` recorded, if it was
    recorded: by its `id` when it has one, else by its digest."""
    if ctx.activity_id is not None:
        return lead.activities.get(("id", ctx.activity_id))
    return lead.activities.get(("digest", ctx.digest)) if ctx.digest is not None else None
