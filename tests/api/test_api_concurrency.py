"""Two `lifecycle serve` processes on one PostgreSQL, 16 client threads, 50 leads.

Every accepted append is in its lead's timeline exactly once, nothing else is, every lead's
`seq`s run 1..n without a gap, each overdue timer fires once although both servers tick, and
the read models apply every event once although both servers catch up.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from api_support import Served, run_cli
from helpers import body, created

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LEADS, THREADS, APPENDS_PER_THREAD = 50, 16, 25
QUIET = 10  # leads no client touches: only the two servers' sweeps fire their timers


def test_two_servers_and_sixteen_clients_lose_and_duplicate_nothing(
    postgres_url: str, tmp_path: Path
):
    # The CLI creates every table once (a migrate step) before the servers start.
    token = run_cli(
        "token", "create", "--name", "load", "--scope", "admin", "--database-url", postgres_url,
        cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    servers = [Served(postgres_url, tmp_path, "--sweep-interval", "0.5") for _ in range(2)]
    auth = {"Authorization": f"Bearer {token}"}
    try:
        lead_ids = _overdue_leads(servers[0].url, auth)
        accepted = _append_from_threads([s.url for s in servers], auth, lead_ids)
        timelines = _when_every_timer_fired(servers[1].url, auth, lead_ids)
        feed = _whole_feed(servers[0].url, auth)
        time.sleep(2)  # both servers' catch-up loops pass over the last events
    finally:
        exit_codes = [server.stop() for server in servers]

    assert sum(len(markers) for markers in accepted.values()) > LEADS  # real contention
    for lead_id, events in timelines.items():
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        touched = [e["data"]["content"] for e in events if e["type"] == "touched"]
        assert sorted(touched) == sorted(accepted[lead_id])
        breaches = [e["data"]["policy"] for e in events if e["type"] == "sla_breached"]
        assert breaches.count("first_attempt") == 1
    assert Counter((e["lead_id"], e["seq"]) for e in feed) == Counter(
        (lead_id, e["seq"]) for lead_id, events in timelines.items() for e in events
    )
    assert [e["position"] for e in feed] == sorted({e["position"] for e in feed})
    assert _touch_rows(postgres_url) == sum(
        1 for events in timelines.values() for e in events if e["type"] in ("touched", "created")
    )
    assert exit_codes == [0, 0]


def _overdue_leads(url: str, auth: dict[str, str]) -> list[str]:
    """Leads assigned a week ago and never attempted: their first-attempt SLA is overdue."""
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    ids = []
    with httpx.Client(base_url=url, headers=auth, timeout=30) as client:
        for _ in range(LEADS):
            lead = client.post("/v1/leads", json=created(occurred_at=week_ago)).json()
            assigned = body("assigned", occurred_at=week_ago)
            client.post(f"/v1/leads/{lead['id']}/activities", json=assigned).raise_for_status()
            ids.append(lead["id"])
    return ids


def _append_from_threads(
    urls: list[str], auth: dict[str, str], lead_ids: list[str]
) -> dict[str, list[str]]:
    """Each thread appends marked touches to random leads through both servers in turn."""
    accepted: dict[str, list[str]] = defaultdict(list)
    failures: list[Any] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def client(number: int) -> None:
        rng = random.Random(number)
        clients = [httpx.Client(base_url=url, headers=auth, timeout=60) for url in urls]
        start.wait()
        for n in range(APPENDS_PER_THREAD):
            lead_id, marker = rng.choice(lead_ids[QUIET:]), f"t{number}-{n}"
            touch = body("touched", content=marker)
            response = clients[n % 2].post(f"/v1/leads/{lead_id}/activities", json=touch)
            with lock:
                if response.status_code == 200:
                    accepted[lead_id].append(marker)
                else:
                    failures.append((response.status_code, response.text))
        for each in clients:
            each.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    return accepted


def _when_every_timer_fired(
    url: str, auth: dict[str, str], lead_ids: list[str], seconds: float = 20
) -> dict[str, list[dict[str, Any]]]:
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, headers=auth, timeout=30) as client:
        while True:
            timelines = {
                i: client.get(f"/v1/leads/{i}/timeline").json()["events"] for i in lead_ids
            }
            fired = all(
                any(e["type"] == "sla_breached" for e in events) for events in timelines.values()
            )
            if fired or time.monotonic() > deadline:
                return timelines
            time.sleep(0.5)


def _whole_feed(url: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = 0
    with httpx.Client(base_url=url, headers=auth, timeout=30) as client:
        while page := client.get("/v1/events", params={"after": after, "limit": 333}).json():
            items += page["items"]
            if not page["items"]:
                return items
            after = page["next_after"]
    return items


def _touch_rows(postgres_url: str) -> int:
    server, _, query = postgres_url.partition("?")
    schema = query.removeprefix("schema=")
    with psycopg.connect(server) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{schema}".touches').fetchone()
    assert row is not None
    return int(row[0])
