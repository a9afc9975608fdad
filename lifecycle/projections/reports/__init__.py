"""The closed-loop reports: one entry point for the CLI and the HTTP API.

`build_report(name, engine, rules, asked_at, **options)` reads the read models (it does not
catch them up: the caller decides how fresh they must be) and returns the report as plain
JSON data.
Options: `start`/`from`, `end`/`to` (times, on `occurred_at`), `group_by`, `now`, and per
report `model`, `goal` (attribution), `per_lead` (time-in-status) and the plan's numbers.
A bad or inapplicable option raises `ValidationFailed`. Every report has `warnings`: empty
when healthy, else one `projection_quarantine` entry per read model it reads that skips leads
(`projections.quarantine`), so that an incomplete report never poses as complete. Each
report's JSON shape, warnings included, is its `shape` (`shapes`), which the OpenAPI
document publishes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from ...domain.errors import ValidationFailed
from ...domain.rules import Rulebook
from ...storage.db import reading
from .. import quarantine
from . import activity, attribution, funnel, plan, reasons, shapes, sla, status, time_in_status
from .options import Options, Spec, parse


@dataclass(frozen=True)
class Report:
    spec: Spec
    build: Callable[[Connection, Rulebook, Options], Mapping[str, Any]]
    reads: tuple[str, ...]  # the projections whose tables it reads (for its warnings)
    shape: type  # what it answers, `warnings` included (`shapes`): its OpenAPI schema


FACTS, TOUCHES, CLOCKS = "lead_facts", "touches", "sla_clocks"
REPORTS: dict[str, Report] = {
    "funnel": Report(funnel.SPEC, funnel.build, (FACTS,), shapes.FunnelReport),
    "status": Report(status.SPEC, status.build, (FACTS,), shapes.StatusReport),
    "sla": Report(sla.SPEC, sla.build, (CLOCKS, FACTS), shapes.SlaReport),
    "activity": Report(activity.SPEC, activity.build, (FACTS,), shapes.ActivityReport),
    "time-in-status": Report(
        time_in_status.SPEC, time_in_status.build, (FACTS,), shapes.TimeInStatusReport
    ),
    "attribution": Report(
        attribution.SPEC, attribution.build, (FACTS, TOUCHES), shapes.AttributionReport
    ),
    "reasons": Report(reasons.SPEC, reasons.build, (FACTS,), shapes.ReasonsReport),
    "plan": Report(plan.SPEC, plan.build, (FACTS,), shapes.PlanReport),
}


def build_report(
    name: str, engine: Engine, rules: Rulebook, asked_at: datetime, **options: Any
) -> dict[str, Any]:
    """The report `name` as JSON, asked at `asked_at` (the caller's clock), which is its `now`
    unless the options give one."""
    report = REPORTS.get(name)
    if report is None:
        raise ValidationFailed(
            f"no report named {name!r}", fields={"name": "one of " + ", ".join(REPORTS)}
        )
    parsed = parse(report.spec, options, asked_at)
    with reading(engine) as conn:
        built = report.build(conn, rules, parsed)
        # One snapshot: the warnings describe the rows the report was read from.
        return {**built, "warnings": quarantine.warnings(conn, report.reads)}


__all__ = ["REPORTS", "Report", "build_report"]
