"""`lifecycle tick` (one tick now) and `lifecycle scheduler run` (tick on an interval)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import datetime
from types import FrameType
from typing import Any

from ..app.ledger import Clock
from ..app.views import dumps, utc
from ..domain.rules import Rulebook
from ..scheduler.sweep import DEFAULT_INTERVAL, start_sweep, stop_sweep
from ..scheduler.tick import TickParts, tick
from .common import CommandParser, json_output, moment, positive_int, print_json, wants_json


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    once = subparsers.add_parser(
        "tick", parents=[common, json_output()], help="fire every timer due now (or at --now)",
        description="Fires every timer due by T (default: now) as an event on its lead: "
        "auto_nurtured, sla_breached, escalated, opt_out_expired. Safe to run any number of "
        "times, also alongside `lifecycle scheduler run`: each timer fires once.",
    )  # fmt: skip
    once.add_argument(
        "--now", type=moment, metavar="T",
        help="ISO-8601 time with an offset, not in the future (default: now)",
    )  # fmt: skip
    once.add_argument("--limit", type=positive_int, metavar="N", help="fire at most N timers")
    once.set_defaults(handler=run_tick)

    scheduler = subparsers.add_parser("scheduler", parents=[common], help="run the timers")
    actions = scheduler.add_subparsers(
        dest="scheduler_command", metavar="ACTION", required=True, parser_class=CommandParser
    )
    run = actions.add_parser(
        "run", parents=[common], help="tick on an interval until Ctrl-C or SIGTERM",
        description="Runs `tick` every --interval seconds (the first at once) until "
        "interrupted. Missed runs are coalesced; a restart catches up on everything due.",
    )  # fmt: skip
    run.add_argument(
        "--interval", type=_positive_float, default=DEFAULT_INTERVAL, metavar="SECONDS",
        help=f"seconds between ticks (default {DEFAULT_INTERVAL:g})",
    )  # fmt: skip
    run.set_defaults(handler=run_scheduler)


def run_tick(args: argparse.Namespace, parts: TickParts, clock: Clock, rules: Rulebook) -> int:
    now: datetime = args.now or clock()
    if now > clock() + rules.future_tolerance:
        _usage_error(f"--now {utc(now)} is in the future: timers fire only once they are due")
        return 2
    fired = tick(parts, now, limit=args.limit)
    if wants_json(args):
        print_json({"fired": fired})
    else:
        noun = "timer" if fired == 1 else "timers"
        sys.stdout.write(f"Fired {fired} {noun} due by {utc(now)}.\n")
    return 0


def run_scheduler(args: argparse.Namespace, parts: TickParts, clock: Clock) -> int:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, _stop_on(stop))
    scheduler = start_sweep(parts, clock, interval=args.interval)
    sys.stderr.write(f"Ticking every {args.interval:g} s; Ctrl-C or SIGTERM stops.\n")
    try:
        while not stop.wait(timeout=1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stop_sweep(scheduler)
        signal.signal(signal.SIGTERM, previous)
    sys.stderr.write("Scheduler stopped.\n")
    return 0


def _stop_on(stop: threading.Event) -> Any:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    return handle


def _usage_error(message: str) -> None:
    sys.stderr.write(dumps({"error": {"code": "validation_error", "message": message}}) + "\n")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value
