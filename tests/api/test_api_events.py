"""`GET /v1/events`: the global log of lead events in order, page by page from `next_after`."""

from __future__ import annotations

from typing import Any

from api_support import drive, new_lead
from conftest import Api, Headers
from helpers import created

from lifecycle.app.views import timeline_entry


def read_feed(api: Api, headers: Headers, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every item, following `next_after`; and how many pages that took."""
    items: list[dict[str, Any]] = []
    after, pages = 0, 0
    while True:
        page = api.client.get(
            "/v1/events", params={"after": after, "limit": limit}, headers=headers
        )
        assert page.status_code == 200
        pages += 1
        if not page.json()["items"]:
            assert page.json()["next_after"] == after
            return items, pages
        items += page.json()["items"]
        after = page.json()["next_after"]


def test_the_feed_pages_through_every_lead_event_once_in_order(api: Api, admin: Headers):
    first = new_lead(api.client, admin)
    second = new_lead(api.client, admin)
    drive(api.client, admin, first["id"], "assigned", "attempted")
    drive(api.client, admin, second["id"], "assigned")
    api.client.post(
        "/v1/leads", json=created(email=first["email"]), headers=admin | {"Idempotency-Key": "k"}
    )  # a duplicate: a touch on the first lead, plus a request key (not a lead event)

    items, pages = read_feed(api, admin, limit=2)

    positions = [item["position"] for item in items]
    assert positions == sorted(set(positions))
    assert pages == len(items) // 2 + (len(items) % 2) + 1
    timelines = {
        lead["id"]: api.client.get(f"/v1/leads/{lead['id']}/timeline", headers=admin).json()
        for lead in (first, second)
    }
    assert sorted((i["lead_id"], i["seq"]) for i in items) == sorted(
        (lead_id, e["seq"]) for lead_id, t in timelines.items() for e in t["events"]
    )


def test_a_feed_item_is_the_timeline_entry_with_its_lead_and_position(api: Api, admin: Headers):
    lead = new_lead(api.client, admin)

    item = api.client.get("/v1/events", headers=admin).json()["items"][0]

    event = api.services.ledger.lead_events(api.services.ledger.find(lead["id"]).id)[0]
    assert item == {**timeline_entry(event), "lead_id": lead["id"], "position": item["position"]}


def test_the_feed_needs_the_timeline_scope(api: Api):
    response = api.client.get("/v1/events", headers=api.bearer("leads:read"))

    assert response.status_code == 403
