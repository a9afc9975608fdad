"""An activity sent twice over HTTP is answered as the first time: 200, the original entries."""

from __future__ import annotations

from typing import Any


def test_http_answers_a_duplicate_with_200_and_the_original_entries(
    api: Any, client: Any, writer: Any
) -> None:
    created = client.post("/v1/leads", json={"type": "created", "email": "g@example.com",
                                             "id": "form-1"}, headers=writer)  # fmt: skip
    again = client.post("/v1/leads", json={"type": "created", "email": "g@example.com",
                                           "id": "form-1"}, headers=writer)  # fmt: skip
    path = "/v1/leads/g@example.com/activities"
    body = {"type": "assigned", "owner": "ana", "id": "crm-7"}
    first = client.post(path, json=body, headers=writer)
    second = client.post(path, json=body, headers=writer)

    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json()["deduplicated"] is True and again.json()["version"] == 1
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json()["events"][0]["activity_id"] == "crm-7"
    reader = api.bearer("timeline:read")
    timeline = client.get("/v1/leads/g@example.com/timeline", headers=reader).json()
    assert [e["type"] for e in timeline["events"]] == ["created", "assigned"]


def test_http_updates_a_lead_and_answers_409_for_an_email_of_another_lead(
    api: Any, client: Any, writer: Any
) -> None:
    """`updated` over HTTP (docs/activities.md, Updates)."""
    for email in ("h@example.com", "taken@example.com"):
        client.post("/v1/leads", json={"type": "created", "email": email}, headers=writer)
    path = "/v1/leads/h@example.com/activities"

    changed = client.post(path, json={"type": "updated", "title": "CTO"}, headers=writer)
    taken = client.post(path, json={"type": "updated", "email": "taken@example.com"},
                        headers=writer)  # fmt: skip
    empty = client.post(path, json={"type": "updated"}, headers=writer)

    assert changed.status_code == 200
    (entry,) = changed.json()["events"]
    assert (entry["type"], entry["data"]["old"], entry["data"]["new"]) == (
        "updated", {"title": None}, {"title": "CTO"},
    )  # fmt: skip
    assert changed.json()["lead"]["title"] == "CTO"
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "conflict")
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "validation_error")
