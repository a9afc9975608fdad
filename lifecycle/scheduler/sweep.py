"""The sweep: APScheduler calls `tick(clock())` on an interval, and that is all it does.

Nothing authoritative lives in APScheduler: the job store is in memory and holds one job, not
one per lead, because APScheduler 3 drops a job that misfires beyond its grace time (1 s by
default) and loses a date job that was running when the process died. The deadlines are data
in the database, so a restart, a missed run or a long pause costs nothing: the next tick fires
everything that fell due meanwhile. Missed runs are coalesced into one, runs never overlap, and
a run is never skipped for being late.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from ..app.ledger import Clock
from ..logs import get_logger
from ..runtime.niceness import lower_this_thread
from .tick import TickParts, tick

JOB_ID = "tick"
DEFAULT_INTERVAL = 30.0
log = get_logger(__name__)


def sweep_job(
    parts: TickParts, clock: Clock, limit: int | None = None, niceness: int = 0
) -> Callable[[], int]:
    """The job the scheduler runs: one tick at `clock()`; errors are logged, never raised.

    A failed tick leaves every deadline in place, so the next run retries it; raising would
    only make APScheduler print a traceback. With `niceness` > 0 the tick runs at that lower
    priority (`lifecycle.runtime.niceness`).
    """

    def run() -> int:
        lower_this_thread(niceness)  # the executor's thread: cheap to repeat
        started = time.perf_counter()
        now = clock()
        try:
            fired = tick(parts, now, limit)
        except Exception:
            log.exception("tick_failed", now=now.isoformat())
            return 0
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        log.info("tick", now=now.isoformat(), fired=fired, ms=elapsed_ms)
        return fired

    return run


def build_sweep(
    job: Callable[[], object], first_run: datetime, interval: float = DEFAULT_INTERVAL
) -> BackgroundScheduler:
    """A scheduler (not started) with the one interval job, first run at `first_run` (the
    clock's now: a sweep catches up on start, not one interval later)."""
    if interval <= 0:
        raise ValueError(f"interval: must be a positive number of seconds, got {interval}")
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    scheduler.add_job(
        job, IntervalTrigger(seconds=interval, timezone=UTC), id=JOB_ID, name="tick",
        next_run_time=first_run,
    )  # fmt: skip
    return scheduler


def start_sweep(
    parts: TickParts,
    clock: Clock,
    interval: float = DEFAULT_INTERVAL,
    limit: int | None = None,
    niceness: int = 0,
) -> BackgroundScheduler:
    """Starts ticking in a background thread; stop it with `stop_sweep`."""
    scheduler = build_sweep(sweep_job(parts, clock, limit, niceness), clock(), interval)
    scheduler.start()
    return scheduler


def stop_sweep(scheduler: BackgroundScheduler, wait: bool = True) -> None:
    """Stops the scheduler; with `wait`, lets a running tick finish first."""
    if scheduler.running:
        scheduler.shutdown(wait=wait)
