"""`Idempotency-Key`: a retry gets the first answer and records nothing new — also in a race."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from api_support import new_lead
from conftest import Api, Headers
from helpers import ManualClock, body, created

from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Outcome, Submission
from lifecycle.app.views import lead_json, timeline_entry
from lifecycle.domain.errors import ValidationFailed


def keyed(headers: Headers, key: str) -> Headers:
    return headers | {"Idempotency-Key": key}


def test_a_retried_create_returns_the_first_answer_and_records_nothing(api: Api, writer: Headers):
    payload = created(email="once@example.com")
    first = api.client.post("/v1/leads", json=payload, headers=keyed(writer, "form-1"))
    head = api.head()

    again = api.client.post("/v1/leads", json=payload, headers=keyed(writer, "form-1"))

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.head() == head


def test_a_retried_activity_returns_the_same_lead_and_events_even_after_later_changes(
    api: Api, writer: Headers
):
    lead = new_lead(api.client, writer)
    url = f"/v1/leads/{lead['id']}/activities"
    first = api.client.post(url, json=body("assigned"), headers=keyed(writer, "a-1"))
    api.client.post(url, json=body("attempted"), headers=writer)
    head = api.head()

    again = api.client.post(url, json=body("assigned"), headers=keyed(writer, "a-1"))

    assert again.status_code == 200
    assert again.content == first.content
    assert again.json()["lead"]["version"] == 2
    assert api.head() == head


def test_the_same_key_with_another_body_is_422(api: Api, writer: Headers):
    lead = new_lead(api.client, writer)
    url = f"/v1/leads/{lead['id']}/activities"
    api.client.post(url, json=body("assigned"), headers=keyed(writer, "k"))
    head = api.head()

    other = api.client.post(url, json=body("assigned", owner="kim"), headers=keyed(writer, "k"))

    assert (other.status_code, other.json()["error"]["code"]) == (422, "validation_error")
    assert api.head() == head


def test_the_same_key_on_another_route_is_422(api: Api, writer: Headers):
    lead = new_lead(api.client, writer)
    api.client.post("/v1/leads", json=created(), headers=keyed(writer, "k"))

    other = api.client.post(
        f"/v1/leads/{lead['id']}/activities", json=body("assigned"), headers=keyed(writer, "k")
    )

    assert other.status_code == 422


def test_keys_belong_to_their_caller(api: Api, writer: Headers):
    lead = new_lead(api.client, writer)
    url = f"/v1/leads/{lead['id']}/activities"
    dialer = api.bearer("events:write", name="dialer")

    mine = api.client.post(url, json=body("touched"), headers=keyed(writer, "same"))
    theirs = api.client.post(url, json=body("touched"), headers=keyed(dialer, "same"))

    assert "Idempotent-Replayed" not in theirs.headers
    assert [e["seq"] for e in theirs.json()["events"]] != [e["seq"] for e in mine.json()["events"]]


def test_a_key_is_forgotten_after_24_hours(api: Api, writer: Headers, clock: ManualClock):
    lead = new_lead(api.client, writer)
    url = f"/v1/leads/{lead['id']}/activities"
    first = api.client.post(url, json=body("touched"), headers=keyed(writer, "daily"))
    clock.advance(hours=23, minutes=59)
    replay = api.client.post(url, json=body("touched"), headers=keyed(writer, "daily"))
    clock.advance(minutes=2)

    fresh = api.client.post(url, json=body("touched"), headers=keyed(writer, "daily"))
    after = api.client.post(url, json=body("touched"), headers=keyed(writer, "daily"))

    assert replay.content == first.content
    assert "Idempotent-Replayed" not in fresh.headers
    assert fresh.json()["lead"]["version"] == first.json()["lead"]["version"] + 1
    assert after.content == fresh.content


def test_a_rejected_request_is_not_remembered(api: Api, writer: Headers):
    lead = new_lead(api.client, writer)
    url = f"/v1/leads/{lead['id']}/activities"
    refused = api.client.post(url, json=body("attempted"), headers=keyed(writer, "early"))
    api.client.post(url, json=body("assigned"), headers=writer)

    retried = api.client.post(url, json=body("attempted"), headers=keyed(writer, "early"))

    assert (refused.status_code, retried.status_code) == (409, 200)


# ------------------------------------------------------------------ races and crashes
def race(workers: int, work: Callable[[int], Any]) -> list[Any]:
    """Runs `work(i)` in `workers` threads released together; returns results or errors."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # the test inspects what each racer got
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def answer_of(outcome: Outcome) -> tuple[Any, ...]:
    return lead_json(outcome.lead), [timeline_entry(e) for e in outcome.events]


@pytest.mark.parametrize("activity", ["created", "touched"])
def test_racing_requests_with_one_key_record_once_and_get_one_answer(
    database_url: str, make_ledger: Callable[..., LeadLedger], activity: str
):
    ledgers = [make_ledger(database_url) for _ in range(4)]
    lead_id = str(ledgers[0].record(Submission(None, created(), "setup")).lead.id)
    if activity == "created":
        submission = Submission(None, created(email="race@example.com"), "forms", "r1", "leads")
    else:
        route = f"leads/{lead_id}/activities"
        submission = Submission(lead_id, body("touched"), "forms", "r1", route)
    head = ledgers[0].recorder.max_notification_id()

    outcomes = race(4, lambda i: ledgers[i].record(submission))

    assert all(isinstance(outcome, Outcome) for outcome in outcomes), outcomes
    assert sum(not outcome.replayed for outcome in outcomes) == 1
    assert len({repr(answer_of(outcome)) for outcome in outcomes}) == 1
    recorded = ledgers[0].recorder.select_notifications(
        start=head or 0, limit=100, inclusive_of_start=False
    )
    lead_events = [n for n in recorded if n.topic.startswith("lifecycle:Lead.")]
    assert len(lead_events) == len(outcomes[0].events)


def test_a_crash_before_the_write_leaves_nothing_and_the_retry_records_once(
    memory_ledger: LeadLedger, monkeypatch: pytest.MonkeyPatch
):
    lead_id = str(memory_ledger.record(Submission(None, created(), "setup")).lead.id)
    submission = Submission(lead_id, body("touched"), "forms", "crash-1", "x")
    head = memory_ledger.recorder.max_notification_id()

    def power_cut(*_aggregates: Any) -> None:
        raise OSError("the process died before its write")

    with monkeypatch.context() as patch:
        patch.setattr(memory_ledger, "save", power_cut)
        with pytest.raises(OSError):
            memory_ledger.record(submission)
    assert memory_ledger.recorder.max_notification_id() == head

    first = memory_ledger.record(submission)
    retry = memory_ledger.record(submission)

    assert (first.replayed, retry.replayed) == (False, True)
    assert answer_of(first) == answer_of(retry)


def test_a_key_reused_for_another_body_is_refused_by_the_application(
    memory_ledger: LeadLedger,
):
    lead_id = str(memory_ledger.record(Submission(None, created(), "setup")).lead.id)
    memory_ledger.record(Submission(lead_id, body("touched"), "forms", "k", "x"))

    with pytest.raises(ValidationFailed):
        memory_ledger.record(Submission(lead_id, body("opted_in"), "forms", "k", "x"))
