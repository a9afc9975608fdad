"""Each SLA policy through the real path: activities → deadlines projection → tick → event.

For every policy: one minute before its deadline nothing fires, at the deadline its timer event
is recorded (dated at the deadline), satisfied in time nothing fires, and satisfied late by a
backdated activity the breach stays recorded. The clock starts Monday 2 March 2026, 09:00 UTC;
the built-in rules apply (owner "alex" has no team: 09:00–17:00 UTC, Monday to Friday).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from helpers import ManualClock, given_lead, refused, types_of, when

from lifecycle.domain.lead import Lead

if TYPE_CHECKING:
    from conftest import Timers  # tests/scheduler/conftest.py

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


def timer_events(timers: Timers, lead: str) -> list[Lead.Event]:
    events = timers.ledger.lead_events(timers.ledger.find(lead).id)
    return [e for e in events if e.TYPE in ("auto_nurtured", "sla_breached", "escalated",
                                            "opt_out_expired")]  # fmt: skip


def fired(timers: Timers, lead: str) -> list[tuple[str, str, datetime]]:
    """(type, policy, due_at) of the lead's timer events."""
    return [(e.TYPE, e.policy.value, e.due_at) for e in timer_events(timers, lead)]  # type: ignore[attr-defined]


def tick_at(timers: Timers, clock: ManualClock, moment: datetime) -> int:
    clock.current = moment
    return timers.tick(moment)


def at(moment: datetime) -> dict[str, Any]:
    return {"occurred_at": moment.isoformat()}


