"""A record's history read whole or not at all: every read of stored events passes `intact`,
which turns a gap in the versions or an event that no longer decodes into `integrity_error`
naming the record and the seq; `fold_events` and `fold_as_of` rebuild an aggregate from it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ..domain.errors import IntegrityFailed
from ..domain.lead import Lead
from ..storage.codec import UnreadableEvent


def fold_events(aggregate: Any, events: Iterable[Any], until: int | None = None) -> Any:
    """Replays events onto an aggregate: eventsourcing's own projector, minus a per-event
    `isinstance` check against a runtime Protocol that costs half of a replay; the events
    are checked (`intact`), and with `until` they must reach that version."""
    for event in intact(events, after=0 if aggregate is None else aggregate.version):
        aggregate = event.mutate(aggregate)
    if until is not None and aggregate is not None and aggregate.version < until:
        missing = aggregate.version + 1
        problem = f"its stored event seq {missing} is missing (it was recorded up to seq {until})"
        raise _damaged(type(aggregate).__qualname__, aggregate.id, missing, problem)
    return aggregate


def intact(events: Iterable[Any], after: int = 0) -> Iterator[Any]:
    """The stored events of one record, as they are decoded, each checked to be the next
    version (`after + 1`, `after + 2`…): a missing one (a row deleted), or one that no longer
    decodes (its bytes edited), is `IntegrityFailed` naming the record and the version.

    Every read of a record's history passes here (`fold_events`, `LeadLedger.lead_events`,
    `LeadLedger.decode`): eventsourcing's own errors for these (a version error, a mapper
    error) were tracebacks and 500s. Nothing is cached of a record that fails.
    """
    expected = after + 1
    iterator = iter(events)
    while True:
        try:
            event = next(iterator)
        except StopIteration:
            return
        except UnreadableEvent as error:
            raise _damaged(
                error.topic, error.originator_id, error.originator_version,
                f"its stored event seq {error.originator_version} ({error.topic}) no longer "
                f"decodes ({type(error.error).__name__})",
            ) from error  # fmt: skip
        found = event.originator_version
        if found != expected:
            raise _damaged(
                type(event).__qualname__, event.originator_id, expected, _gap(expected, found)
            )
        expected += 1
        yield event


_KINDS = {
    "Lead": "lead",
    "LeadKey": "lead key",
    "TeamTurns": "team turns",
    "RequestKey": "request key",
}


def _damaged(name: str, record_id: Any, seq: int, problem: str) -> IntegrityFailed:
    """The `integrity_error` for record `record_id` (its class or topic is `name`) at `seq`."""
    cls = name.rpartition(":")[2].partition(".")[0]
    kind = _KINDS.get(cls, cls)
    message = (
        f"{kind} {record_id}: {problem}; it can be neither read nor changed until its stored "
        "events are repaired"
    )
    return IntegrityFailed(message, id=str(record_id), seq=seq)


def _gap(expected: int, found: int) -> str:
    if found > expected:
        after = f"follows seq {expected - 1}" if expected > 1 else "is its first"
        return f"its stored event seq {expected} is missing (seq {found} {after})"
    return f"its stored event seq {found} came where seq {expected} was expected"


def fold_as_of(events: Iterable[Lead.Event], moment: datetime) -> Lead | None:
    """The lead as it was at `moment` (business time): the events that had occurred by then."""
    lead: Lead | None = None
    for event in events:
        if event.occurred_at > moment:
            continue
        if lead is None:
            if isinstance(event, Lead.Created):
                lead = event.mutate(None)
            continue
        event.apply(lead)
        lead.version = event.originator_version
        lead.modified_on = event.timestamp
    return lead
