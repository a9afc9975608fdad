"""`GET /healthz` (liveness) and `GET /readyz` (readiness), without a token.

- `/healthz` answers as long as the process can answer at all, and touches nothing else: a
  supervisor restarts a process that stops answering it. A database outage is not a reason
  to restart, so it does not fail this check.
- `/readyz` says whether this process can do its work now: the database answers a read, a
  write goes through the path appends take (`LeadLedger.probe_write`: on SQLite the same
  write gate and connections, so a `-wal` or `-shm` that cannot be written shows here), and
  the read models are caught up (the oldest event they have not applied was recorded less
  than `MAX_LAG` seconds ago). A load balancer sends traffic only to a ready process.

Each check is bounded (`CHECK_TIMEOUT`); the answer is shared for `CACHE_SECONDS` by every
caller of the process, and only one check runs at a time, so a flood of probes costs the
store one small write a second at most.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import text

from ..logs import get_logger
from ..projections.runner import ProjectionRunner
from ..storage.db import reading
from .deps import AppParts
from .errors import RETRY_AFTER, error_body
from .params import known_query_only
from .responses import JsonBody
from .schemas import Error, Health, Readiness

MAX_LAG = 5.0  # seconds: read models further behind than this are not ready
CHECK_TIMEOUT = 2.0  # seconds for all the checks together
CACHE_SECONDS = 1.0
CHECKS = ("database", "writes", "projections")
log = get_logger(__name__)
router = APIRouter(tags=["health"], dependencies=[Depends(known_query_only)])
Check = dict[str, Any]


@router.get(
    "/healthz",
    response_model=Health,
    summary="Liveness: the process answers (no token)",
    description='Always `{"status": "ok"}` while the process can answer; it checks '
    "nothing else (see `/readyz`).",
)
async def healthz() -> JsonBody:
    return JsonBody({"status": "ok"})


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: database reads, writes and read models (no token)",
    description="200 when the database answers a read, a write goes through the path appends "
    f"take, and the read models are less than {MAX_LAG:g} s behind the log; otherwise 503 "
    "`unavailable` with `Retry-After` and the failing checks.",
    responses={503: {"model": Error, "description": "not ready (`unavailable`), with `checks`"}},
)
async def readyz(request: Request) -> JsonBody:
    probe: Readyz = request.app.state.readyz
    checks = await probe.checks()
    failing = sorted(name for name, check in checks.items() if check["status"] != "ok")
    if not failing:
        return JsonBody({"status": "ready", "checks": checks})
    body = error_body("unavailable", f"not ready: {', '.join(failing)}")
    body["checks"] = checks
    return JsonBody(body, 503, headers={"Retry-After": RETRY_AFTER})


class Readyz:
    """The readiness checks of one process, run at most once per `CACHE_SECONDS`."""

    def __init__(self, services: AppParts, cache_seconds: float = CACHE_SECONDS) -> None:
        self.services = services
        self.cache_seconds = cache_seconds
        self._lock = asyncio.Lock()
        self._answer: dict[str, Check] | None = None
        self._answered_at = 0.0
        self._running: asyncio.Future[dict[str, Check]] | None = None

    async def checks(self) -> dict[str, Check]:
        async with self._lock:
            fresh = time.monotonic() - self._answered_at < self.cache_seconds
            if self._answer is not None and fresh:
                return self._answer
            if self._running is None or self._running.done():
                # A check stuck past its timeout goes on in its thread; the next caller
                # waits for that one instead of starting another.
                self._running = asyncio.ensure_future(asyncio.to_thread(self._run))
            running = self._running
        try:
            answer = await asyncio.wait_for(asyncio.shield(running), CHECK_TIMEOUT)
        except TimeoutError:
            late = failed(f"no answer within {CHECK_TIMEOUT:g} s")
            answer = dict.fromkeys(CHECKS, late)
        async with self._lock:
            self._answer, self._answered_at = answer, time.monotonic()
        return answer

    def _run(self) -> dict[str, Check]:
        services = self.services
        return {
            "database": timed(lambda: _read(services)),
            "writes": timed(services.ledger.probe_write),
            "projections": projections_check(services.runner, services.clock()),
        }


def _read(services: AppParts) -> None:
    with reading(services.engine) as conn:
        conn.execute(text("SELECT 1"))


def timed(work: Callable[[], None]) -> Check:
    """`{"status": "ok", "ms": …}`, or "failing" with what went wrong (never raises)."""
    started = time.perf_counter()
    try:
        work()
    except Exception as error:  # any failure means "not ready", whatever raised it
        log.warning("readiness_check_failed", error=type(error).__name__)
        return failed(_reason(error))
    return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 2)}


def failed(message: str) -> Check:
    return {"status": "failing", "message": message}


def _reason(error: Exception) -> str:
    message = getattr(error, "message", None)  # a LifecycleError says it plainly
    return str(message) if message else type(error).__name__


def projections_check(runner: ProjectionRunner, now: datetime, max_lag: float = MAX_LAG) -> Check:
    """How far the read models are behind the log: ok when every event they have not
    applied yet was recorded less than `max_lag` seconds before `now`.

    `behind` counts the log positions after the slowest projection (events of other kinds
    among them, which no read model applies); `lag_seconds` is the age of the oldest lead
    event not yet applied (0 when none is waiting). `quarantined` counts, per read model, the
    leads it set aside because it could not apply one of their events: they are reported
    here but leave the service ready, since no other server would do better with them.
    """
    try:
        head = runner.head()
        reached = runner.reached(list(runner.projections))
        oldest = _oldest_unapplied(runner, reached)
        held = Counter(entry["projection"] for entry in runner.quarantine())
    except Exception as error:  # any failure means "not ready", whatever raised it
        log.warning("readiness_check_failed", check="projections", error=type(error).__name__)
        return failed(_reason(error))
    lag = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    check: Check = {
        "status": "ok" if lag < max_lag else "failing",
        "head": head,
        "reached": reached,
        "behind": max(0, head - reached),
        "lag_seconds": round(lag, 3),
        "quarantined": dict(sorted(held.items())),
    }
    if lag >= max_lag:
        check["message"] = f"the read models are {lag:.1f} s behind the log"
    elif held:
        check["message"] = (
            f"{sum(held.values())} lead(s) set aside by read models that could not apply "
            "their events: see `lifecycle projections status`"
        )
    return check


def _oldest_unapplied(runner: ProjectionRunner, reached: int) -> datetime | None:
    """When the first lead event after position `reached` was recorded (None: none)."""
    found = runner.recorder.select_notifications(
        start=reached, limit=1, topics=runner.topics, inclusive_of_start=False
    )
    if not found:
        return None
    event: Any = runner.mapper.to_domain_event(found[0])
    recorded: datetime = event.timestamp
    return recorded


def install(app: Any, services: AppParts) -> None:
    """Adds the routes and the process's readiness state to `app`."""
    app.state.readyz = Readyz(services)
    app.include_router(router)
