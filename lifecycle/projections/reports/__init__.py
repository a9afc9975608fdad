"""The closed-loop reports: one entry point for the CLI and the HTTP API.

`build_report(name, engine, rules, **options)` reads the read models (it does not catch them
up: the caller decides how fresh they must be) and returns the report as plain JSON data.
Options: `start`/`from`, `end`/`to` (times, on `occurred_at`), `group_by`, `now`, and per
report `model`, `goal` (attribution), `per_lead` (time-in-status) and the plan's numbers.
A bad or inapplicable option raises `ValidationFailed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from ...db import reading
from ...domain.errors import ValidationFailed
from ...domain.rules import Rulebook
from . import activity, attribution, funnel, plan, sla, status, time_in_status
from .options import Options, Spec, parse


@dataclass(frozen=True)
class Report:
    spec: Spec
    build: Callable[[Connection, Rulebook, Options], dict[str, Any]]


REPORTS: dict[str, Report] = {
    "funnel": Report(funnel.SPEC, funnel.build),
    "status": Report(status.SPEC, status.build),
    "sla": Report(sla.SPEC, sla.build),
    "activity": Report(activity.SPEC, activity.build),
    "time-in-status": Report(time_in_status.SPEC, time_in_status.build),
    "attribution": Report(attribution.SPEC, attribution.build),
    "plan": Report(plan.SPEC, plan.build),
}


def build_report(name: str, engine: Engine, rules: Rulebook, **options: Any) -> dict[str, Any]:
    report = REPORTS.get(name)
    if report is None:
        raise ValidationFailed(
            f"no report named {name!r}", fields={"name": "one of " + ", ".join(REPORTS)}
        )
    parsed = parse(report.spec, options)
    with reading(engine) as conn:
        return report.build(conn, rules, parsed)


__all__ = ["REPORTS", "Report", "build_report"]
