"""`/healthz` (liveness) and `/readyz` (readiness: reads, writes, read models caught up)."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import new_lead
from conftest import Api, ApiFactory
from helpers import ManualClock
from sqlalchemy import text

from lifecycle.api.health import MAX_LAG, projections_check
from lifecycle.domain.errors import Unavailable
from lifecycle.storage import outage


@pytest.fixture
def ready(api_on: ApiFactory, database_url: str) -> Api:
    """The API on each engine, its readiness checked afresh on every call."""
    api = api_on(database_url)
    api.app.state.readyz.cache_seconds = 0
    return api


def test_liveness_needs_no_token_and_touches_nothing(api: Api, monkeypatch: pytest.MonkeyPatch):
    def broken(*_args: Any) -> None:
        raise AssertionError("liveness touched the database")

    monkeypatch.setattr(api.services.engine, "connect", broken)
    monkeypatch.setattr(api.services.ledger, "probe_write", broken)

    response = api.client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_a_caught_up_service_is_ready_without_a_token(ready: Api):
    new_lead(ready.client, ready.bearer("admin"))
    ready.catch_up()

    response = ready.client.get("/readyz")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "writes": "ok",
        "projections": "ok",
    }
    assert body["checks"]["projections"]["behind"] == 0


def test_not_ready_while_writes_fail(ready: Api, monkeypatch: pytest.MonkeyPatch):
    def failing() -> None:
        raise Unavailable("the database cannot be written now; try again")

    monkeypatch.setattr(ready.services.ledger, "probe_write", failing)

    response = ready.client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(outage.RETRY_AFTER)
    body = response.json()
    assert body["error"]["code"] == "unavailable"
    assert body["error"]["message"] == "not ready: writes"
    assert body["checks"]["writes"] == {
        "status": "failing",
        "message": "the database cannot be written now; try again",
    }
    assert body["checks"]["database"]["status"] == "ok"


def test_not_ready_while_the_read_models_lag_more_than_five_seconds(ready: Api, clock: ManualClock):
    new_lead(ready.client, ready.bearer("admin"))  # recorded now, not yet applied

    clock.advance(seconds=MAX_LAG - 0.5)
    still = ready.client.get("/readyz")
    clock.advance(seconds=1)
    behind = ready.client.get("/readyz")
    ready.catch_up()
    caught_up = ready.client.get("/readyz")

    assert still.status_code == 200, still.text
    assert still.json()["checks"]["projections"]["behind"] >= 1
    assert behind.status_code == 503
    projections = behind.json()["checks"]["projections"]
    assert projections["status"] == "failing"
    assert projections["lag_seconds"] == pytest.approx(MAX_LAG + 0.5)
    assert behind.json()["error"]["message"] == "not ready: projections"
    assert caught_up.status_code == 200


def test_the_projection_check_is_a_function_of_the_runner(ready: Api, clock: ManualClock):
    runner = ready.services.runner
    empty = projections_check(runner, clock.now())
    new_lead(ready.client, ready.bearer("admin"))
    waiting = projections_check(runner, clock.advance(seconds=3))
    late = projections_check(runner, clock.now(), max_lag=2)

    assert (empty["status"], empty["behind"], empty["lag_seconds"]) == ("ok", 0, 0.0)
    assert (waiting["status"], waiting["lag_seconds"]) == ("ok", 3.0)
    assert waiting["reached"] == 0 and waiting["behind"] == waiting["head"] > 0
    assert late["status"] == "failing"


def test_the_answer_is_shared_for_a_second(api: Api, monkeypatch: pytest.MonkeyPatch):
    calls: list[int] = []
    monkeypatch.setattr(api.services.ledger, "probe_write", lambda: calls.append(1))

    answers = [api.client.get("/readyz").status_code for _ in range(5)]

    assert answers == [200] * 5
    assert calls == [1]


def test_both_routes_are_in_the_openapi_document(client: Any):
    paths = client.get("/openapi.json").json()["paths"]

    assert set(paths["/healthz"]["get"]["responses"]) == {"200"}
    assert set(paths["/readyz"]["get"]["responses"]) == {"200", "503"}
    assert "security" not in paths["/readyz"]["get"]


def test_a_quarantined_lead_is_reported_but_leaves_the_service_ready(ready: Api):
    admin = ready.bearer("admin")
    lead = new_lead(ready.client, admin)
    new_lead(ready.client, admin)
    table = ready.services.ledger.recorder.events_table_name  # type: ignore[attr-defined]
    postgres = ready.services.engine.dialect.name == "postgresql"
    key = lead["id"] if postgres else lead["id"].replace("-", "")  # SQLite keeps hex digits
    with ready.services.engine.begin() as conn:  # the stored `created` no longer decodes
        conn.execute(
            text(f"UPDATE {table} SET state = :s WHERE originator_id = :id"),
            {"s": b"\xff not an event", "id": key},
        )
    ready.catch_up()

    response = ready.client.get("/readyz")

    assert response.status_code == 200, response.text
    check = response.json()["checks"]["projections"]
    assert check["status"] == "ok"
    assert check["quarantined"] == {"lead_facts": 1, "sla_clocks": 1, "touches": 1, "deadlines": 1}
    assert "lifecycle projections status" in check["message"]
