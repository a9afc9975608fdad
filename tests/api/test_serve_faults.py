"""A real `serve` whose SQLite `-wal` or `-shm` cannot be written, then can again.

How the fault is made: the tests run as root here, and chmod does not stop root (nor, for
anyone, descriptors already open). `chattr +i`, the immutable flag, stops every process,
open descriptors included: ext4 refuses writes to `-wal` (SQLite: "disk I/O error", or
"attempt to write a readonly database" for a connection that opens it meanwhile), and a
write to the memory-mapped `-shm` kills the writer with SIGBUS. That is what the attack on
the service saw; the tests skip where the flag is not available (not root, another file
system).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from api_support import Served, run_cli
from helpers import created
from test_serve_processes import descendants

from lifecycle.storage import outage

pytestmark = pytest.mark.slow


def immutable_flag_works(folder: Path) -> bool:
    probe = folder / "chattr-probe"
    probe.write_text("x")
    try:
        done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, check=False)
    except FileNotFoundError:
        return False
    if done.returncode != 0:
        return False
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    probe.unlink()
    return True


def chattr(flag: str, *paths: Path) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    if not immutable_flag_works(tmp_path):
        pytest.skip("needs chattr +i (root, and a file system with the immutable flag)")
    return tmp_path


def _token(url: str, folder: Path) -> dict[str, str]:
    token = run_cli(
        "token", "create", "--name", "f", "--scope", "admin", "--database-url", url, cwd=folder
    ).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


def test_while_the_wal_cannot_be_written_writes_are_503_and_then_work_again(folder: Path):
    url = f"sqlite:///{folder}/wal.db"
    auth = _token(url, folder)
    server = Served(url, folder, "--workers", "2")
    wal = folder / "wal.db-wal"
    acknowledged: list[str] = []
    faulty: list[httpx.Response] = []
    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=10) as api:
            first = api.post("/v1/leads", json=created())
            acknowledged.append(first.json()["id"])
            chattr("+i", wal)
            try:
                faulty = [api.post("/v1/leads", json=created()) for _ in range(20)]
                not_ready = _within(lambda: api.get("/readyz"), 503, seconds=5)
                alive = api.get("/healthz")
            finally:
                chattr("-i", wal)
            fixed = time.monotonic()
            again = _within(lambda: api.post("/v1/leads", json=created()), 201, seconds=5)
            recovered_in = time.monotonic() - fixed
            acknowledged.append(again.json()["id"])
            ready = _within(lambda: api.get("/readyz"), 200, seconds=10)
            later = [api.post("/v1/leads", json=created()) for _ in range(10)]
            acknowledged += [answer.json()["id"] for answer in later if answer.status_code == 201]
            found = [api.get(f"/v1/leads/{lead}").status_code for lead in acknowledged]
    finally:
        exit_code = server.stop()

    assert first.status_code == 201
    assert {answer.status_code for answer in faulty} == {503}  # never a 500
    assert {answer.json()["error"]["code"] for answer in faulty} == {"unavailable"}
    assert {answer.headers["Retry-After"] for answer in faulty} == {str(outage.RETRY_AFTER)}
    assert not_ready.json()["checks"]["writes"]["status"] == "failing"
    assert alive.status_code == 200  # alive: nothing a restart would fix
    assert recovered_in < 5
    assert ready.json()["status"] == "ready"
    assert [answer.status_code for answer in later] == [201] * 10
    assert found == [200] * len(acknowledged)
    assert exit_code == 0, server.log.read_text()
    assert '"store_write_failed"' in server.log.read_text()


def test_a_shm_that_cannot_be_written_stops_serve_with_a_line_and_a_restart_recovers(
    folder: Path,
):
    url = f"sqlite:///{folder}/shm.db"
    auth = _token(url, folder)
    server = Served(url, folder, "--workers", "2")
    shm = folder / "shm.db-shm"
    workers = descendants(server.process.pid)
    with httpx.Client(base_url=server.url, headers=auth, timeout=10) as api:
        first = api.post("/v1/leads", json=created()).json()["id"]
        chattr("+i", shm)
        try:
            with contextlib.suppress(httpx.TransportError):  # the worker died under it
                api.post("/v1/leads", json=created())
            exit_code = server.process.wait(15)  # the catch-up writes within half a second
        finally:
            chattr("-i", shm)
            for pid in workers:  # ended with their main process; if not, here
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
    restarted = Served(url, folder, "--workers", "2", port=server.port)
    try:
        with httpx.Client(base_url=restarted.url, headers=auth, timeout=10) as api:
            kept = api.get(f"/v1/leads/{first}").status_code
            written = api.post("/v1/leads", json=created()).status_code
    finally:
        restarted.stop()

    assert exit_code == -signal.SIGBUS  # non-zero: a supervisor restarts it
    assert "Fatal Python error: Bus error" in server.log.read_text()  # faulthandler's line
    assert (kept, written) == (200, 201)


def _within(call, status: int, seconds: float) -> httpx.Response:  # type: ignore[no-untyped-def]
    """`call()`'s answer once it has `status` (fails after `seconds`)."""
    deadline = time.monotonic() + seconds
    while (answer := call()).status_code != status:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.1)
    return answer
