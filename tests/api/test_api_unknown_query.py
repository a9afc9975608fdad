"""Unknown query parameters are a `validation_error` naming each, on every route (issue 16,
item 6): `GET /v1/leads?campaign=x` answered every lead, as if the filter had been applied.

The routes are read from the app's own OpenAPI document, so a new route is covered without a
change here; the token is checked first (401 before 422), and a refused write records nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_support import new_lead
from conftest import Api, Headers
from fastapi.testclient import TestClient
from helpers import body, created


def operations(client: TestClient) -> list[tuple[str, str]]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post"}
    ]


def _url(path: str, lead_id: str) -> str:
    return path.replace("{ref}", lead_id).replace("{name}", "funnel")


def test_every_route_refuses_an_unknown_query_parameter_naming_it(
    client: TestClient, admin: Headers, api: Api
):
    lead = new_lead(client, admin)
    checked = 0
    for method, path in operations(client):
        head = api.head()
        json = created() if path == "/v1/leads" else body("touched")
        url = _url(path, lead["id"]) + "?campaign=x&Region=emea"
        response = client.request(
            method, url, headers=admin, json=json if method == "POST" else None
        )

        assert response.status_code == 422, (method, path, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["fields"] == {
            "campaign": "unknown query parameter",
            "Region": "unknown query parameter",
        }, (method, path)
        assert api.head() == head  # nothing recorded
        checked += 1
    assert checked >= 12


def test_a_known_parameter_beside_an_unknown_one_is_still_refused(
    client: TestClient, admin: Headers, api: Api
):
    new_lead(client, admin, source="web")
    api.catch_up()  # the filters read a projection

    response = client.get("/v1/leads?source=web&campaign=x", headers=admin)

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["campaign"]
    assert client.get("/v1/leads?source=web", headers=admin).json()["items"]


@pytest.mark.parametrize("url", ["/v1/leads?campaign=x", "/v1/reports/funnel?x=1"])
def test_the_token_is_checked_before_the_query(client: TestClient, url: str):
    assert client.get(url).status_code == 401
