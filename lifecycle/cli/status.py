"""`lifecycle projections status [--json]`: each read model's position, lag and quarantine.

Reads the positions as they stand (it does not catch up). The table lists each projection's
position, the log's head, the lead events still to apply and the quarantined leads, then one
line per quarantined lead; `--json` prints `ProjectionRunner.status()`. Exit 0.
"""

from __future__ import annotations

import argparse
import sys

from ..projections.runner import ProjectionRunner
from .common import json_output, print_json, print_table, wants_json


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    status = actions.add_parser(
        "status", parents=[common, json_output()],
        help="positions, lag and quarantined leads of the read models",
        description="Each read model's position in the log, the head, the lead events it still "
        "has to apply, and the leads it skips because one of their events could not be applied "
        "(`projections rebuild NAME` tries them again).",
    )  # fmt: skip
    status.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace, runner: ProjectionRunner) -> int:
    status = runner.status()
    if wants_json(args):
        print_json(status)
        return 0
    rows = [
        [p["name"], p["position"], status["head"], p["lag"], p["quarantined"]]
        for p in status["projections"]
    ]
    print_table("projections", ["name", "position", "head", "lag", "quarantined"], rows)
    held = [entry for p in status["projections"] for entry in p["quarantine"]]
    for e in held:  # plain lines: a lead id and a message do not fit a terminal table
        where = f"{e['projection']} lead {e['lead_id']} at position {e['position']}"
        sys.stdout.write(f"quarantined: {where} ({e['event_type']}): {e['error']}: "
                         f"{e['message']}\n")  # fmt: skip
    if held:
        sys.stdout.write("Fix the cause, then `lifecycle projections rebuild NAME` retries them.\n")
    return 0
