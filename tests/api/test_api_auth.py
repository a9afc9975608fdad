"""Bearer tokens and scopes: 401 without a valid token, 403 without the route's scope."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import new_lead
from conftest import Api, Headers
from helpers import body, created

from lifecycle.api.tokens import SCOPES, api_tokens

LEAD = "{lead}"
# (method, path, scope, JSON body): every /v1 route.
ROUTES: list[tuple[str, str, str, Any]] = [
    ("POST", "/v1/leads", "events:write", created()),
    ("POST", f"/v1/leads/{LEAD}/activities", "events:write", body("touched")),
    ("GET", f"/v1/leads/{LEAD}", "leads:read", None),
    ("GET", "/v1/leads", "leads:read", None),
    ("GET", f"/v1/leads/{LEAD}/timeline", "timeline:read", None),
    ("GET", "/v1/events", "timeline:read", None),
    ("GET", "/v1/reports/funnel", "reports:read", None),
    ("GET", "/v1/reports/status", "reports:read", None),
    ("GET", "/v1/reports/sla", "reports:read", None),
    ("GET", "/v1/reports/activity", "reports:read", None),
    ("GET", "/v1/reports/time-in-status", "reports:read", None),
    ("GET", "/v1/reports/attribution", "reports:read", None),
    ("GET", "/v1/reports/reasons", "reports:read", None),
    (
        "GET",
        "/v1/plan?revenue_goal=100000&deal_size=1000&conversion_rate=0.5",
        "reports:read",
        None,
    ),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _, _ in ROUTES]


def call(api: Api, route: tuple[str, str, str, Any], lead_id: str, headers: Headers) -> Any:
    method, path, _, payload = route
    url = path.replace(LEAD, lead_id)
    return api.client.request(method, url, json=payload, headers=headers)


@pytest.fixture
def lead_id(api: Api, admin: Headers) -> str:
    return str(new_lead(api.client, admin)["id"])


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_every_route_refuses_a_request_without_a_token(
    api: Api, route: tuple[str, str, str, Any], lead_id: str
):
    response = call(api, route, lead_id, {})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("route", [r for r in ROUTES if LEAD in r[1]], ids=lambda r: r[0] + r[1])
def test_the_token_is_checked_before_a_bad_ref(api: Api, route: tuple[str, str, str, Any]):
    """Nobody without a token learns how a request would be judged: 401 first, then 403."""
    bad_ref = "crm%00-1"  # a NUL: 422 for a caller with the scope

    without = call(api, route, bad_ref, {})
    unscoped = call(api, route, bad_ref, api.bearer("reports:read"))
    scoped = call(api, route, bad_ref, api.bearer(route[2]))

    assert (without.status_code, without.json()["error"]["code"]) == (401, "unauthorized")
    assert (unscoped.status_code, unscoped.json()["error"]["code"]) == (403, "forbidden")
    assert scoped.status_code == 422
    assert scoped.json()["error"]["fields"] == {
        "ref": "must not contain U+0000 (a control character) (at character 4)"
    }


@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer", "token"]
)
def test_an_unknown_token_or_another_scheme_is_refused(api: Api, lead_id: str, authorization: str):
    response = api.client.get(f"/v1/leads/{lead_id}", headers={"Authorization": authorization})

    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_a_route_admits_its_scope_and_admin_and_refuses_every_other_scope(
    api: Api, route: tuple[str, str, str, Any], scope: str, lead_id: str
):
    response = call(api, route, lead_id, api.bearer(scope))

    if scope in (route[2], "admin"):
        assert response.status_code in (200, 201), response.text
    else:
        assert response.status_code == 403
        assert response.json()["error"] == {
            "code": "forbidden",
            "message": f"the token lacks the {route[2]} scope",
            "scope": route[2],
        }


def test_a_revoked_token_is_refused(api: Api, lead_id: str):
    headers = api.bearer("leads:read", name="old-crm")
    assert api.client.get(f"/v1/leads/{lead_id}", headers=headers).status_code == 200

    api.app.state.tokens.revoke("old-crm", api.services.clock())

    response = api.client.get(f"/v1/leads/{lead_id}", headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")


def test_only_the_hash_of_a_token_is_stored(api: Api):
    secret = api.bearer("admin", name="vault")["Authorization"].removeprefix("Bearer ")

    with api.services.engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(api_tokens.select())]

    assert stored
    assert not any(secret in str(value) for row in stored for value in row)
