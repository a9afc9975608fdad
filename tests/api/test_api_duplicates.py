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
