"""HTTP append benchmark: one `lifecycle serve`, a loopback load generator, both engines.

    python scripts/bench_http.py [--seconds 5] [--leads 200] [--engine sqlite|postgres]
                                 [--serve-workers 1 2] [--clients 4 8 16 32] [--half-runs 3]

For each engine (PostgreSQL when it answers at LIFECYCLE_TEST_DATABASE_URL) and each
`--serve-workers` count, on a fresh database: starts `lifecycle serve --workers N` with its
default logging (a JSON line per request, to /dev/null here), creates leads, then
  1. saturation: closed-loop clients (keep-alive, one request in flight each) posting one
     `touched` activity per request, at several concurrencies: the best requests/s;
  2. half load: an open-loop schedule at half that rate; latency is measured from each
     request's scheduled time (no coordinated omission): p50 / p99 / max; run
     `--half-runs` times, because this machine is shared and one run can land on a busy
     moment: the summary gives the median run (by p99) and every run's p99;
     meanwhile, how far the read models lag the log (`ReportLag`), and how long the disk
     takes to flush a small write (`DiskProbe`): every append waits for its commit to reach
     the disk, so no run's p99 can be below the disk's own stalls;
  3. the engine's raw single-row commit rate, measured in the same run on the same database
     (one connection, one INSERT + COMMIT per row, the store's own durability settings), and
     the ratio of appends/s to it.
The load generator is lean (asyncio, raw keep-alive HTTP/1.1, pre-encoded requests) and runs
in a process of its own, but on the same 2 cores as the server: read the figures as a floor.
The CPU time per request of the load generator and of the server shows where the CPU goes.

`--disk-noise N` reproduces a busy shared disk: N threads of another process append 64 KiB
and fsync it, in a loop, to files beside the database, for the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import resource
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
from collections import Counter
from collections.abc import Callable, Coroutine, Generator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
from benchdb import PG_URL, fresh_database

from lifecycle.app.ledger import LeadLedger
from lifecycle.storage.store import persistence_env

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "import sys; from lifecycle.bootstrap import main; sys.exit(main())"]
TOUCH = b'{"type":"touched","kind":"page_view"}'
OPEN_LOOP_CONNECTIONS = 8  # connected before the half-load clock starts
MAX_CONNECTIONS = 64  # the half-load pool grows on demand up to this


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


class ReportLag:
    """How long the read models take to reach what the log held, sampled every `every` s.

    A thread polls the log's head and the read models' lowest position; the lag of a sample
    is the time until the position reached that sample's head (what a report then shows):
    an upper bound on the append-to-report delay, to within `every`.
    """

    def __init__(self, url: str, every: float = 0.05) -> None:
        self.url = url
        self.every = every
        self.samples: list[tuple[float, int, int]] = []  # (time, head, lowest position)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ReportLag:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def worst(self) -> float:
        """The longest lag seen, in seconds (a head never reached counts up to the end)."""
        worst = 0.0
        for n, (at, head, _) in enumerate(self.samples):
            reached = next((t for t, _, low in self.samples[n:] if low >= head), None)
            worst = max(worst, (reached or self.samples[-1][0]) - at)
        return worst

    def _poll(self) -> None:
        ledger = LeadLedger(persistence_env(self.url), lambda: datetime.now(UTC))
        try:
            with contextlib.closing(self._positions()) as lowest:
                while not self._stop.wait(self.every):
                    head = ledger.recorder.max_notification_id() or 0
                    self.samples.append((time.perf_counter(), head, lowest.send(None)))
        finally:
            ledger.close()

    def _positions(self) -> Generator[int, None, None]:
        """Yields the lowest projection position each time it is sent None (read-only)."""
        query = "SELECT min(position) FROM projection_positions"
        if self.url.startswith("sqlite:///"):
            path = self.url.removeprefix("sqlite:///")
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            try:
                while True:
                    yield conn.execute(query).fetchone()[0] or 0
            finally:
                conn.close()
        server, _, schema = self.url.partition("?schema=")
        with psycopg.connect(server, autocommit=True) as pg:
            pg.execute(f"SET search_path TO {schema}")
            while True:
                yield pg.execute(query).fetchone()[0] or 0  # type: ignore[index]


class DiskProbe:
    """How long the disk takes to flush a small write, sampled every `every` s during a run.

    A thread rewrites one 4 KiB block of a file in `folder` (on the database's disk) and waits
    for `fdatasync`, as a SQLite commit waits for its log. Every append waits for a flush like
    it, so while the disk stalls (a flush of `STALL` ms or more) every append waits: a run
    whose disk stalled for more than 1% of its time cannot have a p99 below those stalls.
    The stalled share is a lower bound: the probe sees a stall from when its flush began.
    """

    STALL = 10.0  # ms

    def __init__(self, folder: Path, every: float = 0.01) -> None:
        self.path = folder / "disk-probe"
        self.every = every
        self.flushes: list[float] = []  # ms
        self.elapsed = 0.0  # ms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def __enter__(self) -> DiskProbe:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.elapsed = (time.perf_counter() - self._started) * 1000

    def summary(self) -> str:
        flushes = sorted(self.flushes)
        if len(flushes) < 2:
            return "disk flushes not measured"
        p99 = statistics.quantiles(flushes, n=100)[98]
        stalled = sum(f for f in flushes if f >= self.STALL) / max(self.elapsed, 1.0)
        return (
            f"disk flush p99 {p99:.1f} ms, longest {flushes[-1]:.1f} ms, "
            f"stalled {stalled:.1%} of the time"
        )

    def _probe(self) -> None:
        block = os.urandom(4096)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, block, 0)
            os.fsync(fd)  # allocated once: each probe then flushes data, as a reused log does
            while not self._stop.wait(self.every):
                started = time.perf_counter()
                os.pwrite(fd, block, 0)
                os.fdatasync(fd)
                self.flushes.append((time.perf_counter() - started) * 1000)
        finally:
            os.close(fd)


@contextlib.contextmanager
def disk_noise(folder: Path, writers: int) -> Generator[None, None, None]:
    """Another process keeping the disk busy (`--disk-noise`), for as long as this lasts."""
    if writers <= 0:
        yield
        return
    noise = multiprocessing.get_context("spawn").Process(
        target=_make_noise, args=(folder, writers), daemon=True
    )
    noise.start()
    try:
        yield
    finally:
        noise.terminate()
        noise.join()


def _make_noise(folder: Path, writers: int) -> None:
    def write(n: int) -> None:
        chunk = os.urandom(64 * 1024)
        fd = os.open(folder / f"noise-{n}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        while True:  # a growing file, emptied every 256 MiB: the file system's journal works too
            for _ in range(4096):
                os.write(fd, chunk)
                os.fsync(fd)
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)

    threads = [threading.Thread(target=write, args=(n,), daemon=True) for n in range(writers)]
    for thread in threads:
        thread.start()
    threads[0].join()


# --------------------------------------------------------------------------- server
class Server:
    def __init__(self, url: str, folder: Path, workers: int = 1) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        token = subprocess.run(
            [*CLI, "token", "create", "--name", "bench", "--scope", "admin",
             "--database-url", url],
            cwd=folder, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        self.token = token.stdout.strip()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.port), "--database-url", url,
             "--workers", str(workers)],
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
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def cpu_seconds(self) -> float:
        """User + system CPU time `serve` has used so far: all its threads, and its worker
        processes with `--workers`."""
        stats: dict[int, list[str]] = {}
        for path in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):  # a process that just ended
                stats[int(path.parent.name)] = path.read_text().rpartition(")")[2].split()
        tree, grew = {self.process.pid}, True
        while grew:  # fields from 3 (state) on: [1] is the parent's pid
            found = {pid for pid, fields in stats.items() if int(fields[1]) in tree}
            grew = not found <= tree
            tree |= found
        ticks = sum(int(stats[pid][11]) + int(stats[pid][12]) for pid in tree if pid in stats)
        return ticks / os.sysconf("SC_CLK_TCK")

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


# ----------------------------------------------------------------- load generator
# Everything here runs in the load process: see `Load`.


@dataclass(frozen=True)
class Target:
    """Where to send the appends, and as whom."""

    port: int
    token: str
    leads: tuple[str, ...]
    host: str = "127.0.0.1"

    def requests(self) -> list[bytes]:
        """One pre-encoded `touched` append per lead."""
        return [
            (
                f"POST /v1/leads/{quote(lead, safe='')}/activities HTTP/1.1\r\n"
                f"Host: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {self.token}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(TOUCH)}\r\n\r\n"
            ).encode()
            + TOUCH
            for lead in self.leads
        ]


@dataclass
class LoadResult:
    """What one load phase saw, measured in the load process."""

    statuses: Counter[int]  # responses by status; 0 counts transport errors
    elapsed: float  # seconds
    cpu: float  # the load process's user + system seconds
    connections: int
    reconnects: int  # after the server closed a connection, or a transport error
    latencies: list[float] = field(default_factory=list)  # ms after each scheduled time

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def failures(self) -> dict[int, int]:
        return {status: n for status, n in sorted(self.statuses.items()) if status != 200}


class Connection:
    """A keep-alive HTTP/1.1 connection; it reconnects when the server has closed it."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.connects = 0

    @property
    def reconnects(self) -> int:
        return max(self.connects - 1, 0)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.streams is None or self.streams[0].at_eof():
            self.close()
            self.streams = await asyncio.open_connection(self.target.host, self.target.port)
            self.connects += 1
        return self.streams

    async def send(self, request: bytes) -> int:
        """Send one request, read its whole response: its status, 0 on a transport error."""
        try:
            reader, writer = await self.connect()
            writer.write(request)
            status, keep_alive = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.close()
            return 0
        if not keep_alive:
            self.close()
        return status

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response: its status, and whether the connection stays open after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *headers = head[:-4].split(b"\r\n")
    version, status = status_line.split(b" ", 2)[:2]
    keep_alive = version == b"HTTP/1.1"
    length: int | None = None
    chunked = False
    for header in headers:
        name, _, value = header.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = value.strip().lower().endswith(b"chunked")
        elif name == b"connection":
            keep_alive = b"close" not in value.lower() and (
                keep_alive or b"keep-alive" in value.lower()
            )
    code = int(status)
    if chunked:
        await read_chunked(reader)
    elif length is not None:
        await reader.readexactly(length)
    elif code not in (204, 304):  # no length: the body runs to the end of the connection
        await reader.read()
        keep_alive = False
    return code, keep_alive


async def read_chunked(reader: asyncio.StreamReader) -> None:
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        await reader.readexactly(size + 2)  # the chunk and its CRLF
    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the empty line
        pass


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def saturate(target: Target, clients: int, seconds: float) -> LoadResult:
    """Closed loop: `clients` connections, each sending the next request when one returns."""
    requests = target.requests()
    connections = [Connection(target) for _ in range(clients)]
    for connection in connections:
        await connection.connect()  # connected before the clock starts
    statuses: Counter[int] = Counter()
    stop_at = time.perf_counter() + seconds

    async def client(connection: Connection, rng: random.Random) -> None:
        while time.perf_counter() < stop_at:
            statuses[await connection.send(rng.choice(requests))] += 1

    started, cpu = time.perf_counter(), cpu_seconds()
    await asyncio.gather(*(client(c, random.Random(i)) for i, c in enumerate(connections)))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    for connection in connections:
        connection.close()
    return _result(statuses, elapsed, cpu, connections)


async def open_loop(target: Target, rate: float, seconds: float) -> LoadResult:
    """Requests scheduled at `rate`/s, each sent on a free connection from a pool that grows
    on demand; latency (ms) counted from each scheduled time."""
    requests = target.requests()
    rng = random.Random(0)
    connections = [Connection(target) for _ in range(OPEN_LOOP_CONNECTIONS)]
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in connections:
        await connection.connect()  # connected before the clock starts
        free.put_nowait(connection)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def send(request: bytes, due: float) -> None:
        if free.empty() and len(connections) < MAX_CONNECTIONS:
            connection = Connection(target)
            connections.append(connection)
        else:
            connection = await free.get()
        statuses[await connection.send(request)] += 1
        latencies.append((time.perf_counter() - due) * 1000)
        free.put_nowait(connection)

    interval = 1 / rate
    tasks = []
    started, cpu = time.perf_counter(), cpu_seconds()
    for n in range(int(rate * seconds)):
        due = started + n * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(rng.choice(requests), due)))
    await asyncio.gather(*tasks)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    for connection in connections:
        connection.close()
    return _result(statuses, elapsed, cpu, connections, latencies)


