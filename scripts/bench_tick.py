"""Benchmark of `tick`: fires per second, and the cost of a tick when nothing is due.

    python scripts/bench_tick.py [--leads 1000000] [--due 10000] [--chunk 200]
                                 [--database-url URL]

Setup: `--due` real leads (created and assigned 10 days ago, so their first-attempt deadline
is overdue) go through the ledger and the deadlines projection; the other pending deadlines
(up to `--leads` in all) are inserted straight into the deadlines table, due in the next 30
days, for leads that do not exist (they are never due during the run). Then one tick fires the
due ones, and further ticks find nothing due. Without --database-url it runs on a fresh SQLite
file and, when PostgreSQL answers at LIFECYCLE_TEST_DATABASE_URL, on a fresh schema there too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from benchdb import database, engines
from sqlalchemy import text

from lifecycle.app import activities
from lifecycle.app.ledger import Batch, LeadLedger
from lifecycle.bootstrap import Settings, build
from lifecycle.projections.runner import ProjectionRunner
from lifecycle.scheduler.deadlines import DeadlinesProjection, deadlines
from lifecycle.scheduler.tick import due_query, tick

NOW = datetime(2026, 3, 16, 12, tzinfo=UTC)  # a Monday
LEADS_PER_SAVE = 500
ROWS_PER_INSERT = 50_000


@dataclass
class Timers:
    ledger: LeadLedger
    runner: ProjectionRunner


# ---------------------------------------------------------------------------------- setup
def create_due_leads(ledger: LeadLedger, count: int) -> None:
    """`count` leads assigned 10 days ago: each has one overdue first-attempt deadline."""
    then = (NOW - timedelta(days=10)).isoformat()
    for start in range(0, count, LEADS_PER_SAVE):
        size = min(LEADS_PER_SAVE, count - start)
        ledger.in_batch(lambda batch, first=start, n=size: _create(batch, first, n, then))


def _create(batch: Batch, first: int, count: int, then: str) -> None:
    for number in range(first, first + count):
        created = activities.parse_activity(
            {"type": "created", "email": f"due-{number}@example.com", "occurred_at": then}
        )
        lead = batch.record(None, created, "bench").lead
        assigned = activities.parse_activity(
            {"type": "assigned", "owner": "bench-owner", "occurred_at": then}
        )
        batch.record(str(lead.id), assigned, "bench")


def insert_future_rows(timers: Timers, count: int) -> None:
    """`count` deadlines due within the next 30 days, for leads that do not exist."""
    engine = timers.runner.engine
    spread = 30 * 24 * 3600
    for start in range(0, count, ROWS_PER_INSERT):
        size = min(ROWS_PER_INSERT, count - start)
        rows = [
            {"lead_id": uuid.uuid4(), "policy": "auto_nurture",
             "due_at": NOW + timedelta(seconds=1 + (start + i) * spread // count)}
            for i in range(size)
        ]  # fmt: skip
        with engine.begin() as conn:
            conn.execute(deadlines.insert(), rows)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


# ------------------------------------------------------------------------------- measure
def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def median_ms(work: Callable[[], Any], repeat: int = 20) -> float:
    return statistics.median(timed(work)[0] for _ in range(repeat)) * 1000


def select_due(timers: Timers, now: datetime) -> int:
    with timers.runner.engine.connect() as conn:
        return len(conn.execute(due_query(now, None, 200)).all())


def bench(url: str, engine: str, args: argparse.Namespace) -> None:
    services = build(Settings(url), clock=lambda: NOW)
    try:
        runner = ProjectionRunner(services.ledger.recorder, services.ledger.mapper,
                                  services.engine, [DeadlinesProjection()],
                                  clock=services.ledger.clock)  # fmt: skip
        runner.create_tables()
        timers = Timers(services.ledger, runner)
        run(timers, engine, args)
    finally:
        services.close()


def run(timers: Timers, engine: str, args: argparse.Namespace) -> None:
    setup, _ = timed(lambda: create_due_leads(timers.ledger, args.due))
    catch_up, _ = timed(lambda: timers.runner.catch_up("deadlines"))
    rows, _ = timed(lambda: insert_future_rows(timers, args.leads - args.due))
    print(f"{engine}: setup {args.due:,} due leads {setup:.1f} s, projection {catch_up:.1f} s, "
          f"{args.leads - args.due:,} other rows {rows:.1f} s")  # fmt: skip

    seconds, fired = timed(lambda: tick(timers, NOW, chunk=args.chunk))
    print(f"{engine}: one tick fired {fired:,} of {args.leads:,} pending deadlines in "
          f"{seconds:.2f} s = {fired / seconds:,.0f} fires/s (chunk {args.chunk})")  # fmt: skip
    assert fired == args.due, f"expected {args.due} fires, got {fired}"

    select_ms = median_ms(lambda: select_due(timers, NOW))
    tick_ms = median_ms(lambda: tick(timers, NOW))
    print(f"{engine}: nothing due over {args.leads - args.due:,} pending: select due rows "
          f"{select_ms:.2f} ms, whole tick {tick_ms:.2f} ms (medians of 20)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", help="run on this database only")
    parser.add_argument("--leads", type=int, default=1_000_000, help="pending deadlines in all")
    parser.add_argument("--due", type=int, default=10_000, help="of which due now")
    parser.add_argument("--chunk", type=int, default=200, help="timers fired per atomic save")
    args = parser.parse_args()
    if not 0 < args.due <= args.leads:
        parser.error("need 0 < --due <= --leads")
    for engine in engines(args):
        with database(args, engine) as url:
            bench(url, engine, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
