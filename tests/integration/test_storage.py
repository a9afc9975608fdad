"""Storage on both engines: finding leads, deduplication, history, concurrent writers, restarts.

Every test runs on SQLite and on PostgreSQL (the `database_url` fixture). Writer threads each
get their own ledger on the same database, like separate processes would.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from helpers import ManualClock, body, given_lead, types_of, when

from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Outcome, Submission
from lifecycle.domain.errors import Conflict, NotFound
from lifecycle.storage.store import persistence_env

T = TypeVar("T")
Opener = Callable[..., LeadLedger]  # the make_ledger fixture
WRITERS = 8
# One pooled connection per writer ledger: eight ledgers stay far below max_connections.
SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"}


def state(lead: Any) -> dict[str, Any]:
    return {key: value for key, value in vars(lead).items() if key != "_pending_events"}


def all_at_once(work: list[Callable[[], T]]) -> list[T]:
    """Runs each callable on its own thread, released together; re-raises any failure."""
    start = threading.Barrier(len(work))

    def released(job: Callable[[], T]) -> T:
        start.wait(timeout=30)
        return job()

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        futures = [pool.submit(released, job) for job in work]
        return [future.result(timeout=120) for future in futures]


# ------------------------------------------------------------------------------ finding
def test_a_created_lead_is_found_by_its_id(ledger: LeadLedger) -> None:
    lead = given_lead(ledger, email="ada@example.com")

    assert str(ledger.find(lead).id) == lead
    assert ledger.find(lead).email == "ada@example.com"


def test_a_created_lead_is_found_by_its_external_id(ledger: LeadLedger) -> None:
    lead = given_lead(ledger, external_id="crm-42")

    assert str(ledger.find("crm-42").id) == lead


def test_a_lead_is_found_by_its_email_whatever_the_case_and_surrounding_spaces(
    ledger: LeadLedger,
) -> None:
    lead = given_lead(ledger, email="  Ada.Lovelace@Example.COM ")

    assert str(ledger.find("ada.lovelace@example.com").id) == lead
    assert str(ledger.find("  ADA.LOVELACE@example.com\t").id) == lead
    assert ledger.find(lead).email == "ada.lovelace@example.com"


def test_a_lead_is_found_by_an_external_id_that_looks_like_an_email(ledger: LeadLedger) -> None:
    lead = given_lead(ledger, email=None, phone="+1 415 555 0100", external_id="jane@crm.example")

    assert str(ledger.find("jane@crm.example").id) == lead


def test_an_unknown_reference_is_not_found(ledger: LeadLedger) -> None:
    given_lead(ledger, email="ada@example.com")

    with pytest.raises(NotFound):
        ledger.find("grace@example.com")


# ------------------------------------------------------------------------ deduplication
def test_creating_a_known_email_again_returns_the_lead_and_records_a_touch(
    ledger: LeadLedger,
) -> None:
    lead = given_lead(ledger, email="ada@example.com")

    again = ledger.record(
        Submission(None, body("created", email="ADA@example.com ", source="webinar"), "t")
    )

    assert again.deduplicated
    assert str(again.lead.id) == lead
    assert [event.TYPE for event in again.events] == ["touched"]
    assert types_of(ledger, lead) == ["created", "touched"]


def test_creating_a_known_external_id_again_returns_the_lead(ledger: LeadLedger) -> None:
    lead = given_lead(ledger, external_id="crm-42", email="ada@example.com")

    again = ledger.record(
        Submission(None, body("created", external_id="crm-42", phone="+1 415 555 0100"), "t")
    )

    assert again.deduplicated
    assert str(again.lead.id) == lead


def test_an_email_and_an_external_id_of_two_different_leads_are_a_conflict(
    ledger: LeadLedger,
) -> None:
    """Issue 16, item 5: it was merged onto the email's lead without a word."""
    by_email = given_lead(ledger, email="ada@example.com")
    by_id = given_lead(ledger, email="bob@example.com", external_id="crm-7")
    head = ledger.recorder.max_notification_id()
    mixed = body("created", email="ada@example.com", external_id="crm-7")

    with pytest.raises(Conflict) as refused:
        ledger.record(Submission(None, mixed, "t"))

    assert refused.value.details["fields"] == {"email": by_email, "external_id": by_id}
    assert ledger.recorder.max_notification_id() == head  # nothing recorded
    assert types_of(ledger, by_email) == types_of(ledger, by_id) == ["created"]


def test_an_email_and_an_external_id_of_the_same_lead_are_a_repeated_inquiry(
    ledger: LeadLedger,
) -> None:
    lead = given_lead(ledger, email="ada@example.com", external_id="crm-7")

    again = ledger.record(
        Submission(None, body("created", email="ADA@example.com", external_id="crm-7"), "t")
    )

    assert again.deduplicated and str(again.lead.id) == lead


def test_a_new_lead_is_not_deduplicated(ledger: LeadLedger) -> None:
    recorded = ledger.record(Submission(None, body("created", email="ada@example.com"), "t"))

    assert not recorded.deduplicated


# ------------------------------------------------------------------------------ history
def test_a_lead_as_of_a_past_time_is_the_lead_as_it_was_then(
    ledger: LeadLedger, clock: ManualClock
) -> None:
    created_at = clock.now()
    lead = given_lead(ledger)
    clock.advance(hours=1)
    when(ledger, lead, "assigned")
    clock.advance(days=2)
    when(ledger, lead, "attempted")

    assert ledger.lead_as_of(lead, created_at + timedelta(minutes=30)).status.value == "raw"
    assert ledger.lead_as_of(lead, created_at + timedelta(days=1)).status.value == "open"
    assert ledger.lead_as_of(lead, clock.now()).status.value == "attempt_1"
    assert ledger.lead_as_of(lead, clock.now()).attempts == 1


