"""Every status by every client activity, against the table of docs/activities.md.

The table below is copied by hand from the contract, not derived from the status machine: a
change to either that the other does not share fails here. Each lead reaches its status through
real activities (it has an email only, so `bad_data` finds no working channel left).
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import given_lead, refused, types_of, when

from lifecycle.app.ledger import LeadLedger

RW, OP, PR, QU = "raw", "open", "progressing", "qualified"
UQ, NU, BD = "unqualified", "nurture", "bad_data"
A1, A2, A3, A4 = "attempt_1", "attempt_2", "attempt_3", "attempt_4"
__ = None  # refused

STATUSES = (RW, OP, A1, A2, A3, A4, PR, QU, UQ, NU, BD)

# docs/activities.md: the status after each activity (a row), by the status before it (a column);
# __ = refused. For a lead at stage `lead` that was never passed: every lead in this table.
STATUS_TABLE: dict[str, tuple[str | None, ...]] = {
    #                       raw open a_1 a_2 a_3 a_4 prog qual unq nurt bad
    "assigned":            (OP, OP,  A1, A2, A3, A4, PR,  QU,  UQ, NU,  __),
    "attempted":           (__, A1,  A2, A3, A4, A4, __,  __,  __, A1,  __),
    "responded":           (__, PR,  PR, PR, PR, PR, __,  __,  PR, PR,  __),
    "qualified":           (__, QU,  QU, QU, QU, QU, QU,  __,  __, QU,  __),
    "disqualified":        (__, UQ,  UQ, UQ, UQ, UQ, UQ,  __,  __, UQ,  __),
    "nurtured":            (__, NU,  NU, NU, NU, NU, NU,  NU,  NU, __,  __),
    "bad_data":            (BD, BD,  BD, BD, BD, BD, __,  __,  __, __,  __),
    "reopened":            (__, __,  __, __, __, __, __,  __,  OP, OP,  OP),
    "passed":              (__, __,  __, __, __, __, __,  QU,  __, __,  __),
    # Stage-governed (see the stage table below): never allowed at stage lead before `passed`.
    "accepted":            (__, __,  __, __, __, __, __,  __,  __, __,  __),
    "opportunity_created": (__, __,  __, __, __, __, __,  __,  __, __,  __),
    "won":                 (__, __,  __, __, __, __, __,  __,  __, __,  __),
    "lost":                (__, __,  __, __, __, __, __,  __,  __, __,  __),
    # Any status; the status stays.
    "touched":             (RW, OP,  A1, A2, A3, A4, PR,  QU,  UQ, NU,  BD),
    "opted_out":           (RW, OP,  A1, A2, A3, A4, PR,  QU,  UQ, NU,  BD),
    "opted_in":            (RW, OP,  A1, A2, A3, A4, PR,  QU,  UQ, NU,  BD),
    # Any status but bad_data; the status stays.
    "updated":             (RW, OP,  A1, A2, A3, A4, PR,  QU,  UQ, NU,  __),
}  # fmt: skip

# How each status is reached from a new lead (a `raw` one).
REACHED_BY: dict[str, tuple[str, ...]] = {
    RW: (),
    OP: ("assigned",),
    A1: ("assigned", "attempted"),
    A2: ("assigned", "attempted", "attempted"),
    A3: ("assigned", "attempted", "attempted", "attempted"),
    A4: ("assigned", "attempted", "attempted", "attempted", "attempted"),
    PR: ("assigned", "responded"),
    QU: ("assigned", "qualified"),
    UQ: ("assigned", "disqualified"),
    NU: ("assigned", "nurtured"),
    BD: ("bad_data",),
}


def allowed_in(status: str, *, also: tuple[str, ...] = ()) -> list[str]:
    """The client activities the table allows in `status`, plus stage-governed `also`."""
    column = STATUSES.index(status)
    allowed = {activity for activity, row in STATUS_TABLE.items() if row[column] is not None}
    return sorted(allowed | set(also))


CELLS = [(status, activity) for status in STATUSES for activity in STATUS_TABLE]


def test_the_table_covers_every_status_and_every_client_activity() -> None:
    assert all(len(row) == len(STATUSES) for row in STATUS_TABLE.values())
    assert set(REACHED_BY) == set(STATUSES)


@pytest.mark.parametrize("status", STATUSES)
def test_each_status_is_reached_through_real_activities(
    memory_ledger: LeadLedger, status: str
) -> None:
    lead = given_lead(memory_ledger, *REACHED_BY[status])

    assert memory_ledger.find(lead).status.value == status
    assert memory_ledger.find(lead).stage.value == "lead"


@pytest.mark.parametrize(("status", "activity"), CELLS, ids=[f"{s}-{a}" for s, a in CELLS])
def test_an_activity_moves_the_lead_as_the_contract_table_says(
    memory_ledger: LeadLedger, status: str, activity: str
) -> None:
    lead = given_lead(memory_ledger, *REACHED_BY[status])
    before = types_of(memory_ledger, lead)
    expected = STATUS_TABLE[activity][STATUSES.index(status)]

    if expected is None:
        error = refused(memory_ledger, lead, activity)
        assert error.code == "transition_not_allowed"
        assert error.details["status"] == status
        assert sorted(error.details["allowed"]) == allowed_in(status)
        assert types_of(memory_ledger, lead) == before
    else:
        recorded = when(memory_ledger, lead, activity)
        assert recorded.lead.status.value == expected
        assert recorded.lead.stage.value == "lead"
        assert [event.TYPE for event in recorded.events] == [activity]
        assert memory_ledger.find(lead).status.value == expected


# ------------------------------------------------------------------- stage-governed activities
QUALIFIED_LEAD = ("assigned", "qualified")
PASSED = (*QUALIFIED_LEAD, "passed")
SQL = (*PASSED, "accepted")
OPPORTUNITY = (*SQL, "opportunity_created")


def case(name: str, given: tuple[str, ...], activity: str, then: Any) -> Any:
    return pytest.param(given, activity, then, id=name)


def refused_with(status: str, *also: str) -> dict[str, Any]:
    """Refused; the error lists the table's activities for `status` plus `also`."""
    return {"status": status, "allowed": allowed_in(status, also=also)}