def _result(
    statuses: Counter[int],
    elapsed: float,
    cpu: float,
    connections: list[Connection],
    latencies: list[float] | None = None,
) -> LoadResult:
    reconnects = sum(c.reconnects for c in connections)
    return LoadResult(statuses, elapsed, cpu, len(connections), reconnects, latencies or [])


def _in_loop(
    phase: Callable[..., Coroutine[object, object, LoadResult]], *args: object
) -> LoadResult:
    """Run one load phase on a fresh event loop (uvloop's when installed)."""
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(phase(*args))


class Load:
    """The load generator: one spawned process of its own; this side only collects results."""

    def __init__(self) -> None:
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def saturate(self, target: Target, clients: int, seconds: float) -> LoadResult:
        return self.pool.submit(_in_loop, saturate, target, clients, seconds).result()

    def open_loop(self, target: Target, rate: float, seconds: float) -> LoadResult:
        return self.pool.submit(_in_loop, open_loop, target, rate, seconds).result()

    def close(self) -> None:
        self.pool.shutdown()


# --------------------------------------------------------------------------- runs
def run(engine: str, workers: int, args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory() as name,
        fresh_database(engine, Path(name)) as url,
        contextlib.closing(Load()) as load,
        disk_noise(Path(name), args.disk_noise),
    ):
        server = Server(url, Path(name), workers)
        try:
            target = Target(server.port, server.token, tuple(create_leads(server, args.leads)))
            load.saturate(target, 4, 1.0)  # warm up (and start the load process)
            runs: list[tuple[float, int, LoadResult, float]] = []
            for clients in args.clients:
                server_cpu = server.cpu_seconds()
                result = load.saturate(target, clients, args.seconds)
                server_cpu = server.cpu_seconds() - server_cpu
                rate = result.statuses[200] / result.elapsed
                print(
                    f"  {engine}, {workers} worker(s), {clients:>2} clients: {rate:,.0f} appends/s;"
                    " CPU per request: "
                    f"load generator {_micros(result.cpu, result)}, "
                    f"server {_micros(server_cpu, result)}{_oddities(result)}"
                )
                runs.append((rate, clients, result, server_cpu))
            rate, clients, saturated, server_cpu = max(runs, key=lambda r: r[0])
            time.sleep(args.settle)  # the read models catch up on the saturation runs first
            half_rate = args.half_rate or rate / 2
            halves: list[tuple[float, float, LoadResult, float, str]] = []
            for n in range(args.half_runs):  # each: p99, p50, the run, report lag, disk
                time.sleep(1.0 if n else 0.0)
                with ReportLag(url) as lag, DiskProbe(Path(name)) as disk:
                    half = load.open_loop(target, half_rate, args.seconds)
                p50, p99 = _percentiles(half)
                halves.append((p99, p50, half, lag.worst(), disk.summary()))
                print(
                    f"  {engine}, {workers} worker(s), half load ({half_rate:,.0f}/s) run {n + 1}: "
                    f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(half.latencies):.1f} ms; "
                    f"{disk.summary()}"
                )
        finally:
            server.stop()
        raw = raw_commits_per_second(url)
    halves.sort(key=lambda each: each[0])
    p99s = [each[0] for each in halves]
    p99, p50, half, worst_lag, disk = halves[len(halves) // 2]  # the median run, by p99
    runs_note = f"; p99 of the {len(p99s)} runs: " + ", ".join(f"{v:.1f}" for v in p99s)
    print(
        f"{engine}, serve --workers {workers}: saturation {rate:,.0f} appends/s "
        f"({clients} clients; CPU per request: "
        f"load generator {_micros(saturated.cpu, saturated)}, "
        f"server {_micros(server_cpu, saturated)}); "
        f"at half load ({half_rate:,.0f}/s, the median run) p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {max(half.latencies):.1f} ms, {disk} "
        f"(load generator {_micros(half.cpu, half)}/request, "
        f"{half.connections} connections{_oddities(half)}{runs_note if len(p99s) > 1 else ''}); "
        f"reports lag at most {worst_lag:.2f} s; raw single-row commits {raw:,.0f}/s; "
        f"appends/commit limit = {rate / raw:.2f}"
    )


def _percentiles(result: LoadResult) -> tuple[float, float]:
    """p50 and p99 of a run's latencies, in ms."""
    cut = statistics.quantiles(result.latencies, n=100)
    return cut[49], cut[98]


def _micros(seconds: float, result: LoadResult) -> str:
    return f"{seconds / max(result.requests, 1) * 1e6:,.0f} µs"


def _oddities(result: LoadResult) -> str:
    """Non-200 answers (0: transport errors) and reconnects, if any."""
    notes = [f"non-200 {result.failures}"] if result.failures else []
    if result.reconnects:
        notes.append(f"{result.reconnects} reconnects")
    return f"; {', '.join(notes)}" if notes else ""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument(
        "--half-rate", type=float, help="the open-loop rate (default: half the saturation)"
    )
    parser.add_argument("--settle", type=float, default=5.0, help="pause before half load")
    parser.add_argument(
        "--half-runs",
        type=int,
        default=3,
        help="half-load runs (the machine is shared: the summary quotes the median run's "
        "figures and every run's p99)",
    )
    parser.add_argument(
        "--clients", type=int, nargs="+", default=[4, 8, 16, 32], help="saturation concurrencies"
    )
    parser.add_argument(
        "--serve-workers", type=int, nargs="+", default=[1, 2], help="serve --workers N, each"
    )
    parser.add_argument("--engine", choices=["sqlite", "postgres"], action="append")
    parser.add_argument(
        "--disk-noise",
        type=int,
        default=0,
        metavar="N",
        help="N threads of another process writing and fsyncing beside the database, to "
        "measure on a busy disk (default 0)",
    )
    args = parser.parse_args()
    engines = args.engine or ["sqlite", "postgres"]
    for engine in engines:
        if engine == "postgres":
            try:
                psycopg.connect(PG_URL, connect_timeout=2).close()
            except psycopg.Error as error:
                print(f"(PostgreSQL skipped: {error})")
                continue
        for workers in args.serve_workers:
            run(engine, workers, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