def test_a_lead_as_of_before_its_creation_is_not_found(
    ledger: LeadLedger, clock: ManualClock
) -> None:
    lead = given_lead(ledger)

    with pytest.raises(NotFound):
        ledger.lead_as_of(lead, clock.now() - timedelta(seconds=1))


def test_a_late_touch_does_not_change_the_status_seen_as_of_before_the_next_change(
    ledger: LeadLedger, clock: ManualClock
) -> None:
    created_at = clock.now()
    lead = given_lead(ledger)
    clock.advance(hours=2)
    when(ledger, lead, "assigned")
    when(ledger, lead, "touched", occurred_at=(created_at + timedelta(hours=1)).isoformat())

    as_of = ledger.lead_as_of(lead, created_at + timedelta(minutes=90))

    assert (as_of.status.value, as_of.owner) == ("raw", None)


def test_a_late_touch_does_not_change_the_stage_seen_as_of_before_the_stage_changed(
    ledger: LeadLedger, clock: ManualClock
) -> None:
    created_at = clock.now()
    lead = given_lead(ledger, "assigned", "qualified", "passed")
    clock.advance(hours=2)
    when(ledger, lead, "accepted")
    when(ledger, lead, "touched", occurred_at=(created_at + timedelta(hours=1)).isoformat())

    as_of = ledger.lead_as_of(lead, created_at + timedelta(minutes=90))

    assert as_of.stage.value == "lead"


def test_the_timeline_is_numbered_from_1_without_gaps(
    ledger: LeadLedger, clock: ManualClock
) -> None:
    lead = given_lead(ledger, "assigned", "attempted", "touched", "responded")
    clock.advance(days=1)
    when(ledger, lead, "qualified")

    events = ledger.lead_events(ledger.find(lead).id)

    assert [event.originator_version for event in events] == list(range(1, len(events) + 1))
    assert [event.TYPE for event in events] == [
        "created", "assigned", "attempted", "touched", "responded", "qualified",
    ]  # fmt: skip


# ------------------------------------------------------------------ concurrent writers
def test_concurrent_writers_on_one_lead_lose_no_event(
    ledger: LeadLedger, database_url: str, make_ledger: Opener
) -> None:
    lead = given_lead(ledger, "assigned")
    writers = [make_ledger(database_url, **SMALL_POOL) for _ in range(WRITERS)]

    def writes(writer: LeadLedger) -> Callable[[], list[Outcome]]:
        bodies = [body("touched"), body("attempted"), body("touched"), body("attempted")]
        return lambda: [writer.record(Submission(lead, each, "writer")) for each in bodies]

    all_at_once([writes(writer) for writer in writers])

    final = ledger.find(lead)
    events = ledger.lead_events(final.id)
    counts = Counter(event.TYPE for event in events)
    assert (counts["touched"], counts["attempted"]) == (2 * WRITERS, 2 * WRITERS)
    assert [event.originator_version for event in events] == list(range(1, len(events) + 1))
    assert final.attempts == 2 * WRITERS
    assert [event.attempt for event in events if event.TYPE == "attempted"] == list(
        range(1, 2 * WRITERS + 1)
    )
    assert final.status.value == "attempt_4"


def test_concurrent_creates_of_one_email_make_one_lead(
    ledger: LeadLedger, database_url: str, make_ledger: Opener
) -> None:
    writers = [make_ledger(database_url, **SMALL_POOL) for _ in range(WRITERS)]

    def create(writer: LeadLedger) -> Callable[[], Outcome]:
        return lambda: writer.record(
            Submission(None, body("created", email="rush@example.com"), "writer")
        )

    results = all_at_once([create(writer) for writer in writers])

    assert len({result.lead.id for result in results}) == 1
    assert sorted(result.deduplicated for result in results) == [False] + [True] * (WRITERS - 1)
    counts = Counter(types_of(ledger, "rush@example.com"))
    assert (counts["created"], counts["touched"]) == (1, WRITERS - 1)  # each inquiry a touch


# ------------------------------------------------------------------------------ restart
def test_a_restarted_ledger_sees_every_lead_and_event(
    ledger: LeadLedger, database_url: str, clock: ManualClock, make_ledger: Opener
) -> None:
    first = given_lead(ledger, "assigned", "attempted", email="ada@example.com")
    second = given_lead(ledger, "assigned", "qualified", "passed", external_id="crm-7")
    clock.advance(hours=3)
    when(ledger, second, "accepted")
    before = {lead: state(ledger.find(lead)) for lead in (first, second)}
    ledger.close()

    restarted = make_ledger(database_url)

    assert {lead: state(restarted.find(lead)) for lead in (first, second)} == before
    assert str(restarted.find("ADA@example.com").id) == first
    assert str(restarted.find("crm-7").id) == second
    assert types_of(restarted, second)[-1] == "accepted"
    assert restarted.record(
        Submission(None, body("created", email="ada@example.com"), "t")
    ).deduplicated


def test_the_persistence_settings_name_the_engine_of_the_url(database_url: str) -> None:
    engine = database_url.split(":", 1)[0]

    module = persistence_env(database_url)["PERSISTENCE_MODULE"]

    assert (
        module == {"sqlite": "eventsourcing.sqlite", "postgresql": "eventsourcing.postgres"}[engine]
    )
