"""The SLA clocks read model: every SLA deadline a lead ever had, and how it ended.

Events carry the lead's pending deadlines after them, so a clock is read off the maps, not
recomputed: a policy that appears (or changes its due time) starts a clock; one that
disappears was stopped by that event — met if the event *occurred* by the due time, breached
otherwise — unless the event is the timer that fired it (`sla_breached`, `escalated`), which
records a breach. A deadline replaced by a new one before it was due is `cancelled` (a
reassignment restarts the first-attempt clock). Only the
SLA policies are tracked: auto-nurture and opt-out expiry are timers, not promises, and the
auto-nurture clock restarts on every attempt (their effects show in the status history).

Late arrivals: an activity may be recorded after the scheduler fired the breach although it
happened before the deadline. The lead's map no longer shows the policy then, so the stopping
activities of each policy are listed here (they mirror `Lead`'s commands): such an activity,
occurring while the clock ran, turns the recorded breach into a met deadline and marks it
`corrected`, which the SLA report counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from ..domain.lead import Lead
from ..domain.sla import STOPPED_BY
from ..domain.values import Policy
from ..storage.bulk import rows_by_key
from .base import micros, position_column, prepare, time_column
from .protocol import Envelope, Write, metadata

PENDING, MET, BREACHED, CANCELLED = "pending", "met", "breached", "cancelled"
# The obligations of docs/activities.md.
SLA_POLICIES = (
    Policy.FIRST_ATTEMPT.value,
    Policy.MQL_FOLLOW_UP.value,
    Policy.CADENCE.value,
    Policy.PASSED_FOLLOW_UP.value,
)
# Which activities meet each clock: the domain's own table, turned around.
STOPPERS = {
    policy: frozenset(activity for activity, stops in STOPPED_BY.items() if Policy(policy) in stops)
    for policy in SLA_POLICIES
}
_TIMERS = frozenset({Lead.SlaBreached, Lead.Escalated})

sla_clocks = Table(
    "sla_clocks",
    metadata,
    position_column(),  # the event that started it
    Column("policy", String(30), nullable=False),
    Column("lead_id", String(36), nullable=False),
    time_column("started_at", nullable=False),
    time_column("due_at", nullable=False),
    Column("owner", String),
    Column("team", String),
    Column("start_attempt", Integer),  # cadence: the attempt number that started it
    time_column("stopped_at"),
    Column("stopped_by", String(30)),
    Column("outcome", String(10), nullable=False),
    Column("breach_recorded", Boolean, nullable=False),
    Column("corrected", Boolean, nullable=False),
    PrimaryKeyConstraint("position", "policy"),
    sqlite_with_rowid=False,
)

# The projection's working state per lead: its owner, and its clocks that can still change.
sla_leads = Table(
    "sla_leads",
    metadata,
    Column("lead_id", String(36), primary_key=True),
    Column("owner", String),
    Column("team", String),
    Column("clocks", Text, nullable=False),  # JSON: running clocks and correctable breaches
)

Row = dict[str, Any]


@dataclass
class _Lead:
    owner: str | None = None
    team: str | None = None
    running: dict[str, Row] = field(default_factory=dict)  # policy -> pending clock
    recorded_breaches: list[Row] = field(default_factory=list)  # correctable by a late stop
    stored: Row | None = None  # its row as loaded, to skip writing it unchanged
    seen: dict[Any, Any] | None = None  # the deadlines of its previous event in this batch

    def row(self, lead_id: str) -> Row | None:
        """Its row, if it differs from the stored one."""
        clocks = orjson.dumps([*self.running.values(), *self.recorded_breaches]).decode()
        row = {"lead_id": lead_id, "owner": self.owner, "team": self.team, "clocks": clocks}
        return None if row == self.stored else row


class SlaClocks:
    """Projection feeding `sla_clocks` (and `sla_leads`, the owner each new clock gets)."""

    name = "sla_clocks"

    def __init__(self, cadence_attempts: int = 5) -> None:
        self.cadence_attempts = cadence_attempts

    def tables(self) -> Sequence[Table]:
        return (sla_clocks, sla_leads)

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        self.prepare(conn, batch)(conn)

    def prepare(self, conn: Connection, batch: Sequence[Envelope]) -> Write:
        leads = _load(conn, batch)
        changed: dict[tuple[int, str], Row] = {}
        for envelope in batch:
            lead = leads.setdefault(envelope.lead_id, _Lead())
            for clock in self._clocks_after(lead, envelope):
                changed[(clock["position"], clock["policy"])] = clock
        rows = (lead.row(lead_id) for lead_id, lead in leads.items())
        clocks = prepare(sla_clocks, changed.values(), upsert=True)
        states = prepare(sla_leads, [row for row in rows if row is not None], upsert=True)

        def write(conn: Connection) -> None:
            clocks(conn)
            states(conn)

        return write

    def _clocks_after(self, lead: _Lead, envelope: Envelope) -> list[Row]:
        """Updates the lead's clocks for one event; returns the clocks it changed."""
        event, kind = envelope.event, type(envelope.event)
        if kind is Lead.Assigned:
            assert isinstance(event, Lead.Assigned)
            lead.owner, lead.team = event.owner, event.team
        elif kind is Lead.Passed:
            assert isinstance(event, Lead.Passed)
            lead.owner = event.to_owner
        if event.deadlines == lead.seen and not lead.recorded_breaches and kind not in _TIMERS:
            return []  # the deadlines of its previous event: no clock starts or stops (fast)
        lead.seen = event.deadlines
        at = micros(event.occurred_at)
        changed = self._corrected(lead, event, at) if lead.recorded_breaches else []
        if isinstance(event, (Lead.SlaBreached, Lead.Escalated)):
            changed += _fired(lead, event.policy._value_, micros(event.due_at))
        deadlines = _sla_deadlines(event.deadlines)
        if deadlines or lead.running:
            changed += _moved(lead, envelope, deadlines, at)
        return changed

    def _corrected(self, lead: _Lead, event: Lead.Event, at: int) -> list[Row]:
        """Recorded breaches this event shows were in fact met (it occurred in time).

        A state-changing event after a deadline closes the window for good: no activity that
        could stop the clock may be recorded before it any more (docs/activities.md, ordering).
        """
        corrected, still_open = [], []
        for clock in lead.recorded_breaches:
            if self._stops(clock, event, at):
                clock.update(outcome=MET, corrected=True, stopped_at=at, stopped_by=event.TYPE)
                corrected.append(clock)
            elif not (event.ORDERED and at > clock["due_at"]):
                still_open.append(clock)
        lead.recorded_breaches = still_open
        return corrected

    def _stops(self, clock: Row, event: Lead.Event, at: int) -> bool:
        if not clock["started_at"] <= at <= clock["due_at"]:
            return False
        if event.TYPE in STOPPERS.get(clock["policy"], ()):
            return True
        if clock["policy"] == Policy.CADENCE.value and isinstance(event, Lead.Attempted):
            first = clock["start_attempt"] or 1
            return bool(event.attempt >= first + self.cadence_attempts - 1)
        return False


