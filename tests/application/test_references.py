from uuid import uuid4

from helpers import given_lead

from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission


def test_an_external_id_shaped_like_a_uuid_finds_its_lead(memory_ledger: LeadLedger) -> None:
    external_id = str(uuid4())
    lead = given_lead(memory_ledger, external_id=external_id)

    assert str(memory_ledger.find(external_id).id) == lead


def test_external_ids_are_stored_trimmed(memory_ledger: LeadLedger) -> None:
    given_lead(memory_ledger, external_id="  crm-9 ")

    assert memory_ledger.find("crm-9").external_id == "crm-9"


def test_a_corrected_phone_is_stored_in_e164(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger, "assigned", "disqualified")

    body = {"type": "reopened", "phone": "  (415) 555-0123  "}
    memory_ledger.record(Submission(lead, body, "test"))

    assert memory_ledger.find(lead).phone == "+14155550123"
