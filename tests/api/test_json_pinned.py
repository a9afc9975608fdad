"""The exact JSON bytes of the routes and `--json` commands (docs/json.md), pinned.

A deterministic store (the demo's simulation with a fixed seed, lead ids counted instead of
random, a manual clock) is read through every JSON route and the CLI's `lead show`,
`lead timeline` and `report … --json`; each answer must be byte for byte the one in
`pinned_json.json`. Refactoring how the shapes are built must not change a byte.
`LIFECYCLE_PIN_JSON=write` rewrites the file (only when a change of the contract is meant).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from helpers import ManualClock

from lifecycle.api.app import create_app
from lifecycle.bootstrap import Services, Settings, build, run_command
from lifecycle.cli import leads, reports
from lifecycle.cli.common import CommandParser, common_options
from lifecycle.cli.simulation import Simulation
from lifecycle.scheduler.tick import tick

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PINNED = Path(__file__).with_name("pinned_json.json")
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
END = START + timedelta(days=24)
PERIOD = {"from": "2026-01-05T00:00:00Z", "to": "2026-01-26T00:00:00Z"}
REPORTS: dict[str, list[dict[str, Any]]] = {
    "funnel": [{}, {"group_by": "source"}, {"group_by": "month", **PERIOD}],
    "status": [{}, {"group_by": "region"}],
    "sla": [{}, PERIOD],
    "activity": [{}, PERIOD],
    "time-in-status": [{}, {"per_lead": "false", **PERIOD}],
    "attribution": [
        {},
        {"model": "w_shaped", "goal": "customer"},
        {"model": "linear", "goal": "mql", **PERIOD},
    ],
    "reasons": [{}, {"group_by": "owner", **PERIOD}],
}
PLANS: list[dict[str, Any]] = [
    {"revenue_goal": "500000", "deal_size": "25000", "conversion_rate": "0.2"},
    {"revenue_goal": "100000", "deal_size": "5000", "lead_to_mql": "0.3",
     "mql_to_sql": "0.4", "sql_to_opportunity": "0.5", "opportunity_to_customer": "0.25",
     "visitor_to_lead": "0.02", "weeks": "12", **PERIOD},
]  # fmt: skip


@pytest.fixture
def counted_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lead ids 00000000-…-000000000001, 2, 3… in creation order."""
    numbers = count(1)
    monkeypatch.setattr("eventsourcing.domain.uuid4", lambda: UUID(int=next(numbers)))


@pytest.fixture
def services(sqlite_url: str, counted_ids: None) -> Iterator[tuple[Services, ManualClock]]:
    clock = ManualClock(START)
    services = build(Settings(sqlite_url), clock=clock.now)

    def set_now(moment: datetime) -> None:
        clock.current = moment

    simulation = Simulation(
        services.ledger, set_now, lambda now: tick(services, now), seed=3, days=24,
        leads_per_day=2.5,
    )  # fmt: skip
    simulation.run()
    clock.current = END
    services.runner.catch_up()
    yield services, clock
    services.close()


