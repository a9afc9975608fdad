"""`GET /v1/reports/reasons` (issue 16, item 7): the reasons report over HTTP, on each engine,
with the same JSON as `build_report`; its options are checked like the other reports'.

Three leads (counted by hand): web/ana disqualified "no budget" on 3 February, ads/bob
nurtured "not now" on 4 February, ads (no owner) marked bad data without a reason on 5 February.
"""

from __future__ import annotations

import pytest
from api_support import new_lead
from conftest import Api, ApiFactory, Headers

from lifecycle.projections.reports import build_report


@pytest.fixture
def api(api_on: ApiFactory, database_url: str) -> Api:
    return api_on(database_url)


@pytest.fixture
def reader(api: Api) -> Headers:
    return api.bearer("reports:read")


def at(day: int, hour: int = 9) -> str:
    return f"2026-02-{day:02d}T{hour:02d}:00:00Z"


def record(api: Api, headers: Headers, lead_id: str, *activities: dict) -> None:
    for activity in activities:
        answer = api.client.post(f"/v1/leads/{lead_id}/activities", json=activity, headers=headers)
        assert answer.status_code == 200, answer.text


@pytest.fixture
def history(api: Api, admin: Headers) -> None:
    ana, bob, bad = (
        new_lead(api.client, admin, source=source, occurred_at=at(2))["id"]
        for source in ("web", "ads", "ads")
    )
    record(api, admin, ana, {"type": "assigned", "owner": "ana", "occurred_at": at(2, 10)},
           {"type": "disqualified", "reason": "no budget", "occurred_at": at(3)})  # fmt: skip
    record(api, admin, bob, {"type": "assigned", "owner": "bob", "occurred_at": at(2, 10)},
           {"type": "nurtured", "reason": "not now", "occurred_at": at(4)})  # fmt: skip
    record(api, admin, bad, {"type": "bad_data", "channel": "all", "occurred_at": at(5)})
    api.catch_up()  # the serve process keeps the read models caught up; the test does it here


def test_the_route_answers_the_report_grouped_and_in_its_period(history, api, reader):
    answer = api.client.get(
        "/v1/reports/reasons",
        params={"group_by": "source", "from": "2026-02-03T00:00:00Z", "to": "2026-02-05T00:00:00Z"},
        headers=reader,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["group_by"] == "source"
    assert body["rows"] == [
        {"group": "ads", "type": "nurtured", "reason": "not now", "count": 1, "leads": 1,
         "share": 1.0},
        {"group": "web", "type": "disqualified", "reason": "no budget", "count": 1, "leads": 1,
         "share": 1.0},
    ]  # fmt: skip
    assert [total["count"] for total in body["totals"]] == [0, 1, 0, 1]
    assert body["warnings"] == []


def test_the_route_answers_what_build_report_builds(history, api, reader):
    body = api.client.get("/v1/reports/reasons", headers=reader).json()
    services = api.services
    assert body == build_report("reasons", services.engine, services.rules, services.clock())
    assert [(r["type"], r["reason"]) for r in body["rows"]] == [
        ("bad_data", None), ("disqualified", "no budget"), ("nurtured", "not now"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "fields"),
    [("group_by=colour", ["group_by"]), ("model=linear", ["model"]),
     ("from=2026-02-01", ["from"]), ("reason=x", ["reason"])],
)  # fmt: skip
def test_bad_or_unknown_parameters_are_a_validation_error(api, reader, query, fields):
    answer = api.client.get(f"/v1/reports/reasons?{query}", headers=reader)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == fields


def test_the_route_needs_the_reports_read_scope(api):
    assert api.client.get("/v1/reports/reasons").status_code == 401
    answer = api.client.get("/v1/reports/reasons", headers=api.bearer("leads:read"))
    assert answer.status_code == 403
