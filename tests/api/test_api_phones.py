"""Over HTTP a phone is answered in E.164, a phone-only lead is found again by any spelling of
its number, and an invalid phone is a 422 `validation_error` naming `phone`; on both engines."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import Api

from lifecycle.app.importer import run_import


@pytest.fixture
def on_each_engine(api_on: Callable[[str], Api], database_url: str) -> Api:
    return api_on(database_url)


def test_a_phone_only_lead_is_created_once_whatever_the_spelling(on_each_engine: Api) -> None:
    api = on_each_engine
    writer = api.bearer("events:write")
    first = api.client.post("/v1/leads", json={"type": "created", "phone": "(415) 555-0100"},
                            headers=writer)  # fmt: skip
    again = api.client.post("/v1/leads", json={"type": "created", "phone": "+1 415 555 0100"},
                            headers=writer)  # fmt: skip

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["phone"] == "+14155550100"
    assert again.json()["deduplicated"] is True
    assert again.json()["id"] == first.json()["id"]


def test_an_invalid_phone_is_422_naming_phone(on_each_engine: Api) -> None:
    api = on_each_engine
    writer = api.bearer("events:write")
    head = api.head()

    response = api.client.post("/v1/leads", json={"type": "created", "phone": "555-0100"},
                               headers=writer)  # fmt: skip

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["phone"]
    assert api.head() == head  # nothing recorded


def test_an_invalid_corrected_phone_is_422_naming_phone(on_each_engine: Api) -> None:
    api = on_each_engine
    writer = api.bearer("events:write")
    lead = api.client.post("/v1/leads", json={"type": "created", "email": "p@example.com"},
                           headers=writer).json()  # fmt: skip
    path = f"/v1/leads/{lead['id']}/activities"
    for step in ({"type": "assigned", "owner": "ana"}, {"type": "nurtured"}):
        assert api.client.post(path, json=step, headers=writer).status_code == 200

    response = api.client.post(path, json={"type": "reopened", "phone": "+1 555"}, headers=writer)

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["phone"]


def test_a_lead_imported_by_phone_is_found_over_http(on_each_engine: Api) -> None:
    api = on_each_engine
    writer = api.bearer("events:write")
    report = run_import(api.services.ledger, [b'{"type": "created", "phone": "415.555.0100"}'])

    answer = api.client.post("/v1/leads", json={"type": "created", "phone": "+14155550100"},
                             headers=writer)  # fmt: skip

    assert report.created == 1
    assert (answer.status_code, answer.json()["deduplicated"]) == (200, True)