def http_answers(services: Services) -> dict[str, str]:
    app = create_app(services)
    client = TestClient(app)
    token = app.state.tokens.create("pin", ["admin"], services.clock())
    admin = {"Authorization": f"Bearer {token}"}
    answers: dict[str, str] = {}

    def keep(name: str, response: Any) -> Any:
        answers[name] = f"{response.status_code} {response.text}"
        return response.json()

    new = {"type": "created", "email": "pin@example.com", "external_id": "pin-1",
           "first_name": "Pin", "last_name": "Ned", "company": "Acme", "title": "CTO",
           "country": "DE", "region": "emea", "employees": 300, "industry": "software",
           "source": "webinar", "campaign": "pins", "channel": "form",
           "occurred_at": "2026-01-28T10:00:00+01:00"}  # fmt: skip
    lead = keep("POST /v1/leads", client.post("/v1/leads", json=new, headers=admin))
    keep("POST /v1/leads (again)", client.post("/v1/leads", json=new, headers=admin))
    ref = lead["id"]
    for number, activity in enumerate([
        {"type": "assigned", "owner": "ana"},
        {"type": "attempted", "channel": "email"},
        {"type": "responded", "channel": "email"},
        {"type": "qualified", "budget": True, "authority": True, "need": True, "note": "ok"},
        {"type": "touched", "kind": "page_view", "url": "https://example.com/p", "content": "c"},
        {"type": "passed", "to_owner": "bob"},
        {"type": "accepted"},
        {"type": "opportunity_created", "amount": "12500.50", "opportunity_id": "opp-1"},
        {"type": "won", "amount": "12500.50"},
    ]):  # fmt: skip
        response = client.post(f"/v1/leads/{ref}/activities", json=activity, headers=admin)
        keep(f"POST activity {number} {activity['type']}", response)
    services.runner.catch_up()
    some = "00000000-0000-0000-0000-000000000007"
    for path, params in [
        (f"/v1/leads/{ref}", {}),
        (f"/v1/leads/{ref}", {"as_of": "2026-01-28T09:30:00Z"}),
        (f"/v1/leads/{some}", {}),
        (f"/v1/leads/{ref}/timeline", {}),
        (f"/v1/leads/{some}/timeline", {}),
        ("/v1/leads", {"limit": "3"}),
        ("/v1/leads", {"status": "nurture", "limit": "2"}),
        ("/v1/events", {"after": "40", "limit": "5"}),
        *[(f"/v1/reports/{name}", params) for name, runs in REPORTS.items() for params in runs],
        *[("/v1/plan", params) for params in PLANS],
    ]:
        keep(f"GET {path} {sorted(params.items())}", client.get(path, params=params, headers=admin))
    client.close()
    return answers


def cli_answers(services: Services, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    common = common_options()
    parser = CommandParser(prog="lifecycle", parents=[common])
    commands = parser.add_subparsers(dest="command", parser_class=CommandParser)
    leads.register(commands, common)
    reports.register(commands, common)
    runs = [
        ["lead", "show", "pin@example.com"],
        ["lead", "show", "pin-1", "--as-of", "2026-01-28T09:30:00Z"],
        ["lead", "timeline", "pin@example.com"],
        ["lead", "timeline", "00000000-0000-0000-0000-000000000007"],
        *[["report", name, *_flags(params)] for name, runs in REPORTS.items() for params in runs],
        *[["plan", *_flags(params)] for params in PLANS],
    ]
    answers = {}
    capsys.readouterr()  # whatever the story printed
    for argv in runs:
        args = parser.parse_args([*argv, "--json"])
        code = run_command(args, services.settings, services)
        out, _ = capsys.readouterr()
        answers[" ".join(argv)] = f"{code} {out}"
    return answers


def _flags(params: dict[str, Any]) -> list[str]:
    flags: list[str] = []
    for key, value in params.items():
        if key != "per_lead":  # the CLI's --json always has the per-lead stays
            flags += [f"--{key.replace('_', '-')}", str(value)]
    return flags


def test_every_json_answer_keeps_its_bytes(
    services: tuple[Services, ManualClock], capsys: pytest.CaptureFixture[str]
) -> None:
    served, _ = services
    answers = {"http": http_answers(served), "cli": cli_answers(served, capsys)}
    assert not sys.stdout.isatty()
    if os.environ.get("LIFECYCLE_PIN_JSON") == "write":
        PINNED.write_bytes(orjson.dumps(answers, option=orjson.OPT_INDENT_2) + b"\n")
    pinned = orjson.loads(PINNED.read_bytes())
    for kind in ("http", "cli"):
        assert list(answers[kind]) == list(pinned[kind])
        for name, answer in answers[kind].items():
            assert answer == pinned[kind][name], f"{kind} {name}"
