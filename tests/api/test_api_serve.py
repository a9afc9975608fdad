"""The real `lifecycle serve` in a subprocess: a lead from `created` to `won` over HTTP."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import Served, run_cli
from helpers import body, created

pytestmark = pytest.mark.slow

JOURNEY = [
    body("assigned"),
    body("attempted"),
    body("responded"),
    body("qualified", budget=True, need=True),
    body("passed", to_owner="sam"),
    body("accepted"),
    body("opportunity_created", amount="25000"),
    body("won", amount="24000"),
]


def eventually(check: Any, seconds: float = 5.0) -> Any:
    """`check()` once it is truthy (reports catch up within 2 s), or fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, "not caught up in time"
        time.sleep(0.1)
    return result


def test_a_lead_goes_from_created_to_won_over_http_and_shows_in_the_funnel(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/served.db"
    token = run_cli(
        "token", "create", "--name", "e2e", "--scope", "admin", "--database-url", url, cwd=tmp_path
    ).stdout.strip()
    server = Served(url, tmp_path)
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
            lead = api.post("/v1/leads", json=created(source="webinar")).json()
            answers = [
                api.post(f"/v1/leads/{lead['id']}/activities", json=step) for step in JOURNEY
            ]
            timeline = api.get(f"/v1/leads/{lead['id']}/timeline").json()
            funnel = eventually(lambda: _customers(api.get("/v1/reports/funnel").json()))
    finally:
        exit_code = server.stop()

    assert [answer.status_code for answer in answers] == [200] * len(JOURNEY)
    assert answers[-1].json()["lead"]["stage"] == "customer"
    events = timeline["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events if e["type"] in {s["type"] for s in JOURNEY}] == [
        s["type"] for s in JOURNEY
    ]
    assert {e["actor"] for e in events} == {"e2e"}
    assert funnel == {"customers": 1, "revenue": 24000}
    assert exit_code == 0, server.log.read_text()
    assert '"stopped"' in server.log.read_text()


def _customers(report: dict[str, Any]) -> dict[str, Any] | None:
    rows = report["rows"]
    customers = sum(row["customers"] for row in rows)
    return (
        {"customers": customers, "revenue": sum(r["revenue"] for r in rows)} if customers else None
    )