# ------------------------------------------------------------------------ first_attempt
def test_first_attempt_is_not_breached_a_minute_before_four_business_hours(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = given_lead(timers.ledger, "assigned")

    assert tick_at(timers, clock, now + timedelta(hours=4) - MINUTE) == 0
    assert fired(timers, lead) == []


def test_first_attempt_is_breached_exactly_four_business_hours_after_assignment(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = given_lead(timers.ledger, "assigned")
    due = now + timedelta(hours=4)

    assert tick_at(timers, clock, due) == 1

    assert fired(timers, lead) == [("sla_breached", "first_attempt", due)]
    breach = timer_events(timers, lead)[0]
    assert breach.occurred_at == due
    assert breach.status.value == "open"  # a breach never moves the status
    assert breach.actor == "scheduler"


def test_first_attempt_counts_business_hours_only(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    clock.current = now + timedelta(days=4, hours=7)  # Friday 16:00 UTC
    lead = given_lead(timers.ledger, "assigned")
    monday_noon = now + timedelta(days=7, hours=3)

    assert tick_at(timers, clock, monday_noon - MINUTE) == 0
    assert tick_at(timers, clock, monday_noon) == 1
    assert fired(timers, lead) == [("sla_breached", "first_attempt", monday_noon)]


def test_first_attempt_made_in_time_records_no_breach(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = given_lead(timers.ledger, "assigned")
    clock.advance(hours=3, minutes=59)
    when(timers.ledger, lead, "attempted")

    assert tick_at(timers, clock, now + DAY) == 0
    assert "first_attempt" not in [policy for _, policy, _ in fired(timers, lead)]


def test_first_attempt_reported_late_but_backdated_in_time_keeps_the_breach(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = given_lead(timers.ledger, "assigned")
    tick_at(timers, clock, now + timedelta(hours=5))

    when(timers.ledger, lead, "attempted", **at(now + timedelta(hours=3)))

    assert fired(timers, lead) == [("sla_breached", "first_attempt", now + timedelta(hours=4))]
    assert timers.ledger.find(lead).status.value == "attempt_1"


def test_a_late_attempt_recorded_before_any_tick_still_records_the_breach_first(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = given_lead(timers.ledger, "assigned")
    clock.advance(hours=6)  # the scheduler was down

    recorded = when(timers.ledger, lead, "attempted")

    assert [e.TYPE for e in recorded.events] == ["sla_breached", "attempted"]
    assert fired(timers, lead) == [("sla_breached", "first_attempt", now + timedelta(hours=4))]
    assert timers.tick() == 0


# ------------------------------------------------------------------------ mql_follow_up
def mql(timers: Timers) -> str:
    """A lead that is an MQL on creation: VP (10) at 1,500 employees (10) + its form (5)."""
    return given_lead(timers.ledger, title="VP Marketing", employees=1500)


def test_a_new_mql_is_not_breached_a_minute_before_24_hours(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = mql(timers)

    assert tick_at(timers, clock, now + DAY - MINUTE) == 0
    assert fired(timers, lead) == []


def test_a_new_mql_not_followed_up_for_24_hours_is_breached(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = mql(timers)

    assert tick_at(timers, clock, now + DAY) == 1
    assert fired(timers, lead) == [("sla_breached", "mql_follow_up", now + DAY)]


def test_a_new_mql_followed_up_in_time_records_no_breach(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = mql(timers)
    clock.advance(hours=1)
    when(timers.ledger, lead, "assigned")
    when(timers.ledger, lead, "attempted")

    assert tick_at(timers, clock, now + 2 * DAY) == 0
    assert fired(timers, lead) == []


def test_a_new_mql_followed_up_late_but_backdated_in_time_keeps_the_breach(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = mql(timers)
    tick_at(timers, clock, now + 2 * DAY)

    when(timers.ledger, lead, "assigned", **at(now + timedelta(hours=1)))
    when(timers.ledger, lead, "attempted", **at(now + timedelta(hours=2)))

    assert fired(timers, lead) == [("sla_breached", "mql_follow_up", now + DAY)]


def test_a_lead_already_in_conversation_when_it_becomes_an_mql_gets_no_follow_up_clock(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = given_lead(timers.ledger, "assigned", "responded", title="VP Marketing")  # 15 points
    when(timers.ledger, lead, "touched", kind="demo_request")  # 30: an MQL while progressing

    assert timers.ledger.find(lead).stage.value == "mql"
    assert tick_at(timers, clock, now + 3 * DAY) == 0


# ----------------------------------------------------------------------------- cadence
def attempted_on_days(timers: Timers, clock: ManualClock, *days: int) -> str:
    lead = given_lead(timers.ledger, "assigned")
    start = clock.now()
    for day in days:
        clock.current = start + day * DAY
        when(timers.ledger, lead, "attempted")
    return lead


def test_cadence_is_not_breached_a_minute_before_14_days(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = attempted_on_days(timers, clock, 0, 3, 6, 9)

    tick_at(timers, clock, now + 14 * DAY - MINUTE)
    assert fired(timers, lead) == []


def test_fewer_than_5_attempts_in_14_days_breach_the_cadence(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = attempted_on_days(timers, clock, 0, 3, 6, 9)

    assert tick_at(timers, clock, now + 14 * DAY) == 1
    assert fired(timers, lead) == [("sla_breached", "cadence", now + 14 * DAY)]


def test_5_attempts_in_14_days_meet_the_cadence(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = attempted_on_days(timers, clock, 0, 3, 6, 9, 13)

    tick_at(timers, clock, now + 20 * DAY)
    assert fired(timers, lead) == []


def test_a_fifth_attempt_reported_late_but_backdated_in_time_keeps_the_cadence_breach(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = attempted_on_days(timers, clock, 0, 3, 6, 9)
    tick_at(timers, clock, now + 15 * DAY)

    when(timers.ledger, lead, "attempted", **at(now + 13 * DAY))

    assert fired(timers, lead) == [("sla_breached", "cadence", now + 14 * DAY)]
    assert timers.ledger.find(lead).attempts == 5


def test_a_response_ends_the_cadence(timers: Timers, clock: ManualClock, now: datetime) -> None:
    lead = attempted_on_days(timers, clock, 0)
    clock.advance(days=1)
    when(timers.ledger, lead, "responded")

    tick_at(timers, clock, now + 30 * DAY)
    assert fired(timers, lead) == []


# ------------------------------------------------------------------------ auto_nurture
@pytest.mark.parametrize("attempts", [1, 2, 3, 4])
def test_an_attempt_lead_without_response_for_21_days_moves_to_nurture(
    timers: Timers, clock: ManualClock, now: datetime, attempts: int
) -> None:
    lead = given_lead(timers.ledger, "assigned", *["attempted"] * attempts)
    assert timers.ledger.find(lead).status.value == f"attempt_{attempts}"

    tick_at(timers, clock, now + 21 * DAY - MINUTE)
    assert timers.ledger.find(lead).status.value == f"attempt_{attempts}"

    tick_at(timers, clock, now + 21 * DAY)
    assert timers.ledger.find(lead).status.value == "nurture"
    assert fired(timers, lead)[-1] == ("auto_nurtured", "auto_nurture", now + 21 * DAY)


def test_a_new_attempt_restarts_the_21_days(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = attempted_on_days(timers, clock, 0, 10)

    tick_at(timers, clock, now + 31 * DAY - MINUTE)
    assert timers.ledger.find(lead).status.value == "attempt_2"

    tick_at(timers, clock, now + 31 * DAY)
    assert timers.ledger.find(lead).status.value == "nurture"
    assert fired(timers, lead)[-1] == ("auto_nurtured", "auto_nurture", now + 31 * DAY)


def test_a_response_cancels_the_auto_nurture(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = attempted_on_days(timers, clock, 0)
    clock.advance(days=5)
    when(timers.ledger, lead, "responded")

    tick_at(timers, clock, now + 60 * DAY)
    assert fired(timers, lead) == []
    assert timers.ledger.find(lead).status.value == "progressing"


def test_a_response_after_the_auto_nurture_reopens_the_conversation_and_keeps_it(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = attempted_on_days(timers, clock, 0, 1, 2, 3, 4)  # cadence met: only auto-nurture
    tick_at(timers, clock, now + 30 * DAY)

    when(timers.ledger, lead, "responded", **at(now + 28 * DAY))  # after due, reported late

    assert types_of(timers.ledger, lead)[-2:] == ["auto_nurtured", "responded"]
    assert timers.ledger.find(lead).status.value == "progressing"


def test_a_response_backdated_before_a_recorded_auto_nurture_is_out_of_order(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    """Auto-nurture changed the status at its due time: older state changes are refused."""
    lead = attempted_on_days(timers, clock, 0, 1, 2, 3, 4)
    tick_at(timers, clock, now + 30 * DAY)

    error = refused(timers.ledger, lead, "responded", **at(now + 20 * DAY))

    assert error.code == "out_of_order"
    assert fired(timers, lead) == [("auto_nurtured", "auto_nurture", now + 25 * DAY)]


def test_timers_missed_during_downtime_fire_in_order_before_a_later_activity(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = attempted_on_days(timers, clock, 0)
    clock.current = now + 40 * DAY  # no tick for 40 days

    recorded = when(timers.ledger, lead, "responded")

    assert [e.TYPE for e in recorded.events] == ["sla_breached", "auto_nurtured", "responded"]
    assert fired(timers, lead) == [
        ("sla_breached", "cadence", now + 14 * DAY),
        ("auto_nurtured", "auto_nurture", now + 21 * DAY),
    ]


# --------------------------------------------------------------------- passed_follow_up
def passed(timers: Timers) -> str:
    return given_lead(timers.ledger, "assigned", "qualified", "passed")  # to "sam"


def test_a_passed_lead_is_not_escalated_a_minute_before_3_days(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = passed(timers)

    assert tick_at(timers, clock, now + 3 * DAY - MINUTE) == 0
    assert fired(timers, lead) == []


def test_a_passed_lead_not_acted_on_for_3_days_is_escalated(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = passed(timers)

    assert tick_at(timers, clock, now + 3 * DAY) == 1

    assert fired(timers, lead) == [("escalated", "passed_follow_up", now + 3 * DAY)]
    assert timer_events(timers, lead)[0].owner == "sam"  # type: ignore[attr-defined]
    assert timers.ledger.find(lead).status.value == "qualified"


def test_a_passed_lead_accepted_in_time_is_not_escalated(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = passed(timers)
    clock.advance(days=2)
    when(timers.ledger, lead, "accepted")

    assert tick_at(timers, clock, now + 10 * DAY) == 0


def test_an_acceptance_reported_late_but_backdated_in_time_keeps_the_escalation(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = passed(timers)
    tick_at(timers, clock, now + 4 * DAY)

    when(timers.ledger, lead, "accepted", **at(now + 2 * DAY))

    assert fired(timers, lead) == [("escalated", "passed_follow_up", now + 3 * DAY)]
    assert timers.ledger.find(lead).stage.value == "sql"


# ---------------------------------------------------------------------- opt_out_expiry
def opted_out(timers: Timers, days: int = 30) -> str:
    return given_lead(timers.ledger, {"type": "opted_out", "days": days})


def test_an_opt_out_has_not_expired_a_minute_before_its_days(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = opted_out(timers)

    assert tick_at(timers, clock, now + 30 * DAY - MINUTE) == 0
    assert timers.ledger.find(lead).opted_out


def test_an_opt_out_for_30_days_expires_after_30_days(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = opted_out(timers)

    assert tick_at(timers, clock, now + 30 * DAY) == 1

    assert fired(timers, lead) == [("opt_out_expired", "opt_out_expiry", now + 30 * DAY)]
    assert not timers.ledger.find(lead).opted_out


def test_an_opt_in_before_the_end_cancels_the_expiry(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = opted_out(timers)
    clock.advance(days=10)
    when(timers.ledger, lead, "opted_in")

    assert tick_at(timers, clock, now + 40 * DAY) == 0


def test_an_opt_in_reported_late_but_backdated_keeps_the_expiry(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = opted_out(timers)
    tick_at(timers, clock, now + 31 * DAY)

    when(timers.ledger, lead, "opted_in", **at(now + 20 * DAY))

    assert fired(timers, lead) == [("opt_out_expired", "opt_out_expiry", now + 30 * DAY)]
    assert not timers.ledger.find(lead).opted_out


def test_an_opt_out_without_days_never_expires(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    lead = given_lead(timers.ledger, "opted_out")

    assert tick_at(timers, clock, now + 400 * DAY) == 0
    assert timers.ledger.find(lead).opted_out


# ---------------------------------------------------------------------------- clients
@pytest.mark.parametrize("timer", ["auto_nurtured", "sla_breached", "escalated", "opt_out_expired"])
def test_clients_cannot_send_timer_activities(timers: Timers, timer: str) -> None:
    lead = given_lead(timers.ledger, "assigned", "attempted")

    error = refused(timers.ledger, lead, timer, policy="auto_nurture")

    assert error.code == "validation_error"
    assert "type" in error.details["fields"]
