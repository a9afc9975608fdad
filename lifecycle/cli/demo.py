"""`lifecycle demo`: a simulated stretch of business on a fresh embedded store, then reports."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from ..bootstrap import Services, Settings, build
from ..domain.values import Stage, Status
from ..scheduler.tick import tick
from ..simulation import START, Simulation
from .common import print_json, print_table, wants_json

DEMO_DATABASE = "lifecycle-demo.db"


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    demo = subparsers.add_parser(
        "demo",
        parents=[common],
        help="simulate a stretch of business and print the reports",
        description="Simulates inbound and outbound leads through the real application, with "
        f"the scheduler in simulated time, on a fresh embedded store ({DEMO_DATABASE} in the "
        "working directory, recreated each run, unless --database-url is given).",
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (same seed, same story)")
    demo.add_argument("--days", type=int, default=30, help="simulated days (default 30)")
    demo.add_argument("--leads-per-day", type=float, default=10.0, help="new leads a weekday")
    demo.set_defaults(handler=run_demo, own_services=True)


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "database_url", None) is None:
        for suffix in ("", "-wal", "-shm"):
            Path(DEMO_DATABASE + suffix).unlink(missing_ok=True)
        settings = Settings(f"sqlite:///{DEMO_DATABASE}", settings.config_path)
    clock = SimulatedClock(START)
    services = build(settings, clock=clock.now)
    try:
        started = time.perf_counter()
        simulation = Simulation(
            services.ledger,
            clock.set,
            tick=lambda now: tick(services, now),
            seed=args.seed,
            days=args.days,
            leads_per_day=args.leads_per_day,
        )
        result = simulation.run()
        board = _status_board(services)
        summary = {
            "leads": result.leads,
            "activities": result.activities,
            "skipped": result.skipped,
            "timers_fired": result.timers_fired,
            "simulated_days": args.days,
            "seconds": round(time.perf_counter() - started, 1),
        }
        if wants_json(args):
            print_json({"summary": summary, "status_by_stage": board})
        else:
            _print(summary, board)
    finally:
        services.close()
    return 0


def _status_board(services: Services) -> dict[str, dict[str, int]]:
    counts: Counter[tuple[Status, Stage]] = Counter()
    for lead in services.ledger.all_leads():
        counts[(lead.status, lead.stage)] += 1
    return {
        status.value: {stage.value: counts[(status, stage)] for stage in Stage}
        for status in Status
        if any(counts[(status, stage)] for stage in Stage)
    }


def _print(summary: dict[str, Any], board: dict[str, dict[str, int]]) -> None:
    print(
        f"Simulated {summary['simulated_days']} days: {summary['leads']} leads, "
        f"{summary['activities']} activities, {summary['timers_fired']} timer events "
        f"({summary['seconds']} s)."
    )
    stages = [stage.value for stage in Stage]
    rows = [
        [status, *(row[s] or "" for s in stages), sum(row.values())]
        for status, row in board.items()
    ]
    print_table("Leads by status and stage", ["status", *stages, "total"], rows)
