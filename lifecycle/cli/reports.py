"""`lifecycle report NAME`, `lifecycle plan` and `lifecycle projections rebuild [NAME]`.

Reports first catch the read models up with the log, then print the same JSON as the HTTP
API (`--json`), one section as CSV (`--csv`), or readable tables. Bad options exit 2 with
the `validation_error` JSON, like any other usage error.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import datetime
from typing import Any

import orjson

from ..app.ledger import Clock
from ..app.views import plain
from ..domain.errors import ValidationFailed
from ..domain.rules import Rulebook
from ..projections.attribution_models import Model
from ..projections.reports import REPORTS, build_report
from ..projections.reports.options import GOALS, GROUPS, STAGE_RATES
from ..projections.runner import ProjectionRunner
from . import rebuild, status
from .common import json_output, moment, print_error, print_json, print_table, wants_json

# The section `--csv` prints unless `--section` names another one.
MAIN_SECTION = {
    "funnel": "rows", "status": "rows", "sla": "policies", "activity": "owners",
    "time-in-status": "statuses", "attribution": "rows", "reasons": "rows", "plan": "stages",
}  # fmt: skip
# Sections too long for a terminal table (still in --json and --csv --section); the warnings
# go to stderr (`print_warnings`).
NOT_IN_TABLES = {"leads", "weekly", "warnings"}


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    period = argparse.ArgumentParser(add_help=False)
    period.add_argument(
        "--from",
        dest="start",
        type=moment,
        metavar="T",
        help="only what occurred at or after T (ISO-8601 with an offset)",
    )
    period.add_argument(
        "--to", dest="end", type=moment, metavar="T", help="only what occurred before T"
    )
    period.add_argument(
        "--now",
        type=moment,
        metavar="T",
        help="the time deadlines and current stays are judged at (default: now)",
    )
    period.add_argument("--csv", action="store_true", help="print one section as CSV")
    period.add_argument("--section", metavar="KEY", help="the section --csv prints")  # fmt: skip

    report = subparsers.add_parser(
        "report", parents=[common, json_output(), period], help="print a closed-loop report",
        description="Closed-loop reports from the read models: funnel, status, sla, activity, "
        "time-in-status, attribution, reasons. --group-by applies to funnel, status and "
        "reasons (source, campaign, month, owner, region); sla and activity are by owner.",
    )  # fmt: skip
    report.add_argument(
        "name",
        metavar="NAME",
        choices=[n for n in REPORTS if n != "plan"],
        help="funnel | status | sla | activity | time-in-status | attribution | reasons",
    )
    report.add_argument("--group-by", choices=GROUPS, help="group rows by this")
    report.add_argument(
        "--model", choices=[m.value for m in Model], help="attribution model (default first_touch)"
    )
    report.add_argument("--goal", choices=GOALS, help="attribution goal (default customer)")
    report.set_defaults(handler=run_report)  # fmt: skip

    planner = subparsers.add_parser(
        "plan", parents=[common, json_output(), period],
        help="the reverse funnel for a revenue goal",
        description="What a revenue goal needs at each funnel stage, per week and in sales "
        "reps (seed 003 slides 61-71); with leads in the store, the actuals beside it. Rates "
        "are fractions (0.5) or percentages (50%%); per-stage rates replace --conversion-rate.",
    )  # fmt: skip
    planner.add_argument("--revenue-goal", required=True, metavar="X")
    planner.add_argument("--deal-size", required=True, metavar="Y")
    planner.add_argument("--conversion-rate", metavar="R", help="one rate for every stage")
    for name in STAGE_RATES:
        planner.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="R")
    planner.add_argument("--weeks", default="48", metavar="N", help="working weeks (48)")
    planner.add_argument("--mqls-per-rep-week", default="8", metavar="N",
                         help="MQLs one rep reviews a week (8)")  # fmt: skip
    planner.set_defaults(handler=run_plan, name="plan")

    projections = subparsers.add_parser("projections", parents=[common], help="read models")
    actions = projections.add_subparsers(dest="projections_command", metavar="ACTION",
                                         required=True, parser_class=type(projections))  # fmt: skip
    rebuild.register(actions, common)
    status.register(actions, common)


def run_report(args: argparse.Namespace, runner: ProjectionRunner, rules: Rulebook,
               clock: Clock) -> int:  # fmt: skip
    options = {"group_by": args.group_by, "model": args.model, "goal": args.goal}
    if args.name == "time-in-status" and not (wants_json(args) or args.csv):
        options["per_lead"] = False  # the per-lead dates are for JSON and CSV
    return _print_report(args, runner, rules, clock(), options)


def run_plan(args: argparse.Namespace, runner: ProjectionRunner, rules: Rulebook,
             clock: Clock) -> int:  # fmt: skip
    names = ("revenue_goal", "deal_size", "conversion_rate", "weeks", "mqls_per_rep_week",
             *STAGE_RATES)  # fmt: skip
    options = {name: getattr(args, name) for name in names}
    return _print_report(args, runner, rules, clock(), options)


def _print_report(args: argparse.Namespace, runner: ProjectionRunner, rules: Rulebook,
                  asked_at: datetime, options: dict[str, Any]) -> int:  # fmt: skip
    runner.catch_up()  # the read models hold everything recorded so far
    options.update(start=args.start, end=args.end, now=args.now)
    try:
        report = build_report(args.name, runner.engine, rules, asked_at, **options)
    except ValidationFailed as error:
        print_error(error)
        return 2
    if wants_json(args):
        print_json(report)
        return 0
    print_warnings(report)
    if args.csv:
        return _print_csv(report, args.section or MAIN_SECTION[args.name])
    print_report_tables(args.name, plain(report))
    return 0


def print_warnings(report: dict[str, Any]) -> None:
    """A report's warnings (an incomplete read model) on stderr, one line each."""
    for warning in report.get("warnings") or ():
        sys.stderr.write(f"warning: {warning['message']}\n")


def _print_csv(report: dict[str, Any], section: str) -> int:
    rows = report.get(section)
    if not isinstance(rows, list):
        sections = ", ".join(k for k, v in report.items() if isinstance(v, list))
        print_error(ValidationFailed(f"no section {section!r} to print (sections: {sections})"))
        return 2
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in plain(rows):
        writer.writerow([_cell(row.get(column)) for column in columns])
    return 0


def print_report_tables(name: str, report: dict[str, Any]) -> None:
    """A report as rich tables: its scalars on one line, then each list or flat dict.

    `lifecycle demo` prints its reports with this too.
    """
    scalars = {k: v for k, v in report.items() if not isinstance(v, list | dict)}
    if scalars:
        sys.stdout.write(f"{name}: " + ", ".join(f"{k}={_cell(v)}" for k, v in scalars.items())
                         + "\n")  # fmt: skip
    for key, value in report.items():
        if isinstance(value, dict) and value and not isinstance(next(iter(value.values())), dict):
            print_table(key, list(value), [[_cell(v) for v in value.values()]])
        elif isinstance(value, list) and value and key not in NOT_IN_TABLES:
            columns = [c for c in dict.fromkeys(k for row in value for k in row)
                       if not isinstance(value[0].get(c), dict)]  # fmt: skip
            print_table(key, columns, [[_cell(row.get(c)) for c in columns] for row in value])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.6f}"
    return str(value)
