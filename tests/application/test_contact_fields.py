"""The contact fields are `domain.lead.ContactDetails`: every other listing of them agrees.

`ContactDetails` is the one definition (the `created` activity's contact details); the ledger
and the importer build it from its own field list, `Lead.Created.fold` and `Lead.create` copy
by it. The places that still spell the names out — the `created` input model (each field has
its own validation), the `Created` event (its annotations are the stored schema, which mypy
and the codec read) and the lead's attributes — must list exactly these fields, in this order;
the lead's JSON (docs/json.md) shows all of them but three.
"""

from __future__ import annotations

from dataclasses import fields

from helpers import given_lead

from lifecycle.app import activities, shapes
from lifecycle.domain.lead import ContactDetails, Lead
from lifecycle.domain.values import Region

CONTACT = [field.name for field in fields(ContactDetails)]
NOT_IN_LEAD_JSON = {"employees", "industry", "channel"}  # docs/json.md: on the timeline only


def test_the_created_activity_takes_exactly_the_contact_fields():
    common = {"type", "id", "occurred_at", "actor"}
    assert [name for name in activities.Created.model_fields if name not in common] == CONTACT


def test_the_created_event_records_exactly_the_contact_fields():
    declared = next(
        vars(c)["__annotations__"] for c in Lead.Created.__mro__ if vars(c).get("__annotations__")
    )
    own = [name for name in declared if name not in {"rules_version", "points"}]
    assert own == CONTACT


def test_a_lead_keeps_every_contact_field(memory_ledger):
    contact = {name: f"{name}-value" for name in CONTACT}
    contact.update(email="ann@example.com", phone="+14155550100", region="emea", employees=12)
    lead = memory_ledger.find(given_lead(memory_ledger, **contact))
    kept = {name: getattr(lead, name) for name in CONTACT}
    assert kept == {**contact, "region": Region.EMEA}


def test_the_lead_json_shows_the_contact_fields_but_three():
    shown = [name for name in shapes.Lead.__annotations__ if name in CONTACT]
    assert set(shown) == set(CONTACT) - NOT_IN_LEAD_JSON
