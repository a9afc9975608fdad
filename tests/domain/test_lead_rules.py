"""The lead's rules beyond the status table: one behaviour per test, given/when/then."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from helpers import ManualClock, given_lead, refused, types_of, when

from lifecycle.app.ledger import LeadLedger
from lifecycle.domain.rules import Rulebook

ROUTING = Rulebook().routing


def at(moment: datetime) -> str:
    return moment.isoformat()


# ------------------------------------------------------------------------- soft-BANT
def test_qualifying_with_one_of_four_bant_criteria_is_refused(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned")

    error = refused(memory_ledger, lead, "qualified", budget=True, need=False)

    assert error.code == "soft_bant_not_met"
    assert memory_ledger.find(lead).status.value == "open"


def test_qualifying_with_two_of_four_bant_criteria_qualifies_the_lead(
    memory_ledger: LeadLedger,
) -> None:
    lead = given_lead(memory_ledger, "assigned")

    recorded = when(memory_ledger, lead, "qualified", budget=False, need=False,
                    authority=True, timeline=True)  # fmt: skip

    assert recorded.lead.status.value == "qualified"


# -------------------------------------------------------------------------- attempts
def test_a_fifth_attempt_is_counted_but_the_status_stays_attempt_4(
    memory_ledger: LeadLedger,
) -> None:
    lead = given_lead(memory_ledger, "assigned", *["attempted"] * 4)

    recorded = when(memory_ledger, lead, "attempted", channel="call")

    assert recorded.lead.status.value == "attempt_4"
    assert recorded.lead.attempts == 5


# ------------------------------------------------------------------------------ stage
def test_losing_an_opportunity_keeps_the_stage_opportunity(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned", "qualified", "passed", "accepted",
                      "opportunity_created")  # fmt: skip

    recorded = when(memory_ledger, lead, "lost")

    assert recorded.lead.status.value == "nurture"
    assert recorded.lead.stage.value == "opportunity"


def test_reopening_a_lost_opportunity_keeps_the_stage_opportunity(
    memory_ledger: LeadLedger,
) -> None:
    lead = given_lead(memory_ledger, "assigned", "qualified", "passed", "accepted",
                      "opportunity_created", "lost")  # fmt: skip

    recorded = when(memory_ledger, lead, "reopened")

    assert recorded.lead.status.value == "open"
    assert recorded.lead.stage.value == "opportunity"


def test_activities_after_a_win_keep_the_stage_customer(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned", "qualified", "passed", "accepted",
                      "opportunity_created", "won")  # fmt: skip

    when(memory_ledger, lead, "touched", kind="demo_request")
    recorded = when(memory_ledger, lead, "nurtured")

    assert recorded.lead.stage.value == "customer"
    assert [event.stage.value for event in memory_ledger.lead_events(recorded.lead.id)][-3:] == [
        "customer", "customer", "customer",
    ]  # fmt: skip


def test_winning_records_the_revenue(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned", "qualified", "passed", "accepted",
                      "opportunity_created")  # fmt: skip

    recorded = when(memory_ledger, lead, "won", amount="12500.50")

    assert str(recorded.lead.revenue) == "12500.50"


# --------------------------------------------------------------------------- bad data
def test_a_bounced_email_is_not_bad_data_while_a_phone_is_on_record(
    memory_ledger: LeadLedger,
) -> None:
    lead = given_lead(memory_ledger, "assigned", phone="+49 30 123456")

    error = refused(memory_ledger, lead, "bad_data", channel="email")

    assert error.code == "has_contact_channel"
    assert memory_ledger.find(lead).status.value == "open"


def test_a_lead_with_no_working_channel_at_all_is_bad_data(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned", phone="+49 30 123456")

    recorded = when(memory_ledger, lead, "bad_data", channel="all")

    assert recorded.lead.status.value == "bad_data"


def test_a_wrong_phone_on_a_phone_only_lead_is_bad_data(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned", email=None, phone="+1 415 555 0100")

    recorded = when(memory_ledger, lead, "bad_data", channel="phone")

    assert recorded.lead.status.value == "bad_data"


def test_reopening_bad_data_with_a_corrected_email_opens_the_lead_under_that_email(
    memory_ledger: LeadLedger,
) -> None:
    lead = given_lead(memory_ledger, "assigned", "bad_data", email="jane@exampel.com")

    recorded = when(memory_ledger, lead, "reopened", email=" Jane@Example.com ")

    assert recorded.lead.status.value == "open"
    assert recorded.lead.email == "jane@example.com"
    assert str(memory_ledger.find("JANE@example.com").id) == lead


# ------------------------------------------------------------------------------- time
def test_an_activity_more_than_five_minutes_in_the_future_is_refused(
    memory_ledger: LeadLedger, clock: ManualClock
) -> None:
    lead = given_lead(memory_ledger, "assigned")

    error = refused(memory_ledger, lead, "attempted",
                    occurred_at=at(clock.now() + timedelta(minutes=5, seconds=1)))  # fmt: skip

    assert error.code == "occurred_in_future"


def test_an_activity_five_minutes_in_the_future_is_accepted_for_clock_drift(
    memory_ledger: LeadLedger, clock: ManualClock
) -> None:
    lead = given_lead(memory_ledger, "assigned")

    recorded = when(memory_ledger, lead, "attempted",
                    occurred_at=at(clock.now() + timedelta(minutes=5)))  # fmt: skip

    assert recorded.lead.status.value == "attempt_1"


def test_a_touch_more_than_five_minutes_in_the_future_is_refused(
    memory_ledger: LeadLedger, clock: ManualClock
) -> None:
    lead = given_lead(memory_ledger)

    error = refused(
        memory_ledger, lead, "touched", occurred_at=at(clock.now() + timedelta(hours=1))
    )

    assert error.code == "occurred_in_future"


def test_a_lead_created_more_than_five_minutes_in_the_future_is_refused(
    memory_ledger: LeadLedger, clock: ManualClock
) -> None:
    later = clock.now() + timedelta(minutes=6)

    error = refused(memory_ledger, None, "created", email="a@example.com", occurred_at=at(later))

    assert error.code == "occurred_in_future"


def test_a_state_change_older_than_the_latest_state_change_is_out_of_order(
    memory_ledger: LeadLedger, clock: ManualClock
) -> None:
    lead = given_lead(memory_ledger, "assigned")
    clock.advance(hours=2)
    when(memory_ledger, lead, "attempted")

    error = refused(memory_ledger, lead, "responded",
                    occurred_at=at(clock.now() - timedelta(hours=1)))  # fmt: skip

    assert error.code == "out_of_order"
    assert memory_ledger.find(lead).status.value == "attempt_1"


def test_a_state_change_at_the_same_time_as_the_latest_one_is_in_order(
    memory_ledger: LeadLedger, clock: ManualClock
) -> None:
    lead = given_lead(memory_ledger, "assigned", "attempted")

    recorded = when(memory_ledger, lead, "responded", occurred_at=at(clock.now()))

    assert recorded.lead.status.value == "progressing"


def test_a_late_touch_is_accepted_without_changing_the_status(
    memory_ledger: LeadLedger, clock: ManualClock
) -> None:
    lead = given_lead(memory_ledger, "assigned")
    clock.advance(days=3)
    when(memory_ledger, lead, "attempted")

    recorded = when(memory_ledger, lead, "touched", kind="webinar",
                    occurred_at=at(clock.now() - timedelta(days=2)))  # fmt: skip

    assert [event.TYPE for event in recorded.events] == ["touched"]
    assert recorded.lead.status.value == "attempt_1"


def test_a_touch_is_not_a_state_change_for_ordering(
    memory_ledger: LeadLedger, clock: ManualClock
) -> None:
    lead = given_lead(memory_ledger, "assigned")
    clock.advance(hours=2)
    when(memory_ledger, lead, "touched")

    recorded = when(memory_ledger, lead, "attempted",
                    occurred_at=at(clock.now() - timedelta(hours=1)))  # fmt: skip

    assert recorded.lead.status.value == "attempt_1"


# ---------------------------------------------------------------------------- scoring
def test_a_lead_reaching_a_score_of_20_becomes_an_mql(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger)  # the creating form submission: 5 points

    recorded = when(memory_ledger, lead, "touched", kind="demo_request")  # 15 points

    assert recorded.lead.score == 20
    assert [event.TYPE for event in recorded.events] == ["touched", "scored"]
    assert recorded.lead.stage.value == "mql"


def test_a_lead_one_point_short_of_20_stays_a_lead(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, {"type": "touched", "kind": "webinar"})  # 5 + 8

    recorded = when(memory_ledger, lead, "touched", kind="content_download")  # + 5 = 18
    recorded = when(memory_ledger, lead, "touched", kind="page_view")  # + 1 = 19

    assert recorded.lead.score == 19
    assert recorded.lead.stage.value == "lead"
    assert "scored" not in types_of(memory_ledger, lead)


def test_an_mql_is_scored_only_once(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, {"type": "touched", "kind": "demo_request"})

    recorded = when(memory_ledger, lead, "touched", kind="demo_request")

    assert [event.TYPE for event in recorded.events] == ["touched"]
    assert types_of(memory_ledger, lead).count("scored") == 1


def test_a_senior_title_at_a_large_company_can_make_an_mql_on_creation(
    memory_ledger: LeadLedger,
) -> None:
    lead = given_lead(memory_ledger, title="VP Marketing", employees=1500)  # 10 + 10 + 5

    assert types_of(memory_ledger, lead) == ["created", "scored"]
    assert memory_ledger.find(lead).stage.value == "mql"


# ------------------------------------------------------------------------- validation
@pytest.mark.parametrize("timer", ["auto_nurtured", "sla_breached", "escalated", "opt_out_expired"])
def test_a_client_cannot_send_a_timer_activity(memory_ledger: LeadLedger, timer: str) -> None:
    lead = given_lead(memory_ledger, "assigned", "attempted")

    error = refused(memory_ledger, lead, timer, policy="auto_nurture")

    assert error.code == "validation_error"
    assert "type" in error.details["fields"]


def test_an_unknown_field_is_a_validation_error_naming_it(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned")

    error = refused(memory_ledger, lead, "attempted", colour="red")

    assert error.code == "validation_error"
    assert list(error.details["fields"]) == ["colour"]


def test_a_naive_occurred_at_is_a_validation_error_naming_it(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned")

    error = refused(memory_ledger, lead, "attempted", occurred_at="2026-03-02T08:00:00")

    assert error.code == "validation_error"
    assert list(error.details["fields"]) == ["occurred_at"]


def test_a_lead_without_email_or_phone_is_a_validation_error(memory_ledger: LeadLedger) -> None:
    error = refused(memory_ledger, None, "created", first_name="Nobody")

    assert error.code == "validation_error"


def test_an_unknown_region_is_a_validation_error_naming_it(memory_ledger: LeadLedger) -> None:
    error = refused(memory_ledger, None, "created", email="a@example.com", region="mars")

    assert error.code == "validation_error"
    assert list(error.details["fields"]) == ["region"]


def test_a_non_positive_amount_is_a_validation_error(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned", "qualified", "passed", "accepted")

    error = refused(memory_ledger, lead, "opportunity_created", amount="0")

    assert error.code == "validation_error"
    assert "amount" in error.details["fields"]


# ---------------------------------------------------------------------- owner, routing
def test_passing_a_lead_makes_the_receiver_its_owner(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned", "qualified")

    recorded = when(memory_ledger, lead, "passed", to_owner="ae-7")

    assert recorded.lead.owner == "ae-7"
    assert recorded.lead.status.value == "qualified"


def test_assigning_a_named_owner_opens_a_raw_lead(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger)

    recorded = when(memory_ledger, lead, "assigned", owner="kim")

    assert (recorded.lead.owner, recorded.lead.status.value) == ("kim", "open")


def test_reassigning_changes_the_owner_and_keeps_the_status(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned", "attempted")

    recorded = when(memory_ledger, lead, "assigned", owner="kim")

    assert (recorded.lead.owner, recorded.lead.status.value) == ("kim", "attempt_1")


def test_an_emea_lead_without_an_owner_goes_to_an_emea_bdr(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, region="emea", company="Acme GmbH")

    recorded = when(memory_ledger, lead, "assigned", owner=None)

    assert recorded.lead.owner in ROUTING.team("emea_bdr").members


def test_leads_routed_to_a_team_take_turns_among_its_members(memory_ledger: LeadLedger) -> None:
    leads = [given_lead(memory_ledger, region="emea") for _ in range(3)]

    owners = [when(memory_ledger, lead, "assigned", owner=None).lead.owner for lead in leads]

    first, second, third = owners
    assert first != second
    assert third == first
    assert {first, second} <= set(ROUTING.team("emea_bdr").members)


def test_a_large_account_outside_emea_goes_to_enterprise_sales(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, region="na", company="Globex", employees=20_000)

    recorded = when(memory_ledger, lead, "assigned", owner=None)

    assert recorded.lead.owner in ROUTING.team("enterprise").members


def test_a_large_account_in_emea_goes_to_the_emea_team(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, region="emea", company="Globex", employees=20_000)

    recorded = when(memory_ledger, lead, "assigned", owner=None)

    assert recorded.lead.owner in ROUTING.team("emea_bdr").members


def test_a_small_account_outside_emea_goes_to_the_default_team(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, region="apac", employees=40)

    recorded = when(memory_ledger, lead, "assigned", owner=None)

    assert recorded.lead.owner in ROUTING.team("na_bdr").members
