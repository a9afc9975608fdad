"""Leads over HTTP: the same JSON as the CLI, every success answer of docs/http.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from api_support import drive, new_lead, run_cli
from conftest import Api, Headers
from fastapi.testclient import TestClient
from helpers import ManualClock, body, created


def test_creating_a_lead_answers_201_with_the_lead(client: TestClient, writer: Headers):
    response = client.post("/v1/leads", json=created(email="ann@example.com"), headers=writer)

    assert response.status_code == 201
    lead = response.json()
    assert lead["email"] == "ann@example.com"
    assert (lead["status"], lead["stage"], lead["version"]) == ("raw", "lead", 1)
    assert lead["deduplicated"] is False


def test_creating_a_known_email_answers_200_with_the_existing_lead(
    client: TestClient, writer: Headers
):
    first = new_lead(client, writer, email="ann@example.com")

    again = client.post("/v1/leads", json=created(email=" ANN@example.com "), headers=writer)

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["deduplicated"] is True


def test_an_email_and_an_external_id_of_two_leads_answer_409_naming_both(
    client: TestClient, writer: Headers
):
    ann = new_lead(client, writer, email="ann@example.com")
    bob = new_lead(client, writer, email="bob@example.com", external_id="crm-7")

    mixed = created(email="ann@example.com", external_id="crm-7")
    response = client.post("/v1/leads", json=mixed, headers=writer)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["fields"] == {"email": ann["id"], "external_id": bob["id"]}


def test_an_activity_answers_the_lead_and_the_events_it_recorded(
    client: TestClient, writer: Headers
):
    lead = new_lead(client, writer)

    response = client.post(
        f"/v1/leads/{lead['id']}/activities", json=body("assigned"), headers=writer
    )

    assert response.status_code == 200
    answer = response.json()
    assert answer["lead"]["status"] == "open"
    assert [(e["seq"], e["type"], e["status"]) for e in answer["events"]] == [
        (2, "assigned", "open")
    ]


def test_the_token_name_is_the_actor_unless_the_activity_names_one(
    client: TestClient, writer: Headers
):
    lead = new_lead(client, writer)
    url = f"/v1/leads/{lead['id']}/activities"

    by_token = client.post(url, json=body("assigned"), headers=writer).json()
    named = client.post(url, json=body("attempted", actor="dialer-7"), headers=writer).json()

    assert by_token["events"][0]["actor"] == "web-forms"
    assert named["events"][0]["actor"] == "dialer-7"


def test_a_lead_is_found_by_id_external_id_or_email(client: TestClient, admin: Headers):
    lead = new_lead(client, admin, email="bo@example.com", external_id="crm-9")

    for ref in (lead["id"], "crm-9", "BO@example.com"):
        response = client.get(f"/v1/leads/{ref}", headers=admin)
        assert response.status_code == 200
        assert response.json()["id"] == lead["id"]


def test_a_lead_as_of_a_time_is_the_lead_as_it_was_then(
    client: TestClient, admin: Headers, clock: ManualClock
):
    lead = new_lead(client, admin)
    before = clock.now()
    clock.advance(minutes=5)
    drive(client, admin, lead["id"], "assigned")

    then = client.get(
        f"/v1/leads/{lead['id']}", params={"as_of": before.isoformat()}, headers=admin
    )
    now = client.get(f"/v1/leads/{lead['id']}", headers=admin)

    assert (then.json()["status"], then.json()["version"]) == ("raw", 1)
    assert (now.json()["status"], now.json()["version"]) == ("open", 2)


def test_the_api_answers_the_same_json_as_the_cli(api: Api, admin: Headers, tmp_path: Path):
    client = api.client
    lead = new_lead(client, admin, email="cli@example.com")
    drive(client, admin, lead["id"], "assigned", "attempted")
    url = api.services.settings.database_url

    for path, argv in (
        (f"/v1/leads/{lead['id']}", ["lead", "show", lead["id"]]),
        (f"/v1/leads/{lead['id']}/timeline", ["lead", "timeline", lead["id"]]),
    ):
        printed = run_cli(*argv, "--json", "--database-url", url, cwd=tmp_path).stdout
        assert orjson.loads(printed) == client.get(path, headers=admin).json()


def test_a_timeline_lists_every_event_in_seq_order(client: TestClient, admin: Headers):
    lead = new_lead(client, admin)
    drive(client, admin, lead["id"], "assigned", "attempted", "responded")

    timeline = client.get(f"/v1/leads/{lead['id']}/timeline", headers=admin).json()

    assert timeline["lead_id"] == lead["id"]
    assert [e["seq"] for e in timeline["events"]] == list(range(1, len(timeline["events"]) + 1))
    assert [e["type"] for e in timeline["events"]][-3:] == ["assigned", "attempted", "responded"]


def test_leads_are_listed_in_creation_order_with_filters_and_a_cursor(
    api: Api, admin: Headers, clock: ManualClock
):
    client = api.client
    leads = []
    for n in range(5):
        clock.advance(minutes=1)
        leads.append(new_lead(client, admin, source="webinar" if n % 2 else "ads"))
    drive(client, admin, leads[0]["id"], "assigned")
    api.catch_up()

    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/leads", params=params, headers=admin).json()
        pages.append([lead["id"] for lead in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    webinar = client.get("/v1/leads", params={"source": "webinar"}, headers=admin).json()
    opened = client.get("/v1/leads", params={"status": "open"}, headers=admin).json()

    assert [len(p) for p in pages] == [2, 2, 1]
    assert [lead for page in pages for lead in page] == [lead["id"] for lead in leads]
    assert [lead["id"] for lead in webinar["items"]] == [leads[1]["id"], leads[3]["id"]]
    assert [lead["id"] for lead in opened["items"]] == [leads[0]["id"]]
    assert opened["items"][0]["owner"] == "alex"


def test_health_needs_no_token(client: TestClient):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_the_openapi_document_lists_every_route(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]

    assert {
        "/v1/leads",
        "/v1/leads/{ref}",
        "/v1/leads/{ref}/activities",
        "/v1/leads/{ref}/timeline",
        "/v1/events",
        "/healthz",
    } <= set(paths)
