"""Phones are kept in E.164 and a phone-only lead is found again by its number
(docs/activities.md, Rules in detail: Deduplication): through the ledger and import, on both
engines."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import ManualClock, given_lead, types_of

from lifecycle.app.importer import run_import
from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.domain.errors import Conflict, ValidationFailed
from lifecycle.domain.rules import Rulebook
from lifecycle.storage.store import persistence_env


def record(ledger: LeadLedger, body: dict[str, Any], ref: str | None = None) -> Any:
    return ledger.record(Submission(ref, body, "test"))


def phone_only(phone: str, **fields: Any) -> dict[str, Any]:
    return {"type": "created", "phone": phone, **fields}


def jsonl(*lines: object) -> list[bytes]:
    return [json.dumps(line).encode() for line in lines]


def test_two_spellings_of_one_number_are_one_phone_only_lead(ledger: LeadLedger) -> None:
    first = record(ledger, phone_only("(415) 555-0100", source="ads"))
    again = record(ledger, phone_only("+1 415 555 0100", source="webinar"))

    assert first.lead.phone == "+14155550100"
    assert (again.lead.id, again.deduplicated) == (first.lead.id, True)
    assert types_of(ledger, str(first.lead.id)) == ["created", "touched"]
    assert ledger.find(str(first.lead.id)).phone == "+14155550100"


def test_an_extension_is_another_phone_only_lead(ledger: LeadLedger) -> None:
    desk = record(ledger, phone_only("(415) 555-0100 x12"))
    switchboard = record(ledger, phone_only("(415) 555-0100"))

    assert desk.lead.phone == "+14155550100;ext=12"
    assert switchboard.lead.id != desk.lead.id and not switchboard.deduplicated


def test_leads_with_an_email_may_share_a_phone(ledger: LeadLedger) -> None:
    ann = record(ledger, {"type": "created", "email": "ann@example.com", "phone": "415 555 0100"})
    bo = record(ledger, {"type": "created", "email": "bo@example.com", "phone": "+14155550100"})
    only = record(ledger, phone_only("(415) 555-0100"))
    again = record(ledger, phone_only("+1.415.555.0100"))

    # emailed leads deduplicate by email only; the phone-only lead is a third, found again
    assert len({ann.lead.id, bo.lead.id, only.lead.id}) == 3
    assert not (bo.deduplicated or only.deduplicated)
    assert (again.lead.id, again.deduplicated) == (only.lead.id, True)
    assert ann.lead.phone == bo.lead.phone == only.lead.phone == "+14155550100"


def test_a_lead_with_an_external_id_is_not_found_by_its_phone(ledger: LeadLedger) -> None:
    crm = record(ledger, {"type": "created", "external_id": "crm-1", "phone": "4155550100"})
    only = record(ledger, phone_only("(415) 555-0100"))

    assert only.lead.id != crm.lead.id and not only.deduplicated


def test_an_invalid_phone_is_a_validation_error_and_records_nothing(ledger: LeadLedger) -> None:
    with pytest.raises(ValidationFailed) as caught:
        record(ledger, phone_only("555-0100"))  # seven digits: no US number

    assert caught.value.details["fields"] == {
        "phone": "not a valid phone number in region US (give the country code, like +44…)"
    }
    later = record(ledger, phone_only("(415) 555-0100"))
    assert (later.deduplicated, later.lead.version) == (False, 1)  # no lead, no key was left


def test_a_number_without_country_code_is_read_in_the_leads_country(ledger: LeadLedger) -> None:
    berlin = record(ledger, phone_only("030 123456", country="de"))
    again = record(ledger, phone_only("+49 30 123456"))

    assert berlin.lead.phone == "+4930123456"
    assert again.lead.id == berlin.lead.id


def test_the_rulebook_names_the_default_region(sqlite_url: str, clock: ManualClock) -> None:
    rules = Rulebook(phone_region="GB")
    ledger = LeadLedger(persistence_env(sqlite_url), rules=rules, clock=clock.now)
    try:
        london = record(ledger, phone_only("020 7946 0958"))
        with pytest.raises(ValidationFailed):
            record(ledger, phone_only("(415) 555-0100"))  # not a British number
    finally:
        ledger.close()

    assert london.lead.phone == "+442079460958"


def test_a_corrected_phone_is_normalized_and_claimed_for_a_phone_only_lead(
    ledger: LeadLedger,
) -> None:
    lead = given_lead(ledger, "assigned", "disqualified", email=None, phone="+1 415 555 0100")
    reopened = {"type": "reopened", "phone": "(415) 555-0199"}

    record(ledger, reopened, lead)
    found = record(ledger, phone_only("+1 415 555 0199"))

    assert ledger.find(lead).phone == "+14155550199"
    assert (str(found.lead.id), found.deduplicated) == (lead, True)


def test_a_corrected_phone_of_another_phone_only_lead_is_a_conflict(ledger: LeadLedger) -> None:
    other = given_lead(ledger, email=None, phone="+1 415 555 0199")
    lead = given_lead(ledger, "assigned", "disqualified", email=None, phone="+1 415 555 0100")

    with pytest.raises(Conflict) as caught:
        record(ledger, {"type": "reopened", "phone": "(415) 555-0199"}, lead)

    assert caught.value.details == {"field": "phone"}
    assert ledger.find(lead).status.value == "unqualified"  # nothing recorded
    assert other != lead


def test_an_emailed_lead_may_take_a_phone_another_lead_has(ledger: LeadLedger) -> None:
    given_lead(ledger, email=None, phone="+1 415 555 0199")
    lead = given_lead(ledger, "assigned", "disqualified", email="ann@example.com")

    record(ledger, {"type": "reopened", "phone": "(415) 555-0199"}, lead)

    assert ledger.find(lead).phone == "+14155550199"


def test_an_invalid_corrected_phone_is_a_validation_error(ledger: LeadLedger) -> None:
    lead = given_lead(ledger, "assigned", "disqualified")

    with pytest.raises(ValidationFailed) as caught:
        record(ledger, {"type": "reopened", "phone": "+1 555 0100"}, lead)

    assert caught.value.details["fields"] == {"phone": "not a valid phone number"}


@pytest.mark.parametrize("chunk_size", [1000, 1])
def test_an_import_finds_a_phone_only_lead_by_any_spelling(
    ledger: LeadLedger, chunk_size: int
) -> None:
    lines = jsonl(
        phone_only("(415) 555-0100", source="ads"),
        phone_only("+1 415 555 0100", source="webinar"),
        phone_only("1-415-555-0100 ext. 3"),
        phone_only("555-0100"),
        {"type": "created", "email": "ann@example.com", "phone": "415 555 0100"},
    )

    report = run_import(ledger, lines, chunk_size=chunk_size)

    assert (report.accepted, report.created, report.deduplicated) == (4, 3, 1)
    assert [(r.line, r.error["code"], list(r.error["fields"])) for r in report.rejected] == [
        (4, "validation_error", ["phone"])
    ]
    again = run_import(ledger, jsonl(phone_only("4155550100")), chunk_size=chunk_size)
    assert (again.created, again.deduplicated) == (0, 1)


def test_another_process_finds_the_phone_only_lead(database_url: str, make_ledger: Any) -> None:
    one, two = make_ledger(database_url), make_ledger(database_url)
    first = record(one, phone_only("(415) 555-0100"))
    # the second ledger (another process) reads the key the first one stored
    second = record(two, phone_only("+1 415 555 0100"))

    assert (second.lead.id, second.deduplicated) == (first.lead.id, True)


def test_a_phone_only_import_run_again_records_nothing_twice(ledger: LeadLedger) -> None:
    lines = jsonl(
        phone_only("(415) 555-0100", occurred_at="2026-01-05T10:00:00Z"),
        phone_only("+1 415 555 0100", source="webinar", occurred_at="2026-01-06T10:00:00Z"),
    )
    first = run_import(ledger, lines)

    again = run_import(ledger, lines)

    assert (first.created, first.deduplicated, first.duplicates) == (1, 1, 0)
    assert (again.accepted, again.duplicates, again.events) == (0, 2, 0)
