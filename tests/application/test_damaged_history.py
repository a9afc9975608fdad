"""The ledger's reads of a damaged history (`application.intact`): each kind of damage is one
`integrity_error` naming the record and the seq."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from helpers import damage, given_lead
from sqlalchemy import Engine, text

from lifecycle.app.ledger import LeadLedger
from lifecycle.domain.errors import IntegrityFailed
from lifecycle.storage.db import read_model_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = read_model_engine(database_url)
    yield engine
    engine.dispose()


def overwrite(ledger: LeadLedger, engine: Engine, lead: str, seq: int, **columns: object) -> None:
    """Sets columns of one stored event of `lead` with plain SQL."""
    table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    key = lead if engine.dialect.name == "postgresql" else lead.replace("-", "")
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    where = "originator_id = :id AND originator_version = :seq"
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET {assignments} WHERE {where}"),
                     {**columns, "id": key, "seq": seq})  # fmt: skip


def refusal(ledger: LeadLedger, ref: str) -> IntegrityFailed:
    with pytest.raises(IntegrityFailed) as caught:
        ledger.find(ref)
    return caught.value


def test_a_deleted_first_event_is_a_missing_seq_1(
    ledger: LeadLedger, make_ledger: Callable[..., LeadLedger], database_url: str, engine: Engine
):
    lead = given_lead(ledger, "assigned", "touched")
    damage(engine, ledger.recorder.events_table_name, lead, 1, "deleted")  # type: ignore[attr-defined]

    error = refusal(make_ledger(database_url), lead)

    assert error.details == {"id": lead, "seq": 1}
    assert f"lead {lead}: its stored event seq 1 is missing (seq 2 is its first)" in error.message


def test_a_topic_that_names_no_class_is_an_event_that_no_longer_decodes(
    ledger: LeadLedger, make_ledger: Callable[..., LeadLedger], database_url: str, engine: Engine
):
    lead = given_lead(ledger, "assigned", "touched")
    overwrite(ledger, engine, lead, 2, topic="lifecycle:Lead.Gone")

    error = refusal(make_ledger(database_url), lead)

    assert error.details == {"id": lead, "seq": 2}
    assert "seq 2 (lifecycle:Lead.Gone) no longer decodes (TopicError)" in error.message


def test_a_lead_key_that_no_longer_decodes_names_the_key_not_a_lead(
    ledger: LeadLedger, make_ledger: Callable[..., LeadLedger], database_url: str, engine: Engine
):
    given_lead(ledger, email="keyed@example.com")
    table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {table} SET state = :s WHERE topic = 'lifecycle:LeadKey.Claimed'"),
            {"s": b"\xff"},
        )

    error = refusal(make_ledger(database_url), "keyed@example.com")

    assert error.message.startswith("lead key ")
    assert error.code == "integrity_error"


def test_a_state_edited_into_json_that_lacks_the_event_s_fields_no_longer_decodes(
    ledger: LeadLedger, make_ledger: Callable[..., LeadLedger], database_url: str, engine: Engine
):
    lead = given_lead(ledger, "assigned", "touched")
    overwrite(ledger, engine, lead, 2, state=b'{"timestamp": "2026-03-02T09:00:00+00:00"}')

    error = refusal(make_ledger(database_url), lead)

    assert error.details == {"id": lead, "seq": 2}
    assert "seq 2 (lifecycle:Lead.Assigned) no longer decodes (ValueError)" in error.message


def test_a_repaired_history_reads_again_in_the_same_process(
    ledger: LeadLedger, make_ledger: Callable[..., LeadLedger], database_url: str, engine: Engine
):
    lead = given_lead(ledger, "assigned", "touched")
    table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    key = lead if engine.dialect.name == "postgresql" else lead.replace("-", "")
    with engine.connect() as conn:
        state = conn.execute(
            text(f"SELECT state FROM {table} WHERE originator_id = :id AND originator_version = 2"),
            {"id": key},
        ).scalar_one()
    overwrite(ledger, engine, lead, 2, state=b"\xff")
    reader = make_ledger(database_url)
    refusal(reader, lead)

    overwrite(ledger, engine, lead, 2, state=bytes(state))

    assert reader.find(lead).version == 3
