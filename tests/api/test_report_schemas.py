"""Every report's JSON matches the schema the OpenAPI document publishes for it, on each engine.

A seeded store (the demo's simulation: leads won, lost, nurtured, breached, reassigned) is read
through every report route with its options, and through `build_report` as the CLI's `--json`
prints it; each answer must validate against the route's own response schema in
`/openapi.json`, which lists every key (`additionalProperties: false`) and requires them.
The lead, timeline and feed routes are checked the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema_rs
import pytest
from helpers import ManualClock

from lifecycle.api.app import create_app
from lifecycle.app.views import plain
from lifecycle.bootstrap import Services, Settings, build
from lifecycle.cli.simulation import Simulation
from lifecycle.projections.reports import REPORTS, build_report
from lifecycle.scheduler.tick import tick

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
PERIOD = {"from": "2026-01-12T00:00:00Z", "to": "2026-01-26T00:00:00Z"}
PLAN = {"revenue_goal": "100000", "deal_size": "5000", "conversion_rate": "0.3"}
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    *[("funnel", "/v1/reports/funnel", {"group_by": group, **PERIOD})
      for group in ("source", "campaign", "month", "owner", "region")],
    ("funnel", "/v1/reports/funnel", {}),
    ("status", "/v1/reports/status", {}),
    ("status", "/v1/reports/status", {"group_by": "source", **PERIOD}),
    ("sla", "/v1/reports/sla", {}),
    ("sla", "/v1/reports/sla", PERIOD),
    ("activity", "/v1/reports/activity", {}),
    ("activity", "/v1/reports/activity", PERIOD),
    ("time-in-status", "/v1/reports/time-in-status", {}),
    ("time-in-status", "/v1/reports/time-in-status", {"per_lead": "false", **PERIOD}),
    *[("attribution", "/v1/reports/attribution", {"model": model, "goal": goal})
      for model, goal in (("first_touch", "customer"), ("w_shaped", "mql"),
                          ("time_decay", "created"), ("full_path", "opportunity"))],
    ("attribution", "/v1/reports/attribution", {"model": "linear", "goal": "sql", **PERIOD}),
    ("reasons", "/v1/reports/reasons", {}),
    *[("reasons", "/v1/reports/reasons", {"group_by": group, **PERIOD})
      for group in ("source", "owner", "month")],
    ("plan", "/v1/plan", PLAN),
    ("plan", "/v1/plan", {**PLAN, "weeks": "4", **PERIOD}),
]  # fmt: skip


@pytest.fixture
def seeded(database_url: str) -> Iterator[tuple[Services, TestClient]]:
    clock = ManualClock(START)
    services = build(Settings(database_url), clock=clock.now)

    def set_now(moment: datetime) -> None:
        clock.current = moment

    Simulation(services.ledger, set_now, lambda now: tick(services, now), seed=11, days=21,
               leads_per_day=2).run()  # fmt: skip
    clock.current = START + timedelta(days=22)
    services.runner.catch_up()
    client = TestClient(create_app(services))
    yield services, client
    client.close()
    services.close()


def validator(document: dict[str, Any], path: str) -> Any:
    """The validator of the 200 answer's schema of GET `path`, resolving the components."""
    answer = document["paths"][path]["get"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def problems(check: Any, value: Any) -> list[str]:
    return [f"{error.instance_path}: {error.message}" for error in check.iter_errors(value)]


def test_every_report_answers_its_published_schema(seeded: tuple[Services, TestClient]):
    services, client = seeded
    token = client.app.state.tokens.create("reader", ["admin"], services.clock())  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {token}"}
    document = client.get("/openapi.json").json()
    assert {name for name, _, _ in ROUTES} == set(REPORTS)
    for name, path, params in ROUTES:
        check = validator(document, path)
        answer = client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        assert problems(check, answer.json()) == [], (path, params)
        options = {("start" if k == "from" else "end" if k == "to" else k): v
                   for k, v in params.items()}  # fmt: skip
        if "per_lead" in options:
            options["per_lead"] = False
        printed = plain(build_report(name, services.engine, services.rules, services.clock(),
                                     **options))  # fmt: skip
        assert problems(check, printed) == [], (name, options)


SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE_ONLY  # the schema's strictness does not depend on the engine
def test_a_schema_refuses_a_key_it_does_not_list(seeded: tuple[Services, TestClient]):
    services, client = seeded
    document = client.get("/openapi.json").json()
    report = plain(build_report("sla", services.engine, services.rules, services.clock()))
    check = validator(document, "/v1/reports/sla")
    assert problems(check, report) == []
    assert problems(check, {**report, "surprise": 1})
    assert problems(check, {k: v for k, v in report.items() if k != "by_owner"})
    assert problems(check, {**report, "policies": [{**report["policies"][0], "due": "1"}]})


@SQLITE_ONLY  # the fuzz tests check these routes on both engines
def test_leads_timelines_and_the_feed_answer_their_schemas(seeded: tuple[Services, TestClient]):
    services, client = seeded
    token = client.app.state.tokens.create("reader", ["admin"], services.clock())  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {token}"}
    document = client.get("/openapi.json").json()
    page = client.get("/v1/leads", params={"limit": "20"}, headers=headers).json()
    assert problems(validator(document, "/v1/leads"), page) == []
    feed = client.get("/v1/events", params={"limit": "300"}, headers=headers).json()
    assert problems(validator(document, "/v1/events"), feed) == []
    for lead in page["items"]:
        for path in (f"/v1/leads/{lead['id']}", f"/v1/leads/{lead['id']}/timeline"):
            template = path.replace(lead["id"], "{ref}")
            answer = client.get(path, headers=headers).json()
            assert problems(validator(document, template), answer) == [], path
