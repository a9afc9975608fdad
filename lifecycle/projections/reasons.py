"""The `reasons` table: one row per reason recorded for taking a lead out of the way to a sale.

The reasons report (docs/reports.md) counts them: `disqualified` (→ unqualified), `nurtured`,
`lost` and `bad_data` activities keep their `reason` (null when none was given; only
`disqualified` requires one), and the timer's `auto_nurtured` counts as a `nurtured` whose
reason is the policy it records, `auto_nurture` (the cadence ended without a response).
Each row keeps what the report groups by: the lead's source, campaign and region (from its
creation), the owner at the time, and the UTC month of `occurred_at`.

The rows are written by the lead facts projection (`facts.py`), which has the lead's row at
hand; they are keyed by the event's position, so they are only ever appended.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, String, Table

from ..domain.lead import Lead
from ..domain.values import Policy
from .base import month_of, position_column, time_column
from .protocol import Envelope, metadata

reasons = Table(
    "reasons",
    metadata,
    position_column(primary_key=True),
    Column("lead_id", String(36), nullable=False),
    time_column("occurred_at", nullable=False),
    Column("month", String(7), nullable=False),
    Column("type", String(20), nullable=False),
    Column("reason", String),
    Column("source", String),
    Column("campaign", String),
    Column("region", String(20)),
    Column("owner", String),
    Index("reasons_occurred_at", "occurred_at"),
)

# The report's types, in its order (alphabetical): the activity each reason comes from.
TYPES = ("bad_data", "disqualified", "lost", "nurtured")
AUTO_NURTURE = Policy.AUTO_NURTURE.value  # the reason of a timer's auto-nurture: its policy
REASONED: tuple[type[Lead.Event], ...] = (
    Lead.Disqualified,
    Lead.Nurtured,
    Lead.Lost,
    Lead.MarkedBadData,
    Lead.AutoNurtured,
)


def reason_row(envelope: Envelope, facts: dict[str, Any], at: int) -> dict[str, Any]:
    """The row of a reasoned event, from the lead's facts row before the event applies."""
    event: Any = envelope.event
    if type(event) is Lead.AutoNurtured:
        kind, reason = Lead.Nurtured.TYPE, AUTO_NURTURE
    else:
        kind, reason = event.TYPE, event.reason
    return {
        "position": envelope.position, "lead_id": envelope.lead_id, "occurred_at": at,
        "month": month_of(at), "type": kind, "reason": reason,
        "source": facts["source"], "campaign": facts["campaign"], "region": facts["region"],
        "owner": facts["owner"],
    }  # fmt: skip
