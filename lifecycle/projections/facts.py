"""The lead facts read model: one row per lead, its status and stage spans, its attempts.

`lead_facts` holds what the funnel, status, plan and attribution reports group and count:
where the lead came from, who owns it, its status and stage now (and since when), the date it
entered each stage, its first assignment and first attempt, and its won revenue.
`status_spans` holds one row per *finished* stay in a status or a stage (entered, exited);
the current stay is the facts row's `status_since` / `stage_since`. `attempts` holds one row
per contact attempt with the owner at the time, for the activity report; `reasons`
(`reasons.py`) one row per disqualification, nurture, loss or bad-data reason.

The four tables form one projection because spans, attempts and reasons need the lead's current
status, stage and owner, which the facts row already has: one read of the batch's leads
serves all three. Events copy their resulting `status` and `stage`, so nothing is recomputed.
Spans, attempts and reasons are keyed by the position of the event that wrote them, so they are only
ever appended: the facts rows are the only ones a batch updates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from ..domain.lead import Lead
from ..domain.values import STAGE_ORDER, Stage
from ..storage.bulk import rows_by_key
from .base import (
    micros,
    month_of,
    position_column,
    prepare,
    time_column,
    week_of,
)
from .protocol import Envelope, Write, metadata
from .reasons import REASONED, reason_row, reasons

lead_facts = Table(
    "lead_facts",
    metadata,
    Column("lead_id", String(36), primary_key=True),
    time_column("created_at", nullable=False),
    Column("created_month", String(7), nullable=False),
    Column("source", String),
    Column("campaign", String),
    Column("channel", String),
    Column("region", String(20)),
    Column("owner", String),
    Column("team", String),
    Column("first_owner", String),
    Column("first_team", String),
    time_column("assigned_at"),
    time_column("first_attempt_at"),
    Column("attempts", Integer, nullable=False),
    Column("score", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    time_column("status_since", nullable=False),
    Column("stage", String(20), nullable=False),
    Column("stage_rank", Integer, nullable=False),
    time_column("stage_since", nullable=False),
    time_column("mql_at"),
    time_column("sql_at"),
    time_column("opportunity_at"),
    time_column("customer_at"),
    Column("revenue_cents", BigInteger),
    Column("version", Integer, nullable=False),
    Index("lead_facts_created_at", "created_at"),
)

status_spans = Table(
    "status_spans",
    metadata,
    position_column(),  # the event that ended the stay
    Column("kind", String(10), nullable=False),  # "status" or "stage"
    Column("lead_id", String(36), nullable=False),
    Column("value", String(20), nullable=False),
    time_column("entered_at", nullable=False),
    time_column("exited_at", nullable=False),
    PrimaryKeyConstraint("position", "kind"),
    sqlite_with_rowid=False,
)

attempts = Table(
    "attempts",
    metadata,
    position_column(primary_key=True),
    Column("lead_id", String(36), nullable=False),
    time_column("occurred_at", nullable=False),
    Column("owner", String),
    Column("channel", String(20), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("week", String(8), nullable=False),
    Column("month", String(7), nullable=False),
)

STAGE_COLUMNS = {
    Stage.MQL.value: "mql_at",
    Stage.SQL.value: "sql_at",
    Stage.OPPORTUNITY.value: "opportunity_at",
    Stage.CUSTOMER.value: "customer_at",
}
_RANK = {stage.value: rank for rank, stage in enumerate(STAGE_ORDER)}
_SINCE = {"status": "status_since", "stage": "stage_since"}
_CENT = Decimal("0.01")

Row = dict[str, Any]


class _Changes:
    """What one batch does to the tables, gathered in memory and written in bulk."""

    def __init__(self, rows: dict[str, Row]) -> None:
        self.rows = rows
        self.touched: set[str] = set()  # the leads whose facts row the batch changed
        self.spans: list[Row] = []
        self.attempts: list[Row] = []
        self.reasons: list[Row] = []

    def move(self, row: Row, kind: str, value: str, position: int, at: int) -> None:
        """Ends the lead's stay in its current `kind` and starts one in `value` (it changed)."""
        since_column = _SINCE[kind]
        since = row[since_column]
        at = max(at, since)  # a late-recorded event never makes a negative stay
        self.spans.append(
            {"position": position, "kind": kind, "lead_id": row["lead_id"], "value": row[kind],
             "entered_at": since, "exited_at": at}
        )  # fmt: skip
        row[kind], row[since_column] = value, at

    def writes(self) -> Write:
        """The batch's rows, as plain tuples."""
        writes = (
            prepare(lead_facts, (self.rows[lead_id] for lead_id in self.touched), upsert=True),
            prepare(status_spans, self.spans, upsert=False),
            prepare(attempts, self.attempts, upsert=False),
            prepare(reasons, self.reasons, upsert=False),
        )

        def write(conn: Connection) -> None:
            for rows in writes:
                rows(conn)

        return write


