"""`lifecycle serve`: the HTTP API, the scheduler sweep and the projection catch-up.

`--workers N` (N > 1; the default is one per CPU core) serves HTTP from N worker processes
sharing the socket (uvicorn's supervisor restarts any that dies); the main process keeps the
sweep and the catch-up, which need no more than one runner each, at a lower CPU priority
(`lifecycle.runtime.niceness`). One interpreter lock per process is why: in one process the request
threads, the group writer and the catch-up take turns on one lock and one core, and a
request waited for the others' turns (see docs/performance.md). `--workers 1`
runs everything in one process, for a machine with one core or a small footprint.

The processes live and die together: a worker stops (SIGTERM, gracefully) when the main
process dies, however it dies (`lifecycle.runtime.lifeline`), and uvicorn replaces a worker that
dies. A restarted `serve` waits up to `BIND_WAIT` seconds for the port while its
predecessor's workers let go of it. Every process has `faulthandler` on, so even a fatal
signal (SIGBUS from a SQLite `-shm` that cannot be written) leaves a traceback on stderr.

Workers are independent writers of the same store: each has its own group writer and caches,
kept coherent by the store (a cached lead is brought up to date before each use, and a stale
write is refused and re-run).

Several `serve` processes may share one PostgreSQL: timers fire once (`tick` locks the due rows
with SKIP LOCKED and every fire re-checks the lead) and projections apply each event once
(runners serialize on their position row). SIGTERM and Ctrl-C shut down in order: uvicorn
stops accepting and finishes the requests in flight, then the sweep lets a running tick end,
then the catch-up loop ends its batch. Every batch is one transaction, so nothing is ever
half-written, whenever the process dies.
"""

from __future__ import annotations

import argparse
import errno
import faulthandler
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from ..app.ledger import Clock
from ..domain.errors import LifecycleError
from ..logs import get_logger, set_level
from ..projections.quarantine import describe
from ..projections.runner import ProjectionRunner
from ..runtime.heap import freeze_startup_heap
from ..runtime.lifeline import PARENT_PID, WORKER_LOG_LEVEL
from ..runtime.niceness import BACKGROUND_NICENESS, lower_this_thread
from ..runtime.settings import Settings
from ..scheduler.sweep import DEFAULT_INTERVAL, start_sweep, stop_sweep
from ..scheduler.tick import TickParts
from .common import cores, positive_int, print_error

if TYPE_CHECKING:
    import uvicorn
    from uvicorn._types import ASGIApplication

WORKER_APP = "lifecycle.bootstrap:worker_app"
CATCH_UP_INTERVAL = 0.5
CATCH_UP_MAX_BACKOFF = 5.0  # seconds between passes while they fail (the database is down)
# Events per catch-up transaction. On SQLite a batch is computed without the database's write
# lock but written holding it, and appends wait meanwhile: 0.3 ms for one event, 3 ms for a
# hundred here. Batches of 50 keep that wait near 1 ms (the runner's default of 2000 suits a
# rebuild, not a server taking writes); more batches cost little, a commit each.
CATCH_UP_BATCH = 50
BIND_WAIT = 10.0  # seconds a restarted serve waits for its predecessor's workers to let go
log = get_logger(__name__)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    serve = subparsers.add_parser(
        "serve",
        parents=[common],
        help="run the HTTP API with the scheduler and the projections",
        description="Serves the HTTP API (OpenAPI at /openapi.json) and, in the same process, "
        "ticks the timers and keeps the read models caught up. Stop with SIGTERM or Ctrl-C.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--sweep-interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between timer ticks (default {DEFAULT_INTERVAL:g})",
    )
    serve.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="HTTP worker processes (default: one per CPU core); with N > 1 the main process "
        "runs the timers and the read models, and N processes serve HTTP; 1 runs everything "
        "in one process",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=run_serve)


