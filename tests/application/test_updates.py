"""`updated` changes a lead's properties (docs/activities.md, Updates): old and new values in the
timeline, the fit re-scored, a new email claimed atomically, repeated inquiries recorded as
updates, and `--as-of` showing the old values; on both engines."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from lifecycle.app.importer import run_import
from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.domain.errors import LifecycleError

T0 = "2026-01-05T10:00:00Z"
T1 = "2026-01-06T10:00:00Z"
T2 = "2026-01-07T10:00:00Z"


def record(ledger: LeadLedger, ref: str | None, body: dict[str, Any]) -> Any:
    return ledger.record(Submission(ref, body, "test"))


def refusal(ledger: LeadLedger, ref: str | None, body: dict[str, Any]) -> LifecycleError:
    with pytest.raises(LifecycleError) as caught:
        record(ledger, ref, body)
    return caught.value


def types(ledger: LeadLedger, ref: str) -> list[str]:
    return [event.TYPE for event in ledger.lead_events(ledger.find(ref).id)]


def new_lead(ledger: LeadLedger, email: str = "u@example.com", **fields: Any) -> str:
    body = {"type": "created", "email": email, "occurred_at": T0, **fields}
    return str(record(ledger, None, body).lead.id)


def test_an_update_records_old_and_new_values_of_what_changed(ledger: LeadLedger) -> None:
    lead_id = new_lead(ledger, title="Intern", company="Acme", region="na")

    outcome = record(ledger, lead_id, {"type": "updated", "title": "Analyst", "company": "Acme",
                                       "region": "emea", "phone": "+44 20 7946 0000",
                                       "occurred_at": T1})  # fmt: skip

    (event,) = outcome.events
    assert event.TYPE == "updated"
    # `company` was given with the value it had: not a change
    assert event.old == {"title": "Intern", "region": "na", "phone": None}
    assert event.new == {"title": "Analyst", "region": "emea", "phone": "+442079460000"}
    lead = ledger.find(lead_id)
    assert (lead.title, lead.region.value, lead.phone, lead.status.value) == (
        "Analyst", "emea", "+442079460000", "raw",
    )  # fmt: skip


def test_the_fit_is_rescored_and_an_mql_can_follow(ledger: LeadLedger) -> None:
    # fit 0 + the inquiry's form submission 5 = 5
    lead_id = new_lead(ledger, title="Intern", employees=10)
    assert ledger.find(lead_id).score == 5

    outcome = record(ledger, lead_id, {"type": "updated", "title": "VP Sales",
                                       "employees": 1500, "occurred_at": T1})  # fmt: skip

    # vp 10 + 1000+ employees 10 = 20 more: 25 crosses the threshold of 20
    assert [event.TYPE for event in outcome.events] == ["updated", "scored"]
    assert outcome.events[0].points == 20
    lead = ledger.find(lead_id)
    assert (lead.score, lead.stage.value) == (25, "mql")

    lower = record(ledger, lead_id, {"type": "updated", "title": "Manager", "occurred_at": T2})
    assert lower.events[0].points == 4 - 10
    lead = ledger.find(lead_id)
    assert (lead.score, lead.stage.value) == (19, "mql")  # a stage never moves back


def test_a_new_email_is_claimed_and_the_old_one_still_finds_the_lead(ledger: LeadLedger) -> None:
    lead_id = new_lead(ledger, "old@example.com")

    record(ledger, lead_id, {"type": "updated", "email": "New@Example.com", "occurred_at": T1})

    assert ledger.find("new@example.com").email == "new@example.com"
    assert str(ledger.find("new@example.com").id) == lead_id
    assert str(ledger.find("old@example.com").id) == lead_id
    again = record(ledger, None, {"type": "created", "email": "new@example.com"})
    assert again.deduplicated and str(again.lead.id) == lead_id


def test_an_email_of_another_lead_is_a_conflict_and_records_nothing(ledger: LeadLedger) -> None:
    new_lead(ledger, "taken@example.com")
    lead_id = new_lead(ledger, "mine@example.com")

    error = refusal(ledger, lead_id, {"type": "updated", "email": "taken@example.com",
                                      "title": "CTO", "occurred_at": T1})  # fmt: skip

    assert (error.code, error.details["field"]) == ("conflict", "email")
    assert types(ledger, lead_id) == ["created"]
    assert ledger.find(lead_id).title is None


def test_null_clears_but_a_lead_keeps_an_email_or_a_phone(ledger: LeadLedger) -> None:
    lead_id = new_lead(ledger, title="CTO", phone="+1 415 555 0100")

    record(ledger, lead_id, {"type": "updated", "title": None, "occurred_at": T1})
    assert ledger.find(lead_id).title is None

    record(ledger, lead_id, {"type": "updated", "email": None, "occurred_at": T1})
    lead = ledger.find(lead_id)
    assert (lead.email, lead.phone) == (None, "+14155550100")

    error = refusal(ledger, lead_id, {"type": "updated", "phone": None, "occurred_at": T2})
    assert error.code == "validation_error"
    assert ledger.find(lead_id).phone == "+14155550100"


def test_a_phone_only_lead_claims_its_new_number(ledger: LeadLedger) -> None:
    """Phone-only leads deduplicate on their number (docs/activities.md, Deduplication)."""
    other = str(record(ledger, None, {"type": "created", "phone": "+1 212 555 0199"}).lead.id)
    lead_id = str(record(ledger, None, {"type": "created", "phone": "(415) 555-0100"}).lead.id)

    record(ledger, lead_id, {"type": "updated", "phone": "+1 415-555-0111"})
    again = record(ledger, None, {"type": "created", "phone": "415 555 0111"})
    error = refusal(ledger, lead_id, {"type": "updated", "phone": "212-555-0199"})
    invalid = refusal(ledger, lead_id, {"type": "updated", "phone": "not a phone"})

    assert ledger.find(lead_id).phone == "+14155550111"
    assert again.deduplicated and str(again.lead.id) == lead_id
    assert (error.code, error.details["field"]) == ("conflict", "phone")
    assert (invalid.code, list(invalid.details["fields"])) == ("validation_error", ["phone"])
    assert ledger.find(other).phone == "+12125550199"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "updated"}, "email"),
        ({"type": "updated", "source": "ads"}, "source"),
        ({"type": "updated", "external_id": "x-1"}, "external_id"),
        ({"type": "updated", "employees": -1}, "employees"),
        ({"type": "updated", "region": "mars"}, "region"),
        ({"type": "updated", "email": "not an email"}, "email"),
    ],
)
def test_invalid_updates_are_validation_errors_naming_the_field(
    ledger: LeadLedger, body: dict[str, Any], field: str
) -> None:
    lead_id = new_lead(ledger)

    error = refusal(ledger, lead_id, body)

    assert error.code == "validation_error"
    assert field in error.details["fields"]
    assert types(ledger, lead_id) == ["created"]


def test_an_unchanged_update_records_nothing(ledger: LeadLedger) -> None:
    lead_id = new_lead(ledger, title="CTO")

    outcome = record(ledger, lead_id, {"type": "updated", "title": "CTO"})

    assert outcome.events == []
    assert types(ledger, lead_id) == ["created"]


def test_updates_are_in_order_among_themselves_not_with_status_changes(
    ledger: LeadLedger,
) -> None:
    lead_id = new_lead(ledger)
    record(ledger, lead_id, {"type": "assigned", "owner": "ana", "occurred_at": T2})

    # older than the assignment: still recorded (updates are not ordered with status changes)
    record(ledger, lead_id, {"type": "updated", "title": "CFO", "occurred_at": T1})
    error = refusal(ledger, lead_id, {"type": "updated", "title": "CEO", "occurred_at": T0})

    assert error.code == "out_of_order"
    assert ledger.find(lead_id).title == "CFO"


def test_bad_data_leads_cannot_be_updated(ledger: LeadLedger) -> None:
    lead_id = new_lead(ledger)
    record(ledger, lead_id, {"type": "bad_data", "channel": "email", "occurred_at": T1})

    error = refusal(ledger, lead_id, {"type": "updated", "title": "CTO", "occurred_at": T2})

    assert error.code == "transition_not_allowed"
    assert "updated" not in error.details["allowed"]


def test_a_repeated_inquiry_with_new_values_records_a_touch_and_an_update(
    ledger: LeadLedger,
) -> None:
    lead_id = new_lead(ledger, title="Intern", company="Acme")

    same = record(ledger, None, {"type": "created", "email": "u@example.com", "title": "Intern",
                                 "occurred_at": T1})  # fmt: skip
    changed = record(ledger, None, {"type": "created", "email": "U@example.com",
                                    "title": "Analyst", "source": "webinar",
                                    "occurred_at": T2})  # fmt: skip

    assert [event.TYPE for event in same.events] == ["touched"]
    assert [event.TYPE for event in changed.events] == ["updated", "touched"]
    # fields the inquiry leaves out (company) change nothing
    assert (changed.events[0].old, changed.events[0].new) == (
        {"title": "Intern"}, {"title": "Analyst"},
    )  # fmt: skip
    lead = ledger.find(lead_id)
    assert (lead.title, lead.company, lead.source) == ("Analyst", "Acme", None)


def test_a_repeated_inquiry_when_an_update_is_not_allowed_is_a_touch_only(
    ledger: LeadLedger,
) -> None:
    lead_id = new_lead(ledger, title="Intern")
    record(ledger, lead_id, {"type": "updated", "title": "Analyst", "occurred_at": T2})

    late = record(ledger, None, {"type": "created", "email": "u@example.com", "title": "CEO",
                                 "occurred_at": T1})  # fmt: skip

    assert [event.TYPE for event in late.events] == ["touched"]
    assert ledger.find(lead_id).title == "Analyst"


def test_as_of_shows_the_values_before_the_update(ledger: LeadLedger) -> None:
    lead_id = new_lead(ledger, title="Intern", region="na")
    record(ledger, lead_id, {"type": "updated", "title": "CTO", "region": "apac",
                             "occurred_at": T2})  # fmt: skip

    before = ledger.lead_as_of(lead_id, datetime.fromisoformat(T1))
    after = ledger.lead_as_of(lead_id, datetime.fromisoformat(T2))

    assert (before.title, before.region.value) == ("Intern", "na")
    assert (after.title, after.region.value) == ("CTO", "apac")


def test_an_import_line_refused_after_naming_a_new_email_claims_nothing(
    ledger: LeadLedger,
) -> None:
    """Regression: `reopened` claimed its corrected email before the lead refused it (a raw
    lead cannot be reopened), and an import saved the claim with the chunk, so a later lead
    with that email was merged onto the wrong lead. `updated` claims the same way."""
    raw = [
        {"type": "created", "email": "first@example.com", "occurred_at": T0},
        # the line's reference is `lead_id`: its `email` is the corrected address
        {"type": "reopened", "lead_id": "first@example.com", "email": "fixed@example.com"},
        # refused: older than the lead's creation
        {"type": "updated", "lead_id": "first@example.com", "email": "other@example.com",
         "occurred_at": "2026-01-01T00:00:00Z"},
        {"type": "created", "email": "fixed@example.com"},
        {"type": "created", "email": "other@example.com"},
    ]  # fmt: skip
    raw = [json.dumps(line).encode() for line in raw]

    report = run_import(ledger, raw)

    codes = [rejection.error["code"] for rejection in report.rejected]
    assert codes == ["transition_not_allowed", "out_of_order"]
    assert report.created == 3
    assert str(ledger.find("fixed@example.com").id) != str(ledger.find("first@example.com").id)
    assert str(ledger.find("other@example.com").id) != str(ledger.find("first@example.com").id)