class LeadFacts:
    """Projection feeding `lead_facts`, `status_spans`, `attempts` and `reasons`."""

    name = "lead_facts"

    def tables(self) -> Sequence[Table]:
        return (lead_facts, status_spans, attempts, reasons)

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        self.prepare(conn, batch)(conn)

    def prepare(self, conn: Connection, batch: Sequence[Envelope]) -> Write:
        changes = _Changes(_load(conn, batch))
        for envelope in batch:
            _apply(changes, envelope)
        return changes.writes()


def _load(conn: Connection, batch: Sequence[Envelope]) -> dict[str, Row]:
    """The facts rows of the batch's leads that were created before the batch."""
    created = {e.lead_id for e in batch if type(e.event) is Lead.Created}
    earlier = {e.lead_id for e in batch} - created
    return {row["lead_id"]: row for row in rows_by_key(conn, lead_facts, earlier)}


def _apply(changes: _Changes, envelope: Envelope) -> None:
    event = envelope.event
    row = changes.rows.get(envelope.lead_id)
    if row is None:
        if type(event) is Lead.Created:
            changes.rows[envelope.lead_id] = _created(envelope.lead_id, event)
            changes.touched.add(envelope.lead_id)
        return  # an event without its creation: nothing to attach it to
    changes.touched.add(envelope.lead_id)
    at, position = micros(event.occurred_at), envelope.position
    handler = _HANDLERS.get(type(event))
    if handler is not None:
        handler(changes, envelope, row, event, at)
    # `_value_`, not `.value` or a dict keyed by members: Enum hashing and its `value`
    # property are Python-level calls, the costliest part of this loop.
    status = event.status._value_
    if status != row["status"]:
        changes.move(row, "status", status, position, at)
    stage = event.stage._value_
    rank = _RANK[stage]
    if rank > row["stage_rank"]:
        changes.move(row, "stage", stage, position, at)
        row["stage_rank"] = rank
        column = STAGE_COLUMNS[stage]
        if row[column] is None:
            row[column] = at
    row["version"] = event.originator_version


def _created(lead_id: str, event: Lead.Created) -> Row:
    at = micros(event.occurred_at)
    return {
        "lead_id": lead_id, "created_at": at, "created_month": month_of(at),
        "source": event.source, "campaign": event.campaign, "channel": event.channel,
        "region": event.region.value if event.region else None,
        "owner": None, "team": None, "first_owner": None, "first_team": None,
        "assigned_at": None, "first_attempt_at": None, "attempts": 0, "score": event.points,
        "status": event.status.value, "status_since": at,
        "stage": event.stage.value, "stage_rank": _RANK[event.stage.value], "stage_since": at,
        "mql_at": None, "sql_at": None, "opportunity_at": None,
        "customer_at": None, "revenue_cents": None, "version": event.originator_version,
    }  # fmt: skip


def _assigned(
    changes: _Changes, envelope: Envelope, row: Row, event: Lead.Assigned, at: int
) -> None:
    row["owner"], row["team"] = event.owner, event.team
    if row["assigned_at"] is None:
        row["first_owner"], row["first_team"], row["assigned_at"] = event.owner, event.team, at


def _attempted(
    changes: _Changes, envelope: Envelope, row: Row, event: Lead.Attempted, at: int
) -> None:
    row["attempts"] = event.attempt
    if row["first_attempt_at"] is None:
        row["first_attempt_at"] = at
    attempt = {
        "position": envelope.position, "lead_id": envelope.lead_id, "occurred_at": at,
        "owner": row["owner"], "channel": event.channel, "attempt": event.attempt,
        "week": week_of(at), "month": month_of(at),
    }  # fmt: skip
    changes.attempts.append(attempt)


def _passed(changes: _Changes, envelope: Envelope, row: Row, event: Lead.Passed, at: int) -> None:
    row["owner"] = event.to_owner


def _won(changes: _Changes, envelope: Envelope, row: Row, event: Lead.Won, at: int) -> None:
    row["revenue_cents"] = cents(event.amount)


def _touched(changes: _Changes, envelope: Envelope, row: Row, event: Lead.Touched, at: int) -> None:
    row["score"] += event.points


def _updated(changes: _Changes, envelope: Envelope, row: Row, event: Lead.Updated, at: int) -> None:
    row["score"] += event.points
    if "region" in event.new:
        row["region"] = event.new["region"]


def _reasoned(changes: _Changes, envelope: Envelope, row: Row, event: Lead.Event, at: int) -> None:
    changes.reasons.append(reason_row(envelope, row, at))


def cents(amount: Decimal) -> int:
    """Money as whole cents (activities allow two decimal places)."""
    return int((Decimal(amount) / _CENT).to_integral_value(ROUND_HALF_EVEN))


_HANDLERS: dict[type[Lead.Event], Callable[[_Changes, Envelope, Row, Any, int], None]] = {
    Lead.Assigned: _assigned,
    Lead.Attempted: _attempted,
    Lead.Passed: _passed,
    Lead.Won: _won,
    Lead.Touched: _touched,
    Lead.Updated: _updated,
    **dict.fromkeys(REASONED, _reasoned),
}
