"""Given-helpers for API tests: leads created and driven over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from helpers import body, created

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

Headers = dict[str, str]


def new_lead(client: TestClient, headers: Headers, **fields: Any) -> dict[str, Any]:
    """Creates a lead over HTTP; returns its JSON."""
    response = client.post("/v1/leads", json=created(**fields), headers=headers)
    assert response.status_code == 201, response.text
    lead: dict[str, Any] = response.json()
    return lead


def drive(client: TestClient, headers: Headers, lead_id: str, *steps: str) -> dict[str, Any]:
    """Records `steps` (activity types with their default bodies); returns the last answer."""
    answer: dict[str, Any] = {}
    for step in steps:
        response = client.post(f"/v1/leads/{lead_id}/activities", json=body(step), headers=headers)
        assert response.status_code == 200, response.text
        answer = response.json()
    return answer


# ------------------------------------------------------------ `lifecycle` as a subprocess
REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "import sys; from lifecycle.bootstrap import main; sys.exit(main())"]


def run_cli(*argv: str, cwd: Path, exit_code: int = 0) -> subprocess.CompletedProcess[str]:
    """Runs `lifecycle ARGV…` from this checkout in its own process and checks its exit code.

    A process of its own, because the CLI sets up logging once per process for good.
    """
    done = subprocess.run(
        [*CLI, *argv], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == exit_code, done.stderr
    return done


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Served:
    """`lifecycle serve` on a free port until `stop()` (SIGTERM), which returns its exit code."""

    def __init__(
        self, database_url: str, cwd: Path, *options: str, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"serve-{self.port}-{time.monotonic_ns()}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*CLI, "serve", "--port", str(self.port), "--database-url", database_url,
                 *options],
                cwd=cwd, env=_env(), stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.wait_until_healthy()

    def wait_until_healthy(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"serve did not answer within {seconds} s:\n{self.log.read_text()}")

    def stop(self, seconds: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _env() -> dict[str, str]:
    paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
