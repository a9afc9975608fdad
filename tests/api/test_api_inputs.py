"""Poison text and out-of-range times over HTTP: a 422 naming the field, nothing recorded, and
the service (its reports, its feed) answering as before."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from api_support import new_lead
from conftest import Api, ApiFactory, Headers
from helpers import body, created

from lifecycle.app import activities as act

POISON = {"NUL": "%00", "escape": "%1B", "zero-width space": "%E2%80%8B", "bidi": "%E2%80%AE"}
BAD_TIMES = [
    "1899-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
]


def _problem(answer: Any) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    return dict(error["fields"])


@pytest.mark.parametrize("poison", POISON.values(), ids=POISON.keys())
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/leads/{ref}"),
        ("GET", "/v1/leads/{ref}/timeline"),
        ("POST", "/v1/leads/{ref}/activities"),
    ],
)
def test_a_lead_reference_with_a_poison_character_is_a_validation_error(
    api: Api, admin: Headers, method: str, path: str, poison: str
):
    url = path.format(ref=f"crm{poison}1")
    answer = api.client.request(method, url, headers=admin, json=body("attempted"))
    assert list(_problem(answer)) == ["ref"]


@pytest.mark.parametrize("poison", POISON.values(), ids=POISON.keys())
@pytest.mark.parametrize("parameter", ["owner", "source", "cursor"])
def test_a_lead_filter_with_a_poison_character_is_a_validation_error(
    api: Api, admin: Headers, parameter: str, poison: str
):
    answer = api.client.get(f"/v1/leads?{parameter}=a{poison}b", headers=admin)
    assert list(_problem(answer)) == [parameter]


def _time_parameters(api: Api, admin: Headers) -> list[tuple[str, str]]:
    """(path, parameter) for every query parameter of the API that takes a time."""
    document = api.client.get("/openapi.json").json()
    found = []
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                options = parameter["schema"].get("anyOf", [parameter["schema"]])
                if any(option.get("format") == "date-time" for option in options):
                    found.append((path, parameter["name"]))
    return found


def test_every_time_parameter_refuses_times_outside_1900_to_2200(api: Api, admin: Headers):
    lead = new_lead(api.client, admin)
    parameters = _time_parameters(api, admin)
    assert len(parameters) >= 20  # as_of, and from/to/now of every report and the plan
    plan = {"revenue_goal": "1000", "deal_size": "100", "conversion_rate": "0.5"}
    for path, name in parameters:
        url = path.format(ref=lead["id"])
        required = plan if path == "/v1/plan" else {}
        for moment in BAD_TIMES:
            answer = api.client.get(url, params={**required, name: moment}, headers=admin)
            assert list(_problem(answer)) == [name], (path, name, moment)
        good = api.client.get(url, params={**required, name: "2026-03-02T09:00:00Z"}, headers=admin)
        assert good.status_code == 200, (path, name, good.text)


@pytest.mark.parametrize("moment", BAD_TIMES)
def test_an_activity_at_an_out_of_range_time_records_nothing(api: Api, admin: Headers, moment: str):
    head = api.head()
    answer = api.client.post("/v1/leads", json=created(occurred_at=moment), headers=admin)
    assert list(_problem(answer)) == ["occurred_at"]
    assert api.head() == head


def test_a_nul_in_any_text_is_refused_and_the_reports_go_on(api_on: ApiFactory, database_url: str):
    """The PostgreSQL case of issue 14: text there cannot hold NUL, and one such event once
    stopped every report for good."""
    api = api_on(database_url)
    admin = api.bearer("admin", name="ops")
    head = api.head()
    poisoned = created(source="we\u0000b", first_name="Ann\u200b")
    assert set(_problem(api.client.post("/v1/leads", json=poisoned, headers=admin))) == {
        "source",
        "first_name",
    }
    assert api.head() == head
    new_lead(api.client, admin, source="web")
    api.catch_up()
    funnel = api.client.get("/v1/reports/funnel?group_by=source", headers=admin)
    assert funnel.status_code == 200
    assert [row["group"] for row in funnel.json()["rows"]] == ["web"]


def test_a_fullwidth_email_finds_the_same_lead(api: Api, admin: Headers):
    lead = new_lead(api.client, admin, email="ann@example.com")
    again = api.client.post("/v1/leads", json=created(email="ＡＮＮ@example.com"), headers=admin)
    assert again.status_code == 200 and again.json()["deduplicated"] is True
    assert again.json()["id"] == lead["id"]
    found = api.client.get("/v1/leads/ａｎｎ@example.com", headers=admin)
    assert found.json()["id"] == lead["id"]


def test_a_time_stored_out_of_range_by_an_earlier_release_leaves_everything_readable(
    api_on: ApiFactory, database_url: str
):
    """0001-01-01T00:00:00+14:00 was once stored; its lead, timeline and the feed pages holding
    it then answered 500. The times are shown as stored instead."""
    api = api_on(database_url)
    admin = api.bearer("admin", name="ops")
    stored = datetime.fromisoformat("0001-01-01T00:00:00+14:00")
    old = act.Created.model_construct(type="created", email="old@example.com",
                                      occurred_at=stored, actor=None)  # fmt: skip
    lead_id = str(api.services.ledger.in_batch(lambda b: b.record(None, old, "test")).lead.id)
    lead = api.client.get(f"/v1/leads/{lead_id}", headers=admin)
    assert lead.status_code == 200 and lead.json()["created_at"] == "0001-01-01T00:00:00+14:00"
    timeline = api.client.get(f"/v1/leads/{lead_id}/timeline", headers=admin)
    assert timeline.status_code == 200
    assert timeline.json()["events"][0]["occurred_at"] == "0001-01-01T00:00:00+14:00"
    feed = api.client.get("/v1/events", headers=admin)
    assert feed.status_code == 200 and feed.json()["items"][0]["lead_id"] == lead_id


@pytest.mark.parametrize("capacity", ["5e-324", "1e-300", "0.009"])
def test_a_rep_capacity_below_a_hundredth_is_a_validation_error(
    api: Api, admin: Headers, capacity: str
):
    """`mqls_per_rep_week=5e-324` once overflowed the reps needed: a 500 (issue 14)."""
    plan = {"revenue_goal": "1000", "deal_size": "100", "conversion_rate": "0.5"}
    answer = api.client.get("/v1/plan", params={**plan, "mqls_per_rep_week": capacity},
                            headers=admin)  # fmt: skip
    assert list(_problem(answer)) == ["mqls_per_rep_week"]
    smallest = api.client.get("/v1/plan", params={**plan, "mqls_per_rep_week": "0.01"},
                              headers=admin)  # fmt: skip
    assert smallest.status_code == 200 and smallest.json()["reps_to_hire"] == 167