def _sla_deadlines(pending: dict[Any, datetime]) -> dict[str, int]:
    """The SLA deadlines of an event's map, in microseconds (keys: see `_policy`)."""
    deadlines = {}
    for key, moment in pending.items():
        policy = _policy(key)
        if policy in STOPPERS:
            deadlines[policy] = micros(moment)
    return deadlines


def _moved(lead: _Lead, envelope: Envelope, deadlines: dict[str, int], at: int) -> list[Row]:
    """Stops the running clocks absent from (or replaced in) `deadlines`, starts new ones."""
    changed = []
    for policy, clock in list(lead.running.items()):
        due = deadlines.get(policy)
        if due == clock["due_at"]:
            continue
        if due is None:
            outcome = MET if at <= clock["due_at"] else BREACHED
        else:  # replaced by a new deadline for the same policy
            outcome = BREACHED if clock["due_at"] <= at else CANCELLED
        clock.update(stopped_at=at, stopped_by=envelope.event.TYPE, outcome=outcome)
        changed.append(lead.running.pop(policy))
    for policy, due in deadlines.items():
        if policy not in lead.running:
            lead.running[policy] = _started(lead, envelope, policy, at, due)
            changed.append(lead.running[policy])
    return changed


def _fired(lead: _Lead, policy: str, due: int) -> list[Row]:
    clock = lead.running.get(policy)
    if clock is None or clock["due_at"] != due:
        return []  # not a deadline this lead was running: nothing to record
    del lead.running[policy]
    clock.update(outcome=BREACHED, breach_recorded=True)
    lead.recorded_breaches.append(clock)
    return [clock]


def _started(lead: _Lead, envelope: Envelope, policy: str, at: int, due: int) -> Row:
    event = envelope.event
    attempt = event.attempt if isinstance(event, Lead.Attempted) else None
    return {
        "position": envelope.position, "policy": policy, "lead_id": envelope.lead_id,
        "started_at": at, "due_at": due, "owner": lead.owner, "team": lead.team,
        "start_attempt": attempt, "stopped_at": None, "stopped_by": None,
        "outcome": PENDING, "breach_recorded": False, "corrected": False,
    }  # fmt: skip


def _policy(key: Any) -> str:
    """Deadline keys decode as the policy's value; in memory they are `Policy` members."""
    return key if type(key) is str else str(key._value_)


def _load(conn: Connection, batch: Sequence[Envelope]) -> dict[str, _Lead]:
    """The working state of the batch's leads created before the batch."""
    created = {e.lead_id for e in batch if type(e.event) is Lead.Created}
    earlier = {e.lead_id for e in batch} - created
    leads = {}
    for row in rows_by_key(conn, sla_leads, earlier):
        lead = leads[row["lead_id"]] = _Lead(row["owner"], row["team"], stored=row)
        for clock in orjson.loads(row["clocks"]):
            if clock["outcome"] == PENDING:
                lead.running[clock["policy"]] = clock
            else:
                lead.recorded_breaches.append(clock)
    return leads
