"""Given/when/then helpers: leads built from activities with plain default bodies.

lead = given_lead(ledger, "assigned", "attempted")              # an attempt_1 lead
lead = given_lead(ledger, "assigned", phone="+49 30 1234")      # with a phone as well
recorded = when(ledger, lead, "qualified", budget=True, need=True)
error = refused(ledger, lead, "won", amount="10")
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
import structlog
from sqlalchemy import Engine, select, text

from lifecycle import logs
from lifecycle.app.activities import TimerDue
from lifecycle.app.batch import Recorded
from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.domain.errors import LifecycleError
from lifecycle.domain.values import Policy

ACTOR = "test"


def fire(ledger: LeadLedger, lead_id: Any, policy: Policy, due_at: datetime, now: datetime) -> bool:
    """The scheduler's command for one due deadline, alone in its batch: whether it recorded."""
    command = TimerDue(lead_id, policy, due_at)
    return bool(ledger.in_batch(lambda batch: batch.record(None, command, "scheduler", now)).events)


class ManualClock:
    """A clock that moves only when told to; pass `clock.now` wherever a clock is wanted."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Moves the clock forward by `timedelta(**delta)` and returns the new time."""
        self.current += timedelta(**delta)
        return self.current


# The smallest body that each client activity type accepts.
DEFAULT_BODIES: dict[str, dict[str, Any]] = {
    "assigned": {"owner": "alex"},
    "attempted": {"channel": "email"},
    "responded": {"channel": "email"},
    "qualified": {"budget": True, "need": True},
    "disqualified": {"reason": "no budget this year"},
    "nurtured": {"reason": "not now"},
    "bad_data": {"channel": "all", "reason": "bounced"},
    "reopened": {"reason": "got in touch again"},
    "passed": {"to_owner": "sam"},
    "accepted": {},
    "opportunity_created": {"amount": "10000", "opportunity_id": "opp-1"},
    "won": {"amount": "12000"},
    "lost": {"reason": "went with a competitor"},
    "touched": {"kind": "page_view"},
    "opted_out": {},
    "opted_in": {},
    "updated": {"title": "Head of Data"},
}


def body(activity_type: str, **fields: Any) -> dict[str, Any]:
    """The default body of `activity_type`, with `fields` replacing or adding fields."""
    return {"type": activity_type, **DEFAULT_BODIES.get(activity_type, {}), **fields}


def created(**contact: Any) -> dict[str, Any]:
    """A `created` body with a unique email unless told otherwise (`email=None`: no email)."""
    contact.setdefault("email", f"lead-{uuid4().hex[:10]}@example.com")
    return {"type": "created", **{k: v for k, v in contact.items() if v is not None}}


def given_lead(ledger: LeadLedger, *steps: str | dict[str, Any], **contact: Any) -> str:
    """Creates a lead from `contact`, applies `steps` (types or bodies), returns its id."""
    lead_id = str(ledger.record(Submission(None, created(**contact), ACTOR)).lead.id)
    for step in steps:
        ledger.record(Submission(lead_id, body(step) if isinstance(step, str) else step, ACTOR))
    return lead_id


def when(ledger: LeadLedger, ref: str, activity_type: str, **fields: Any) -> Recorded:
    """Records one activity with its default body and `fields`."""
    return ledger.record(Submission(ref, body(activity_type, **fields), ACTOR))


def refused(
    ledger: LeadLedger, ref: str | None, activity_type: str, **fields: Any
) -> LifecycleError:
    """Asserts that the activity is rejected and returns the rejection."""
    with pytest.raises(LifecycleError) as caught:
        ledger.record(Submission(ref, body(activity_type, **fields), ACTOR))
    return caught.value


def types_of(ledger: LeadLedger, lead_id: str) -> list[str]:
    """The lead's event types, in order."""
    return [event.TYPE for event in ledger.lead_events(ledger.find(lead_id).id)]


@contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """Renders structlog lines as JSON into a buffer, through the redaction processor."""
    out = io.StringIO()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            logs.redact_personal_data,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=out),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=False,
    )
    try:
        yield out
    finally:
        structlog.reset_defaults()


def every_row(runner: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the runner's projections, sorted: read models to compare."""
    with runner.engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in conn.execute(select(table)))
            for projection in runner.projections.values()
            for table in projection.tables()
        }


UNDECODABLE = b"\xff not an event"


def damage(engine: Engine, table: str, lead_id: str, seq: int, how: str) -> None:
    """Damages one stored event of a lead with plain SQL, as an operator's slip would:
    `deleted` removes its row, `edited` overwrites its state with bytes that do not decode."""
    key = lead_id if engine.dialect.name == "postgresql" else lead_id.replace("-", "")  # hex
    where = "originator_id = :id AND originator_version = :seq"
    statement = {
        "deleted": f"DELETE FROM {table} WHERE {where}",
        "edited": f"UPDATE {table} SET state = :state WHERE {where}",
    }[how]
    with engine.begin() as conn:
        done = conn.execute(text(statement), {"id": key, "seq": seq, "state": UNDECODABLE})
        assert done.rowcount == 1, (lead_id, seq)
