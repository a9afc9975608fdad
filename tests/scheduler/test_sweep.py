"""The APScheduler sweep: one interval job that ticks at the clock's time; nothing else.

The job function is driven directly: no test waits for a scheduler thread.
"""

from __future__ import annotations

import argparse
import signal
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger
from helpers import ManualClock, given_lead, types_of
from structlog.testing import capture_logs

from lifecycle.bootstrap import Services, Settings
from lifecycle.cli import ticks
from lifecycle.scheduler import sweep
from lifecycle.scheduler.sweep import JOB_ID, build_sweep, stop_sweep, sweep_job

if TYPE_CHECKING:
    from conftest import Timers  # tests/scheduler/conftest.py


def test_the_job_ticks_at_the_clocks_time(timers: Timers, clock: ManualClock) -> None:
    lead = given_lead(timers.ledger, "assigned", "attempted")
    job = sweep_job(timers, clock.now)

    assert job() == 0
    clock.advance(days=21)
    assert job() == 2  # the cadence breach (day 14), then the auto-nurture (day 21)
    assert job() == 0
    assert types_of(timers.ledger, lead)[-2:] == ["sla_breached", "auto_nurtured"]


def test_a_failing_tick_is_logged_and_the_next_run_retries(
    timers: Timers, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    given_lead(timers.ledger, "assigned")
    clock.advance(days=1)
    job = sweep_job(timers, clock.now)

    def broken(*_args: Any, **_kwargs: Any) -> int:
        raise OSError("database unreachable")

    monkeypatch.setattr(sweep, "tick", broken)
    with capture_logs() as logs:
        assert job() == 0
    assert [log["event"] for log in logs] == ["tick_failed"]

    monkeypatch.undo()
    assert job() == 1


def test_the_sweep_is_one_coalescing_interval_job_in_memory() -> None:
    scheduler = build_sweep(lambda: 0, datetime(2026, 1, 5, tzinfo=UTC), interval=15)
    scheduler.start(paused=True)  # jobs get their defaults when the scheduler starts
    try:
        [job] = scheduler.get_jobs()
        store = scheduler._lookup_jobstore("default")
    finally:
        stop_sweep(scheduler)

    assert job.id == JOB_ID
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval.total_seconds() == 15
    assert isinstance(store, MemoryJobStore)
    assert (job.coalesce, job.max_instances) == (True, 1)
    assert job.misfire_grace_time is None  # a late run is never dropped, however late


def test_the_sweep_starts_and_stops(timers: Timers, clock: ManualClock) -> None:
    scheduler = build_sweep(sweep_job(timers, clock.now), clock.now(), interval=3600)
    scheduler.start(paused=True)  # paused: the job never runs in this test
    assert scheduler.running

    stop_sweep(scheduler)

    assert not scheduler.running


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        build_sweep(lambda: 0, datetime(2026, 1, 5, tzinfo=UTC), interval=0)


def test_scheduler_run_stops_cleanly_on_sigterm(
    timers: Timers, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[float] = []
    stopped: list[object] = []

    def start(_parts: object, _clock: object, interval: float) -> object:
        started.append(interval)
        signal.raise_signal(signal.SIGTERM)  # as if `kill` arrived at once
        return "scheduler"

    monkeypatch.setattr(ticks, "start_sweep", start)
    monkeypatch.setattr(ticks, "stop_sweep", stopped.append)
    services = Services(Settings("sqlite:///unused.db"), timers.ledger.rules, timers.ledger,
                        timers.engine, timers.runner, clock.now)  # fmt: skip

    assert ticks.run_scheduler(argparse.Namespace(interval=5.0), services, clock.now) == 0
    assert (started, stopped) == ([5.0], ["scheduler"])
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