def run_serve(
    args: argparse.Namespace,
    parts: TickParts,
    clock: Clock,
    settings: Settings,
    app: Callable[[], ASGIApplication],
) -> int:
    # The web stack is imported here, not with this module: every other command starts faster
    # (a rebuild's worker processes too).
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    faulthandler.enable()  # a fatal signal (SIGBUS from a SQLite -shm file) leaves a traceback
    set_level(args.log_level)
    if args.workers is None:
        args.workers = cores()
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_config": None,  # our request log replaces uvicorn's access log
        "access_log": False,
    }
    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        log.error("bind_failed", host=args.host, port=args.port, error=str(error))
        print_error(LifecycleError(f"cannot listen on {args.host}:{args.port}: {error}"))
        return 1
    parts.runner.batch_size = CATCH_UP_BATCH
    # With HTTP in worker processes, the background threads give way to them (`niceness`).
    niceness = BACKGROUND_NICENESS if args.workers > 1 else 0
    catch_up = CatchUpLoop(parts.runner, niceness=niceness)
    sweep = start_sweep(parts, clock, args.sweep_interval, niceness=niceness)
    catch_up.start()
    log.info("serving", host=args.host, port=args.port, workers=args.workers)
    try:
        if args.workers == 1:
            config = uvicorn.Config(app(), lifespan="off", **options)
            config.load()  # uvicorn's protocol classes too, before the heap is frozen
            freeze_startup_heap()
            _serve_here(config, sock)
        else:
            _hand_down(settings, args.log_level)
            freeze_startup_heap()  # the sweep's and catch-up's process (workers freeze their own)
            config = uvicorn.Config(
                WORKER_APP, factory=True, workers=args.workers, lifespan="on", **options
            )
            Multiprocess(config, sockets=[sock]).run()
    finally:
        stop_sweep(sweep)
        catch_up.stop()
        log.info("stopped")
    return 0


def bind(host: str, port: int, wait: float = BIND_WAIT) -> socket.socket:
    """A socket bound to `host:port`, waiting up to `wait` seconds while the port is taken.

    A `serve` restarted right after its predecessor died finds the port held for a moment
    by the old workers, which are stopping (`lifecycle.runtime.lifeline`): it waits for them
    instead of failing with "Address already in use". Any other error fails at once.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + wait
    logged = False
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            sock.close()
            if error.errno != errno.EADDRINUSE or time.monotonic() >= deadline:
                raise
            if not logged:
                log.warning("port_busy", host=host, port=port, waiting_seconds=wait)
                logged = True
            time.sleep(0.05)
            continue
        sock.set_inheritable(True)  # handed to the worker processes
        return sock


def _serve_here(config: uvicorn.Config, sock: socket.socket) -> None:
    import uvicorn

    server = uvicorn.Server(config)
    # uvicorn handles SIGTERM while it runs and raises it again once it has stopped; this
    # handler then makes that a clean return (and covers a SIGTERM before uvicorn started).
    signal.signal(signal.SIGTERM, lambda _sig, _frame: _stop(server))
    server.run(sockets=[sock])


def _hand_down(settings: Settings, log_level: str) -> None:
    """The settings the worker processes read (`bootstrap.worker_app`)."""
    os.environ.update(settings.as_env())
    os.environ[WORKER_LOG_LEVEL] = log_level
    os.environ[PARENT_PID] = str(os.getpid())  # the workers end with this process


class CatchUpLoop:
    """Applies new events to every read model every `interval` seconds, in a thread.

    A failed pass (the database down or restarting, say) is retried: the runner's batches are
    atomic, so a failure leaves nothing to repair, and an event that cannot be applied never
    fails a pass (the runner quarantines its lead, `projections.quarantine`). While passes fail
    the loop logs once (`catch_up_failed`, with the first traceback), waits twice as long after
    each failure up to `max_backoff` seconds, and logs once when a pass succeeds again
    (`catch_up_recovered`). With `niceness` > 0 the thread runs at that lower priority
    (`lifecycle.runtime.niceness`).
    """

    def __init__(self, runner: ProjectionRunner, interval: float = CATCH_UP_INTERVAL,
                 niceness: int = 0, max_backoff: float = CATCH_UP_MAX_BACKOFF) -> None:  # fmt: skip
        self.runner = runner
        self.interval = interval
        self.niceness = niceness
        self.max_backoff = max(interval, max_backoff)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="catch-up", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        lower_this_thread(self.niceness)
        failed, since = 0, 0.0
        while True:
            wait = self.interval
            try:
                self.runner.catch_up()
            except Exception as error:  # any failure: log the first, try again later
                if not failed:
                    since = time.monotonic()
                    kind, message = describe(error)
                    log.error("catch_up_failed", error=kind, message=message, exc_info=True)
                failed += 1
                wait = min(self.interval * 2**failed, self.max_backoff)
            else:
                if failed:
                    log.info("catch_up_recovered", failed_passes=failed,
                             seconds=round(time.monotonic() - since, 1))  # fmt: skip
                failed = 0
            if self._stopping.wait(wait):
                return


def _stop(server: uvicorn.Server, _frame: FrameType | None = None) -> None:
    server.should_exit = True
