"""HTTP append benchmark: one `lifecycle serve`, a loopback load generator, both engines.

    python scripts/bench_http.py [--seconds 5] [--leads 200] [--engine sqlite|postgres]

For each engine (PostgreSQL when it answers at LIFECYCLE_TEST_DATABASE_URL) on a fresh
database: starts `lifecycle serve`, creates leads, then
  1. saturation: closed-loop clients (keep-alive, one request in flight each) posting one
     `touched` activity per request, at several concurrencies: the best requests/s;
  2. half load: an open-loop schedule at half that rate; latency is measured from each
     request's scheduled time (no coordinated omission): p50 / p99;
  3. the engine's raw single-row commit rate, measured in the same run on the same database
     (one connection, one INSERT + COMMIT per row, the store's own durability settings), and
     the ratio of appends/s to it.
The client runs on the same 2 cores as the server: read the figures as a floor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from benchdb import PG_URL, fresh_database

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "import sys; from lifecycle.cli import main; sys.exit(main())"]
TOUCH = {"type": "touched", "kind": "page_view"}


# ------------------------------------------------------------------------ databases


def raw_commits_per_second(url: str, seconds: float = 2.0) -> float:
    """Single-row INSERT + COMMIT in a loop, one connection, on the benchmark's database."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")  # as eventsourcing's SQLite store
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commits (n INTEGER, body TEXT)")

        def commit(n: int) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bench_commits VALUES (?, ?)", (n, "x" * 300))
            conn.execute("COMMIT")

        rate = _rate(commit, seconds)
        conn.close()
        return rate
    server, _, query = url.partition("?")
    schema = query.removeprefix("schema=")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {schema}.bench_commits (n BIGINT, body TEXT)")

        def commit_pg(n: int) -> None:
            with conn.transaction():
                conn.execute(f"INSERT INTO {schema}.bench_commits VALUES (%s, %s)", (n, "x" * 300))

        return _rate(commit_pg, seconds)


def _rate(commit: Callable[[int], None], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        commit(done)
        done += 1
    return done / (time.perf_counter() - started)


# --------------------------------------------------------------------------- server
class Server:
    def __init__(self, url: str, folder: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        token = subprocess.run(
            [*CLI, "token", "create", "--name", "bench", "--scope", "admin",
             "--database-url", url],
            cwd=folder, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        self.headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--database-url", url, "--log-level", "warning"],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise SystemExit("serve did not start")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.headers, timeout=30)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)


def create_leads(server: Server, count: int) -> list[str]:
    with server.client() as client:
        return [
            client.post(
                "/v1/leads", json={"type": "created", "email": f"b{n}-{uuid.uuid4().hex}@x.io"}
            ).json()["id"]
            for n in range(count)
        ]


# --------------------------------------------------------------------------- load
def saturation(server: Server, leads: list[str], workers: int, seconds: float) -> float:
    """Closed loop: `workers` clients, each sending the next request when one returns."""
    stop_at = time.perf_counter() + seconds
    counts = [0] * workers
    errors: list[int] = []

    def work(i: int) -> None:
        rng = random.Random(i)
        with server.client() as client:
            while time.perf_counter() < stop_at:
                lead = rng.choice(leads)
                response = client.post(f"/v1/leads/{lead}/activities", json=TOUCH)
                if response.status_code == 200:
                    counts[i] += 1
                else:
                    errors.append(response.status_code)

    started = time.perf_counter()
    _in_threads(workers, work)
    elapsed = time.perf_counter() - started
    if errors:
        print(f"    ({len(errors)} errors: {sorted(set(errors))})")
    return sum(counts) / elapsed


def open_loop(server: Server, leads: list[str], rate: float, seconds: float) -> list[float]:
    """Requests scheduled at `rate`/s; latency (ms) counted from each scheduled time."""
    total = int(rate * seconds)
    interval = 1 / rate
    workers = 32
    latencies: list[float] = []
    lock = threading.Lock()
    start = [0.0]

    def set_start() -> None:
        start[0] = time.perf_counter() + 0.05

    ready = threading.Barrier(workers, action=set_start)

    def work(i: int) -> None:
        rng = random.Random(i)
        with server.client() as client:
            client.get("/healthz")  # connected before the clock starts
            ready.wait()
            for n in range(i, total, workers):
                due = start[0] + n * interval
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                client.post(f"/v1/leads/{rng.choice(leads)}/activities", json=TOUCH)
                with lock:
                    latencies.append((time.perf_counter() - due) * 1000)

    _in_threads(workers, work)
    return latencies


def _in_threads(count: int, work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run(engine: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as name, fresh_database(engine, Path(name)) as url:
        server = Server(url, Path(name))
        try:
            leads = create_leads(server, args.leads)
            saturation(server, leads, 4, 1.0)  # warm up
            best, best_workers = 0.0, 0
            for workers in args.workers:
                rate = saturation(server, leads, workers, args.seconds)
                print(f"  {engine}: {workers:>2} clients: {rate:,.0f} appends/s")
                if rate > best:
                    best, best_workers = rate, workers
            time.sleep(args.settle)  # the read models catch up on the saturation runs first
            latencies = open_loop(server, leads, best / 2, args.seconds)
        finally:
            server.stop()
        raw = raw_commits_per_second(url)
    cut = statistics.quantiles(latencies, n=100)
    print(
        f"{engine}: saturation {best:,.0f} appends/s ({best_workers} clients); at half load "
        f"({best / 2:,.0f}/s) p50 {cut[49]:.1f} ms, p99 {cut[98]:.1f} ms; raw single-row "
        f"commits {raw:,.0f}/s; appends/commit limit = {best / raw:.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--settle", type=float, default=5.0, help="pause before half load")
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], action="append")
    args = parser.parse_args()
    engines = args.engine or ["sqlite", "postgres"]
    for engine in engines:
        if engine == "postgres":
            try:
                psycopg.connect(PG_URL, connect_timeout=2).close()
            except psycopg.Error as error:
                print(f"(PostgreSQL skipped: {error})")
                continue
        run(engine, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
