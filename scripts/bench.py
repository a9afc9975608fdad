"""Benchmarks that print figures (these machines are shared and noisy: run twice, read both).

    python scripts/bench.py import [--leads 10000] [--database-url URL]
    python scripts/bench.py read [--events 1000] [--database-url URL]
    python scripts/bench.py tick ...      # scripts/bench_tick.py: fires/s, empty-tick latency
    python scripts/bench.py rebuild ...   # scripts/bench_rebuild.py: rebuild events/s, memory, lag
    python scripts/bench.py http ...      # scripts/bench_http.py: appends/s and latency over HTTP

Without --database-url each benchmark runs on a fresh SQLite file and, when PostgreSQL answers
at LIFECYCLE_TEST_DATABASE_URL, on a fresh schema there too.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from benchdb import database, engines

from lifecycle.app.importer import run_import
from lifecycle.app.recording import Submission
from lifecycle.bootstrap import Settings, build

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def import_lines(leads: int) -> list[bytes]:
    """leads × 8 activities: created, assigned, touched, 3 attempts, responded, qualified."""
    lines = []
    for n in range(leads):
        at = START + timedelta(minutes=n)
        ref = {"external_id": f"bench-{n}"}

        def line(
            body: dict[str, object], minutes: int, ref: dict[str, str] = ref, at: datetime = at
        ) -> bytes:
            when = (at + timedelta(minutes=minutes)).isoformat()
            return orjson.dumps({**ref, **body, "occurred_at": when})

        lines += [
            line(
                {
                    "type": "created",
                    "email": f"lead{n}@bench.example",
                    "source": "web",
                    "campaign": f"c{n % 7}",
                    "region": "na",
                },
                0,
            ),
            line({"type": "assigned", "owner": "na-bdr-1"}, 1),
            line({"type": "touched", "kind": "page_view", "source": "web"}, 2),
            line({"type": "attempted", "channel": "email"}, 3),
            line({"type": "attempted", "channel": "call"}, 4),
            line({"type": "attempted", "channel": "email"}, 5),
            line({"type": "responded", "channel": "email"}, 6),
            line({"type": "qualified", "budget": True, "need": True}, 7),
        ]
    return lines


def bench_import(args: argparse.Namespace) -> None:
    lines = import_lines(args.leads)
    for engine in engines(args):
        with database(args, engine) as url:
            services = build(Settings(url), clock=lambda: START + timedelta(days=3650))
            try:
                started = time.perf_counter()
                report = run_import(services.ledger, lines, chunk_size=args.chunk)
                seconds = time.perf_counter() - started
            finally:
                services.close()
        rejected = len(report.rejected)
        print(
            f"import {engine}: {args.leads} leads, {len(lines)} lines, {report.events} events "
            f"in {seconds:.2f} s = {report.events / seconds:,.0f} events/s "
            f"({len(lines) / seconds:,.0f} lines/s; {rejected} rejected)"
        )


def bench_read(args: argparse.Namespace) -> None:
    for engine in engines(args):
        with database(args, engine) as url:
            services = build(Settings(url), clock=lambda: START + timedelta(days=3650))
            try:
                ledger = services.ledger
                lead = ledger.record(
                    Submission(
                        None,
                        {
                            "type": "created",
                            "email": "big@bench.example",
                            "occurred_at": START.isoformat(),
                        },
                        "bench",
                    )
                ).lead
                touches = [
                    orjson.dumps(
                        {
                            "lead_id": str(lead.id),
                            "type": "touched",
                            "kind": "page_view",
                            "occurred_at": (START + timedelta(minutes=i)).isoformat(),
                        }
                    )
                    for i in range(args.events - 1)
                ]
                run_import(ledger, touches)
                # The import's garbage would otherwise make a full collection land in whichever
                # read comes first (30-35 ms here): measure the read, not the collector.
                gc.collect()
                timings = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    ledger.find(str(lead.id))
                    timings.append((time.perf_counter() - started) * 1000)
                version = ledger.find(str(lead.id)).version
            finally:
                services.close()
        print(
            f"lead show {engine}: {version} events, first (cold) read {timings[0]:.1f} ms, "
            f"then median {statistics.median(timings[1:]):.1f} ms (cached) over {args.repeat} reads"
        )


DELEGATED = {"tick": "bench_tick.py", "rebuild": "bench_rebuild.py", "http": "bench_http.py"}


def delegate(name: str, args: list[str]) -> int:
    """Runs one of the larger benchmarks, which live in scripts of their own."""
    import runpy

    script = Path(__file__).resolve().parent / DELEGATED[name]
    sys.argv = [str(script), *args]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in DELEGATED:
        return delegate(sys.argv[1], sys.argv[2:])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", help="run on this database only")
    sub = parser.add_subparsers(dest="bench", required=True)
    imp = sub.add_parser("import", help="bulk import throughput")
    imp.add_argument("--leads", type=int, default=10_000)
    imp.add_argument("--chunk", type=int, default=1000)
    imp.set_defaults(run=bench_import)
    read = sub.add_parser("read", help="latency to load one long-lived lead")
    read.add_argument("--events", type=int, default=1000)
    read.add_argument("--repeat", type=int, default=50)
    read.set_defaults(run=bench_read)
    args = parser.parse_args()
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
