"""The write path: one activity a caller sent, validated and recorded exactly once per key.

Every activity from outside — HTTP, the CLI's demo, tests — is a `Submission`: `prepare`
validates it into its typed command (`activities`) and returns the work that records it in a
batch (`Batch.record`); `LeadLedger.record` runs that work alone, the HTTP API's group writer
runs it with other requests' (`GroupWriter.record`). Bulk import and the scheduler record
their commands in batches of their own, through the same `Batch.record`.

Idempotency: with an `Idempotency-Key`, the request's `RequestKey` aggregate is saved in the
same batch, hence the same atomic write, as the lead events it records (`domain/requests.py`).
A retry finds the key and is answered from the lead's history: the lead at the version the
first request left it, and the events it recorded — byte for byte the first answer, with
nothing new recorded. Two racing requests both try to create the key; the loser's write is
refused, the ledger re-runs its batch, and the re-run finds the key. A crash leaves either
both the events and the key or neither. Rejected requests record nothing, so they are not
remembered: a retry re-runs them.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson

from ..domain.errors import ValidationFailed
from ..domain.lead import Lead
from ..domain.requests import Answer, RequestKey, request_key
from .activities import parse_activity
from .batch import Batch, Recorded

if TYPE_CHECKING:
    from .ledger import LeadLedger


@dataclass(frozen=True)
class Outcome:
    """The answer to a submission: the lead after it, the events it recorded, whether it was
    a repeated inquiry (`deduplicated`) and whether it is the first answer replayed (for an
    `Idempotency-Key` used again, or an activity delivered again: `duplicate`)."""

    lead: Lead
    events: list[Lead.Event]
    deduplicated: bool
    replayed: bool
    duplicate: bool = False


@dataclass(frozen=True)
class Submission:
    """One activity as `caller` sent it, for the lead `ref` names (None: a new lead), with
    its `Idempotency-Key` if any; `route` (what the HTTP request addressed) is part of what
    a key stands for."""

    ref: str | None
    body: Any
    caller: str
    key: str | None = None
    route: str = ""

    def fingerprint(self) -> str:
        canonical = orjson.dumps(self.body, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(self.route.encode() + b"\n" + canonical).hexdigest()


def prepare(
    ledger: LeadLedger, submission: Submission, grouped: bool = True
) -> Callable[[Batch], Recorded | Answer]:
    """Validates the activity (raising its error now) and returns the work that records it.

    A `grouped` work may run in a group with other requests' (`GroupWriter`): it returns a
    copy of the lead as this activity left it, never the batch's own aggregate, which a later
    job of the group may change. Alone in its batch (`LeadLedger.record`) it needs no copy.
    """
    activity = parse_activity(submission.body)
    key_id = request_key(submission.caller, submission.key) if submission.key else None
    fingerprint = submission.fingerprint() if key_id else ""

    def work(batch: Batch) -> Recorded | Answer:
        remembered = batch.get(key_id) if key_id else None
        if isinstance(remembered, RequestKey):
            answer = remembered.remembered_at(ledger.clock())
            if answer is not None:
                return _same_request(answer, fingerprint)
        recorded = batch.record(submission.ref, activity, submission.caller)
        if key_id is not None:
            _remember(batch, key_id, remembered, recorded, fingerprint)
        return replace(recorded, lead=copy.deepcopy(recorded.lead)) if grouped else recorded

    return work


def finish(ledger: LeadLedger, result: Recorded | Answer) -> Outcome:
    """The answer to the request: what it recorded, or the first answer replayed."""
    if isinstance(result, Answer):
        span = (result.first_seq, result.last_seq)
        return _replay(ledger, result.lead_id, span, result.deduplicated)
    if result.duplicate is not None:  # answered as the first delivery was
        outcome = _replay(ledger, result.lead.id, result.duplicate, result.deduplicated)
        return replace(outcome, duplicate=True)
    return Outcome(result.lead, result.events, result.deduplicated, replayed=False)


def _same_request(answer: Answer, fingerprint: str) -> Answer:
    if answer.fingerprint != fingerprint:
        raise ValidationFailed(
            "this Idempotency-Key was used for a different request in the last 24 hours",
            fields={"Idempotency-Key": "reused with a different route or body"},
        )
    return answer


def _remember(
    batch: Batch,
    key_id: UUID,
    remembered: object,
    recorded: Recorded,
    fingerprint: str,
) -> None:
    last = recorded.lead.version
    first = last - len(recorded.events) + 1
    if recorded.duplicate is not None:  # the key stands for the first delivery's answer
        first, last = recorded.duplicate
    answer = Answer(
        fingerprint=fingerprint,
        lead_id=recorded.lead.id,
        first_seq=first,
        last_seq=last,
        deduplicated=recorded.deduplicated,
        answered_at=batch.ledger.clock(),
    )
    if isinstance(remembered, RequestKey):
        remembered.remember_again(answer)
    else:
        batch.add(RequestKey.remember(key_id, answer))


def _replay(
    ledger: LeadLedger, lead_id: UUID, span: tuple[int, int], deduplicated: bool
) -> Outcome:
    """The answer given when the lead events `span` (first and last seq) were recorded."""
    first, last = span
    lead = ledger.load(lead_id, version=last)
    assert isinstance(lead, Lead)
    events = ledger.lead_events(lead_id, gt=first - 1, lte=last)
    return Outcome(lead, events, deduplicated, replayed=True)
