"""Chaos: the database stops under load and starts again; serve answers 503, loses nothing.

The test runs a PostgreSQL cluster of its own (initdb + pg_ctl on a free port, as the
`postgres` OS user: the server refuses root), a real `lifecycle serve` on it, and a few
clients appending marked touches, each with an `Idempotency-Key`. The cluster is stopped
(`pg_ctl stop -m fast`) for a few seconds while the clients go on, then started again; the
clients retry what was not acknowledged with the same key. Afterwards every touch is in its
lead's timeline exactly once, every answer during the outage was a 503 (or the client gave
up waiting), none a 500, and serve works again without a restart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import Served, free_port, run_cli
from helpers import body, created

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
CLIENTS, LEADS = 4, 8
MOST_TOUCHES_PER_CLIENT = 1000  # the clients run until stopped; this only bounds a runaway
CLIENT_TIMEOUT = 4.0
OUTAGE_SECONDS = 4.0


class Cluster:
    """A throwaway PostgreSQL cluster on a free port, run by the `postgres` OS user."""

    def __init__(self, root: Path) -> None:
        self.root, self.data, self.port = root, root / "data", free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip

    def _as_postgres(self, tool: str, *argv: str) -> None:
        command = [str(PG_BIN / tool), *argv]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"{tool}: {done.stdout}\n{done.stderr}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            "pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.root / "pg.log"),
            "-o", options,
        )  # fmt: skip

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        message = f"the chaos test needs PostgreSQL 15's initdb and pg_ctl in {PG_BIN}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI needs them)")
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="lifecycle-chaos-"))
    shutil.chown(root, "postgres", "postgres")
    try:
        server = Cluster(root)
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(AssertionError):
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_database_outage_under_load_answers_503_and_records_every_write_once(
    cluster: Cluster, tmp_path: Path
):
    token = run_cli(
        "token", "create", "--name", "chaos", "--scope", "admin", "--database-url", cluster.url,
        cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    server = Served(cluster.url, tmp_path, "--workers", "1")
    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=30) as api:
            leads = [api.post("/v1/leads", json=created()).json()["id"] for _ in range(LEADS)]
        load = Load(server.url, auth, leads)
        load.start()
        time.sleep(1.5)  # the clients are under way
        outage_began = time.monotonic()
        cluster.stop()
        time.sleep(OUTAGE_SECONDS)
        cluster.start()
        outage_ended = time.monotonic()
        time.sleep(1)  # the clients go on past the outage, whatever the machine's speed
        load.stop()
        load.retry_unacknowledged()
        with httpx.Client(base_url=server.url, headers=auth, timeout=30) as api:
            timelines = {ref: api.get(f"/v1/leads/{ref}/timeline").json() for ref in leads}
            after = api.post(f"/v1/leads/{leads[0]}/activities", json=body("touched"))
            report = api.get("/v1/reports/status")
    finally:
        server.stop()
    log = server.log.read_text()

    during = [a for a in load.answers if outage_began <= a.at <= outage_ended + 1]
    assert during, "no request was answered or timed out during the outage"
    assert {a.status for a in load.answers} <= {200, 503, None}, Counter(
        a.status for a in load.answers
    )
    assert 503 in {a.status for a in during} or None in {a.status for a in during}
    assert not [a for a in load.answers if a.status == 503 and not a.retry_after], "Retry-After"
    recorded = Counter(
        e["data"]["content"]
        for events in timelines.values()
        for e in events["events"]
        if e["type"] == "touched" and e["data"].get("content")
    )
    assert set(load.acknowledged) <= set(recorded)  # every acknowledged write is there
    assert set(recorded) == set(load.markers)  # and every retried one; nothing else
    assert max(recorded.values()) == 1, recorded.most_common(3)  # nothing twice
    assert after.status_code == 200, after.text  # recovered without a restart
    assert report.status_code == 200, report.text
    assert '"internal_error"' not in log and "Traceback" not in log


class Answer:
    def __init__(self, status: int | None, retry_after: str | None) -> None:
        self.status, self.retry_after, self.at = status, retry_after, time.monotonic()


class Load:
    """Clients appending marked touches, each with the marker as its Idempotency-Key."""

    def __init__(self, url: str, auth: dict[str, str], leads: list[str]) -> None:
        self.url, self.auth, self.leads = url, auth, leads
        self.answers: list[Answer] = []
        self.acknowledged: list[str] = []
        self.unacknowledged: dict[str, str] = {}  # marker: lead
        self.markers: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(c,), daemon=True) for c in range(CLIENTS)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(60)
            assert not thread.is_alive(), "a client hung"

    def _client(self, number: int) -> None:
        with httpx.Client(base_url=self.url, headers=self.auth, timeout=CLIENT_TIMEOUT) as api:
            for n in range(MOST_TOUCHES_PER_CLIENT):
                if self._stopping.is_set():
                    return
                marker = f"c{number}-{n}"
                with self._lock:
                    self.markers.append(marker)
                lead = self.leads[(number + n) % len(self.leads)]
                if not self._send(api, lead, marker):
                    with self._lock:
                        self.unacknowledged[marker] = lead
                time.sleep(0.02)

    def _send(self, api: httpx.Client, lead: str, marker: str) -> bool:
        try:
            response = api.post(
                f"/v1/leads/{lead}/activities",
                json=body("touched", content=marker),
                headers={"Idempotency-Key": marker},
            )
        except httpx.TimeoutException:
            answer = Answer(None, None)
        else:
            answer = Answer(response.status_code, response.headers.get("Retry-After"))
        with self._lock:
            self.answers.append(answer)
            if answer.status == 200:
                self.acknowledged.append(marker)
        return answer.status == 200

    def retry_unacknowledged(self, seconds: float = 20) -> None:
        """What was not acknowledged, again with the same key, until it is."""
        deadline = time.monotonic() + seconds
        with httpx.Client(base_url=self.url, headers=self.auth, timeout=CLIENT_TIMEOUT) as api:
            while self.unacknowledged:
                assert time.monotonic() < deadline, f"{len(self.unacknowledged)} never acked"
                for marker, lead in list(self.unacknowledged.items()):
                    if self._send(api, lead, marker):
                        del self.unacknowledged[marker]
                if self.unacknowledged:
                    time.sleep(0.5)
