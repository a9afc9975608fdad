"""The real `lifecycle serve` in a subprocess: a lead from `created` to `won` over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import Served, run_cli
from helpers import body, created

from lifecycle.cli.common import cores
from lifecycle.runtime.niceness import BACKGROUND_NICENESS

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
    server = Served(url, tmp_path, "--workers", "1")  # everything in one process
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


def test_serve_with_two_worker_processes_loses_nothing_and_stops_cleanly(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/workers.db"
    token = run_cli(
        "token", "create", "--name", "w", "--scope", "admin", "--database-url", url, cwd=tmp_path
    ).stdout.strip()
    server = Served(url, tmp_path, "--workers", "2")
    auth = {"Authorization": f"Bearer {token}"}
    try:
        workers = _children(server.process.pid)
        background, serving = (
            _nice_values(server.process.pid),
            set().union(*map(_nice_values, workers)),
        )
        with httpx.Client(base_url=server.url, headers=auth) as api:
            leads = [api.post("/v1/leads", json=created()).json()["id"] for _ in range(4)]
        statuses: list[int] = []

        def client(number: int) -> None:
            with httpx.Client(base_url=server.url, headers=auth) as api:
                for n in range(10):
                    lead = leads[(number + n) % len(leads)]
                    answer = api.post(f"/v1/leads/{lead}/activities", json=body("touched"))
                    statuses.append(answer.status_code)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with httpx.Client(base_url=server.url, headers=auth) as api:
            timelines = [api.get(f"/v1/leads/{lead}/timeline").json()["events"] for lead in leads]
            # Every lead, not the first batch the catch-up happened to apply (it runs meanwhile).
            counted = eventually(
                lambda: _leads_counted(api.get("/v1/reports/funnel").json()) == len(leads)
            )
    finally:
        exit_code = server.stop()

    assert len(workers) >= 2  # the main process keeps the timers and read models
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert max(background) == max(ours, BACKGROUND_NICENESS)  # its catch-up thread gives way…
    assert serving == {ours}  # …to every thread of the workers
    assert statuses == [200] * 60
    assert sum(sum(e["type"] == "touched" for e in events) for events in timelines) == 60
    for events in timelines:
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert counted is True  # all 4 leads counted
    assert exit_code == 0, server.log.read_text()
    assert '"stopped"' in server.log.read_text()


def test_serve_by_default_serves_http_from_one_worker_process_per_core(tmp_path: Path):
    server = Served(f"sqlite:///{tmp_path}/default.db", tmp_path)
    exit_code = server.stop()

    lines = [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]
    serving = next(line for line in lines if line.get("event") == "serving")
    assert serving["workers"] == cores()
    assert exit_code == 0, server.log.read_text()


def _children(pid: int) -> list[int]:
    """The worker processes of `serve` (uvicorn's supervisor spawns them)."""
    found: list[int] = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(status.parent.name))
    return found


def _nice_values(pid: int) -> set[int]:
    """The nice values of the threads of process `pid` (field 19 of each thread's stat)."""
    values = set()
    for status in Path(f"/proc/{pid}/task").glob("*/stat"):
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            values.add(int(status.read_text().rsplit(")", 1)[1].split()[16]))
    return values


def _leads_counted(report: dict[str, Any]) -> int | None:
    return sum(row["leads"] for row in report["rows"]) or None
