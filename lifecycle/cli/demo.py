"""`lifecycle demo`: a simulated stretch of business on a fresh embedded store, then reports."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine

from ..app.views import plain
from ..domain.rules import Rulebook
from ..projections.reports import build_report
from ..runtime.settings import Settings
from ..scheduler.tick import TickParts, tick
from .common import json_output, print_json, print_table, wants_json
from .simulation import START, Simulation

DEMO_REPORTS: dict[str, dict[str, Any]] = {
    "status": {},
    "funnel": {"group_by": "source"},
    "sla": {},
    "activity": {},
    "attribution": {"model": "w_shaped", "goal": "customer"},
}

DEMO_DATABASE = "lifecycle-demo.db"


class DemoParts(TickParts, Protocol):
    """The service the demo wires on its own store and simulated clock (`bootstrap.build`):
    what a tick needs, and the reports' engine and rules."""

    @property
    def engine(self) -> Engine: ...
    @property
    def rules(self) -> Rulebook: ...
    def close(self) -> None: ...


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
        parents=[common, json_output()],
        help="simulate a stretch of business and print the reports",
        description="Simulates inbound and outbound leads through the real application, with "
        f"the scheduler in simulated time, on a fresh embedded store ({DEMO_DATABASE} in the "
        "working directory, recreated each run, unless --database-url is given).",
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (same seed, same story)")
    demo.add_argument("--days", type=int, default=91, help="simulated days (default 91: a quarter)")
    demo.add_argument("--leads-per-day", type=float, default=10.0, help="new leads a weekday")
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace, settings: Settings, build: Callable[..., DemoParts]) -> int:
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
        services.runner.catch_up()
        reports = {
            name: plain(build_report(name, services.engine, services.rules, clock.now(),
                                     **options))
            for name, options in DEMO_REPORTS.items()
        }  # fmt: skip
        summary = {
            "leads": result.leads,
            "activities": result.activities,
            "skipped": result.skipped,
            "timers_fired": result.timers_fired,
            "simulated_days": args.days,
            "seconds": round(time.perf_counter() - started, 1),
        }
        if wants_json(args):
            print_json({"summary": summary, "reports": reports})
        else:
            _print(summary, reports)
    finally:
        services.close()
    return 0


def _print(summary: dict[str, Any], reports: dict[str, dict[str, Any]]) -> None:
    """The highlights of each report; `lifecycle report NAME` shows every column."""
    print(
        f"Simulated {summary['simulated_days']} days: {summary['leads']} leads, "
        f"{summary['activities']} activities, {summary['timers_fired']} timer events "
        f"({summary['seconds']} s)."
    )
    status = reports["status"]
    print_table("Leads by status", ["status", "leads"],
                [[r["status"], r["count"]] for r in status["rows"] if r["count"]])  # fmt: skip
    funnel = reports["funnel"]
    print_table(
        "Funnel by source (leads created in the quarter that reached each stage)",
        ["source", "leads", "MQLs", "SQLs", "opps", "customers", "revenue", "lead→customer"],
        [[r["group"], r["leads"], r["mqls"], r["sqls"], r["opportunities"], r["customers"],
          _money(r["revenue"]), _percent(r["lead_to_customer"])]
         for r in [*funnel["rows"], {**funnel["total"], "group": "all"}]],
    )  # fmt: skip
    print_table(
        "SLA compliance",
        ["policy", "due", "met", "breached", "compliance"],
        [[r["policy"], r["due"], r["met"], r["breached"], _percent(r["compliance"])]
         for r in reports["sla"]["policies"]],
    )  # fmt: skip
    print_table(
        "Sales activity per owner (targets: 30 emails a week, 15 dials a month)",
        ["owner", "attempts", "emails", "dials", "email weeks met", "dial months met"],
        [[r["owner"], r["attempts"], r["emails"], r["dials"],
          f"{r['email_weeks_met']}/{r['weeks']}", f"{r['dial_months_met']}/{r['months']}"]
         for r in reports["activity"]["owners"]],
    )  # fmt: skip
    attribution = reports["attribution"]
    print_table(
        f"Won revenue by source, W-shaped attribution ({attribution['conversions']} customers)",
        ["source", "credit", "revenue"],
        [[r["source"], f"{r['credit']:.2f}", _money(r["revenue"])]
         for r in attribution["by_source"]],
    )  # fmt: skip
    print_table(
        "Conversion assists by content",
        ["content", "assists"],
        [[r["content"], r["assists"]] for r in attribution["assists"][:6]],
    )
    print("Every report in full: lifecycle --database-url sqlite:///lifecycle-demo.db report NAME")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _money(value: float | None) -> str:
    return "–" if value is None else f"${value:,.0f}"
