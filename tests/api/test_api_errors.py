"""Bad input gets its documented status and error JSON, never a 500, and records nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import drive, new_lead
from conftest import Api, Headers
from fastapi.testclient import TestClient
from helpers import body, created

from lifecycle.storage import outage

MB = 1024 * 1024


@pytest.fixture
def lead(api: Api, admin: Headers) -> dict[str, Any]:
    """An open lead (created and assigned)."""
    lead = new_lead(api.client, admin, email="err@example.com")
    drive(api.client, admin, lead["id"], "assigned")
    return lead


def activity(api: Api, lead: dict[str, Any], headers: Headers, **request: Any) -> Any:
    return api.client.post(f"/v1/leads/{lead['id']}/activities", headers=headers, **request)


REJECTED_ACTIVITIES = {
    "malformed JSON": ({"content": b'{"type": "attempted",'}, 422, "validation_error"),
    "empty body": ({"content": b""}, 422, "validation_error"),
    "not an object": ({"json": ["attempted"]}, 422, "validation_error"),
    "wrong type": ({"json": body("attempted", channel=5)}, 422, "validation_error"),
    "unknown field": ({"json": body("attempted", colour="red")}, 422, "validation_error"),
    "unknown activity": ({"json": {"type": "sneezed"}}, 422, "validation_error"),
    "naive time": (
        {"json": body("attempted", occurred_at="2026-03-02T08:00:00")},
        422,
        "validation_error",
    ),
    "timer activity": ({"json": {"type": "sla_breached"}}, 422, "validation_error"),
    "created on a lead": ({"json": created()}, 422, "validation_error"),
    "in the future": (
        {"json": body("attempted", occurred_at="2026-03-02T10:00:00Z")},
        422,
        "occurred_in_future",
    ),
    "illegal transition": ({"json": body("won")}, 409, "transition_not_allowed"),
    "soft bant not met": (
        {"json": body("qualified", budget=True, need=False)},
        409,
        "soft_bant_not_met",
    ),
}


@pytest.mark.parametrize(
    ("request_args", "status", "code"),
    list(REJECTED_ACTIVITIES.values()),
    ids=list(REJECTED_ACTIVITIES),
)
def test_a_rejected_activity_answers_its_error_and_records_nothing(
    api: Api, admin: Headers, lead: dict[str, Any], request_args: Any, status: int, code: str
):
    head = api.head()

    response = activity(api, lead, admin, **request_args)

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], type(error["message"])) == (code, str)
    assert api.head() == head


def test_a_transition_error_lists_the_activities_allowed_now(
    api: Api, admin: Headers, lead: dict[str, Any]
):
    error = activity(api, lead, admin, json=body("won")).json()["error"]

    assert error["status"] == "open"
    assert "attempted" in error["allowed"]


def test_a_validation_error_names_the_offending_fields(
    api: Api, admin: Headers, lead: dict[str, Any]
):
    error = activity(api, lead, admin, json=body("attempted", channel=5, colour="red")).json()

    assert set(error["error"]["fields"]) == {"channel", "colour"}


def test_an_activity_older_than_the_latest_change_is_out_of_order(
    api: Api, admin: Headers, lead: dict[str, Any]
):
    head = api.head()

    response = activity(
        api, lead, admin, json=body("attempted", occurred_at="2026-03-01T09:00:00Z")
    )

    assert (response.status_code, response.json()["error"]["code"]) == (422, "out_of_order")
    assert api.head() == head


def test_an_unknown_lead_is_404(api: Api, admin: Headers):
    for response in (
        api.client.get("/v1/leads/nobody@example.com", headers=admin),
        api.client.get("/v1/leads/00000000-0000-0000-0000-000000000000/timeline", headers=admin),
        api.client.post("/v1/leads/crm-404/activities", json=body("assigned"), headers=admin),
    ):
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_a_lead_needs_a_created_body(api: Api, admin: Headers):
    response = api.client.post("/v1/leads", json=body("assigned"), headers=admin)

    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")


def test_a_lead_without_email_or_phone_is_refused(api: Api, admin: Headers):
    response = api.client.post("/v1/leads", json={"type": "created"}, headers=admin)

    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")


def test_a_body_over_64_kib_is_413_by_its_content_length(
    api: Api, admin: Headers, lead: dict[str, Any]
):
    big = body("disqualified", reason="x" * (64 * 1024))
    head = api.head()

    response = activity(api, lead, admin, json=big)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert api.head() == head


def test_a_streamed_body_over_64_kib_is_413_too(api: Api, admin: Headers, lead: dict[str, Any]):
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"type": "disqualified", "reason": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    response = activity(api, lead, admin, content=chunks())

    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")


def test_a_body_just_under_the_limit_is_read(api: Api, admin: Headers, lead: dict[str, Any]):
    padded = body("touched", url="https://example.com/" + "x" * 1900, source="s" * 150)
    padded["content"] = "c" * 150

    response = activity(api, lead, admin, json=padded)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/leads", {"limit": 0}),
        ("/v1/leads", {"limit": "many"}),
        ("/v1/leads", {"status": "asleep"}),
        ("/v1/leads", {"cursor": "not-a-cursor"}),
        ("/v1/events", {"after": -1}),
        ("/v1/events", {"limit": 100_000}),
    ],
)
def test_bad_query_parameters_are_validation_errors(
    api: Api, admin: Headers, path: str, params: dict[str, Any]
):
    response = api.client.get(path, params=params, headers=admin)

    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")
    assert response.json()["error"]["fields"]


def test_an_unknown_route_and_a_wrong_method_answer_the_error_json(api: Api):
    missing = api.client.get("/v2/leads")
    wrong = api.client.delete("/v1/leads")

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (405, "method_not_allowed")


def test_a_bad_idempotency_key_is_a_validation_error(
    api: Api, admin: Headers, lead: dict[str, Any]
):
    response = activity(api, lead, admin | {"Idempotency-Key": "k" * 300}, json=body("assigned"))

    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")


def test_readiness_is_503_when_the_database_does_not_answer(
    api: Api, monkeypatch: pytest.MonkeyPatch
):
    def unreachable() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(api.services.engine, "connect", unreachable)

    response = api.client.get("/readyz")

    assert (response.status_code, response.json()["error"]["code"]) == (503, "unavailable")
    assert response.headers["Retry-After"] == str(outage.RETRY_AFTER)
    assert api.client.get("/healthz").status_code == 200  # alive: a restart would not help


def test_an_unexpected_failure_is_a_500_with_the_error_json(
    api: Api, admin: Headers, monkeypatch: pytest.MonkeyPatch
):
    def broken(*_args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.services.ledger, "find", broken)

    with TestClient(api.app, raise_server_exceptions=False) as client:
        response = client.get("/v1/leads/anyone@example.com", headers=admin)

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"


def test_a_wrong_method_is_405_with_allow_naming_exactly_the_methods_served(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        served = sorted(method.upper() for method in operations)
        url = path.replace("{ref}", "crm-1")
        for method in sorted({"DELETE", "GET", "PATCH", "POST", "PUT"} - set(served)):
            answer = client.request(method, url)
            assert answer.status_code == 405, (method, path)
            assert answer.json()["error"]["code"] == "method_not_allowed"
            assert answer.headers["Allow"] == ", ".join(served), (method, path)
