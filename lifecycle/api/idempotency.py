"""Records one activity for a caller, exactly once per `Idempotency-Key`.

With a key, the request's `RequestKey` aggregate is saved in the same batch, hence the same
atomic write, as the lead events it records (see `domain/requests.py`). A retry finds the key
and is answered from the lead's history: the lead at the version the first request left it,
and the events it recorded — byte for byte the first answer, with nothing new recorded. Two
racing requests both try to create the key; the loser's write is refused, the ledger re-runs
its batch, and the re-run finds the key. A crash leaves either both the events and the key or
neither. Rejected requests record nothing, so they are not remembered: a retry re-runs them.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import orjson

from ..app.activities import parse_activity
from ..app.ledger import Batch, LeadLedger, Recorded
from ..domain.errors import ValidationFailed
from ..domain.lead import Lead
from ..domain.requests import Answer, RequestKey, request_key


@dataclass(frozen=True)
class Outcome:
    lead: Lead
    events: list[Lead.Event]
    deduplicated: bool
    replayed: bool


@dataclass(frozen=True)
class Submission:
    """One activity as a caller sent it: `route` names the target (a lead, or a new one)."""

    caller: str
    route: str
    ref: str | None
    body: Any
    key: str | None = None

    def fingerprint(self) -> str:
        canonical = orjson.dumps(self.body, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(self.route.encode() + b"\n" + canonical).hexdigest()


def record(ledger: LeadLedger, submission: Submission) -> Outcome:
    """Validates and records the activity, or replays the answer remembered for its key."""
    return finish(ledger, ledger.in_batch(prepare(ledger, submission)))


def prepare(ledger: LeadLedger, submission: Submission) -> Callable[[Batch], Recorded | Answer]:
    """Validates the activity (raising its error now) and returns the work that records it.

    The work may run in a group with other requests' (`GroupWriter`): it returns a copy of
    the lead as this activity left it, never the batch's own aggregate.
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
        recorded = batch.perform(submission.ref, activity, submission.caller)
        if key_id is not None:
            _remember(batch, key_id, remembered, recorded, fingerprint)
        return replace(recorded, lead=copy.deepcopy(recorded.lead))

    return work


def finish(ledger: LeadLedger, result: Recorded | Answer) -> Outcome:
    """The answer to the request: what it recorded, or the first answer replayed."""
    if isinstance(result, Answer):
        return _replay(ledger, result)
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
    answer = Answer(
        fingerprint=fingerprint,
        lead_id=recorded.lead.id,
        first_seq=last - len(recorded.events) + 1,
        last_seq=last,
        deduplicated=recorded.deduplicated,
        answered_at=batch.ledger.clock(),
    )
    if isinstance(remembered, RequestKey):
        remembered.remember_again(answer)
    else:
        batch.add(RequestKey.remember(key_id, answer))


def _replay(ledger: LeadLedger, answer: Answer) -> Outcome:
    lead = ledger.load(answer.lead_id, version=answer.last_seq)
    assert isinstance(lead, Lead)
    events = ledger.lead_events(answer.lead_id, gt=answer.first_seq - 1, lte=answer.last_seq)
    return Outcome(lead, events, answer.deduplicated, replayed=True)
