"""`lifecycle import`, `lifecycle lead show`, `lifecycle lead timeline`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from ..app.importer import ImportReport, run_import
from ..app.ledger import LeadLedger
from ..app.views import lead_json, timeline_json
from .common import CommandParser, json_output, line, moment, print_json, print_table, wants_json


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    importer = subparsers.add_parser(
        "import",
        parents=[common, json_output()],
        help="import activities from a JSONL file",
        description="Imports a JSONL file, one activity per line, each with a lead reference "
        "(lead_id, external_id or email; `created` lines create). Accepted lines are kept; "
        "rejected ones are listed with their line number and error; exit 1 if any was rejected.",
    )
    importer.add_argument("file", type=Path, help="the JSONL file ('-' for standard input)")
    importer.add_argument(
        "--actor", type=line, default="import", help="actor for lines without one"
    )
    importer.set_defaults(handler=import_file)

    lead = subparsers.add_parser("lead", parents=[common], help="read one lead")
    lead_commands = lead.add_subparsers(
        dest="lead_command", metavar="ACTION", required=True, parser_class=CommandParser
    )
    show = lead_commands.add_parser(
        "show", parents=[common, json_output()], help="the lead, now or as of a time"
    )
    show.add_argument("ref", type=line, metavar="REF", help="lead id, external id or email")
    show.add_argument(
        "--as-of", type=moment, metavar="T", help="the lead as it was at T (ISO-8601)"
    )
    show.set_defaults(handler=show_lead)
    timeline = lead_commands.add_parser(
        "timeline", parents=[common, json_output()], help="the lead's full timeline"
    )
    timeline.add_argument("ref", type=line, metavar="REF", help="lead id, external id or email")
    timeline.set_defaults(handler=show_timeline)


def import_file(args: argparse.Namespace, ledger: LeadLedger) -> int:
    path: Path = args.file
    if str(path) != "-" and not path.is_file():
        sys.stderr.write(f'{{"error": {{"code": "not_found", "message": "no file {path}"}}}}\n')
        return 2
    stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
    with stream:
        lines = stream.readlines()
    report = _import_with_progress(ledger, lines, args.actor)
    if wants_json(args):
        print_json(report.as_dict())
    else:
        _print_import(report)
    return 1 if report.rejected else 0


def _import_with_progress(ledger: LeadLedger, lines: list[bytes], actor: str) -> ImportReport:
    if not sys.stderr.isatty():
        return run_import(ledger, lines, actor)
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("importing", total=len(lines))
        return run_import(ledger, lines, actor, on_progress=lambda n: progress.advance(task, n))


def _print_import(report: ImportReport) -> None:
    print(
        f"accepted {report.accepted} lines ({report.events} events, "
        f"{report.created} new leads, {report.deduplicated} deduplicated); "
        f"duplicates {report.duplicates}; rejected {len(report.rejected)}"
    )
    for rejection in report.rejected:
        error = rejection.error
        sys.stderr.write(f"line {rejection.line}: {error['code']}: {error['message']}\n")


def show_lead(args: argparse.Namespace, ledger: LeadLedger) -> int:
    lead = ledger.lead_as_of(args.ref, args.as_of) if args.as_of else ledger.find(args.ref)
    body = lead_json(lead)
    if wants_json(args):
        print_json(body)
    else:
        print_table(None, ["field", "value"], [[key, value] for key, value in body.items()])
    return 0


def show_timeline(args: argparse.Namespace, ledger: LeadLedger) -> int:
    lead = ledger.find(args.ref)
    body = timeline_json(str(lead.id), ledger.lead_events(lead.id))
    if wants_json(args):
        print_json(body)
        return 0
    rows = [
        [
            e["seq"],
            e["occurred_at"],
            e["type"],
            e["status"],
            e["stage"],
            e["actor"],
            ", ".join(f"{k}={v}" for k, v in e["data"].items() if v is not None),
        ]
        for e in body["events"]
    ]
    print_table(
        f"lead {lead.id}", ["seq", "occurred_at", "type", "status", "stage", "actor", "data"], rows
    )
    return 0
