"""`lifecycle serve`'s processes live and die together (`lifecycle.runtime.lifeline`).

Real processes: a `serve --workers 2` on SQLite killed with SIGKILL, and small parent/child
pairs for the ways a worker learns that its parent is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from api_support import REPO, Served, _env, run_cli
from helpers import created

pytestmark = pytest.mark.slow


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (children, their children…)."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(status.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def until(check: object, seconds: float) -> float:
    """Seconds until `check()` is true; fails after `seconds`."""
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_killing_serve_ends_its_workers_and_a_new_serve_takes_the_port_at_once(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/crash.db"
    token = run_cli(
        "token", "create", "--name", "k", "--scope", "admin", "--database-url", url, cwd=tmp_path
    ).stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    first = Served(url, tmp_path, "--workers", "2")
    workers = descendants(first.process.pid)
    assert len(workers) >= 2
    with httpx.Client(base_url=first.url, headers=auth) as api:
        assert api.post("/v1/leads", json=created()).status_code == 201

    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    killed = time.monotonic()
    # Started at once, while the old workers may still be stopping (they may even answer its
    # first health check): it waits for them to let go of the port.
    second = Served(url, tmp_path, "--workers", "2", port=first.port)
    try:
        gone = until(lambda: not any(alive(pid) for pid in workers), seconds=5)
        second.wait_until_healthy()
        answering = time.monotonic() - killed
        with httpx.Client(base_url=second.url, headers=auth) as api:
            answer = api.post("/v1/leads", json=created())
            served_by_new = descendants(second.process.pid)
    finally:
        exit_code = second.stop()
        _end(workers)  # what is left of them if the test failed

    assert gone < 5
    assert answering < 20  # a fresh serve here takes 2 s; 20 allows for a busy machine
    assert answer.status_code == 201
    assert served_by_new and not served_by_new & workers
    assert exit_code == 0, second.log.read_text()


def test_a_killed_worker_is_replaced(tmp_path: Path):
    server = Served(f"sqlite:///{tmp_path}/replace.db", tmp_path, "--workers", "2")
    try:
        before = descendants(server.process.pid)
        victim = max(before)
        os.kill(victim, signal.SIGKILL)
        until(lambda: len(descendants(server.process.pid) - before) >= 1, seconds=15)
        for _ in range(10):  # whichever worker takes the connection
            assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    finally:
        exit_code = server.stop()

    assert exit_code == 0, server.log.read_text()


def _end(pids: set[int]) -> None:
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------ the lifeline alone
# A parent that starts a child calling `bind_to_parent`, prints the child's pid, then waits.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
print(child.pid, flush=True)
time.sleep(60)
"""
CHILD = """
import os, signal, sys, time
from lifecycle.runtime.lifeline import bind_to_parent
how = bind_to_parent(os.getppid(){extra}, use_prctl={prctl})
with open({report!r}, "w") as report:
    report.write(how)
time.sleep(60)
"""


def _pair(tmp_path: Path, prctl: bool, extra: str = "") -> tuple[subprocess.Popen[str], int, Path]:
    report = tmp_path / f"how-{prctl}-{bool(extra)}"
    child = textwrap.dedent(CHILD).format(prctl=prctl, extra=extra, report=str(report))
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, child],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    with parent.stdout:
        pid = int(parent.stdout.readline())
    return parent, pid, report


@pytest.mark.parametrize(
    ("prctl", "expected"),
    [(True, "prctl" if sys.platform.startswith("linux") else "watchdog"), (False, "watchdog")],
)
def test_a_bound_child_stops_when_its_parent_is_killed(tmp_path: Path, prctl: bool, expected: str):
    parent, child, report = _pair(tmp_path, prctl)
    until(report.exists, seconds=15)
    until(lambda: report.read_text() != "", seconds=5)

    parent.kill()
    parent.wait()

    assert until(lambda: not alive(child), seconds=5) < 5
    assert report.read_text() == expected


def test_a_child_whose_parent_is_already_gone_stops_at_once(tmp_path: Path):
    # The parent it names is not its parent: as if the parent had died before prctl.
    parent, child, report = _pair(tmp_path, prctl=True, extra=" + 1_000_000")
    try:
        until(lambda: not alive(child), seconds=15)
    finally:
        parent.kill()
        parent.wait()

    assert report.exists() is False  # stopped inside bind_to_parent, by SIGTERM