STAGE_TABLE = [
    # accepted: status qualified, after `passed`, stage below sql
    case("accepted-before-passed", QUALIFIED_LEAD, "accepted", refused_with(QU)),
    case("accepted-after-passed", PASSED, "accepted", (QU, "sql")),
    case("accepted-twice", SQL, "accepted", refused_with(QU, "opportunity_created")),
    case("accepted-passed-then-nurtured", (*PASSED, "nurtured"), "accepted",
         refused_with(NU)),
    # opportunity_created: stage sql, whatever the status
    case("opportunity-at-stage-lead", PASSED, "opportunity_created",
         refused_with(QU, "accepted")),
    case("opportunity-at-stage-sql", SQL, "opportunity_created", (QU, "opportunity")),
    case("opportunity-at-stage-sql-nurtured", (*SQL, "nurtured"), "opportunity_created",
         (NU, "opportunity")),
    case("opportunity-twice", OPPORTUNITY, "opportunity_created",
         refused_with(QU, "won", "lost")),
    case("opportunity-at-stage-customer", (*OPPORTUNITY, "won"), "opportunity_created",
         refused_with(QU)),
    # won: stage opportunity, neither won nor lost yet
    case("won-at-stage-sql", SQL, "won", refused_with(QU, "opportunity_created")),
    case("won-at-stage-opportunity", OPPORTUNITY, "won", (QU, "customer")),
    case("won-while-nurtured", (*OPPORTUNITY, "nurtured"), "won", (NU, "customer")),
    case("won-twice", (*OPPORTUNITY, "won"), "won", refused_with(QU)),
    case("won-after-lost", (*OPPORTUNITY, "lost"), "won", refused_with(NU)),
    # lost: stage opportunity, neither won nor lost yet; the status becomes nurture
    case("lost-at-stage-sql", SQL, "lost", refused_with(QU, "opportunity_created")),
    case("lost-at-stage-opportunity", OPPORTUNITY, "lost", (NU, "opportunity")),
    case("lost-after-won", (*OPPORTUNITY, "won"), "lost", refused_with(QU)),
    case("lost-twice", (*OPPORTUNITY, "lost"), "lost", refused_with(NU)),
]  # fmt: skip


@pytest.mark.parametrize(("given", "activity", "then"), STAGE_TABLE)
def test_a_stage_governed_activity_follows_the_contract_stage_rules(
    memory_ledger: LeadLedger, given: tuple[str, ...], activity: str, then: Any
) -> None:
    lead = given_lead(memory_ledger, *given)
    before = types_of(memory_ledger, lead)

    if isinstance(then, dict):
        error = refused(memory_ledger, lead, activity)
        assert error.code == "transition_not_allowed"
        assert error.details["status"] == then["status"]
        assert sorted(error.details["allowed"]) == then["allowed"]
        assert types_of(memory_ledger, lead) == before
    else:
        recorded = when(memory_ledger, lead, activity)
        assert (recorded.lead.status.value, recorded.lead.stage.value) == then
        assert [event.TYPE for event in recorded.events] == [activity]
