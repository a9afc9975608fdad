"""Rebuild speed and freshness of the read models (these machines are shared: run twice).

    python scripts/bench_rebuild.py [--events 1000000] [--database-url URL ...]
                                    [--rebuild-workers 1 2] [--lag-seconds 10]
                                    [--writes-per-second 200] [--keep]

For each database (default: a fresh SQLite file, and a fresh schema on the PostgreSQL server
at LIFECYCLE_TEST_DATABASE_URL when it answers):

1. writes about --events lead events through the application: leads with realistic stories
   (touches, assignment, attempts, replies, qualification, hand-off, deals won and lost, SLA
   breaches fired by the scheduler), a thousand leads at a time, so each lead's events are
   spread through the log as in production;
2. rebuilds every projection (the read models and the deadlines, as `lifecycle projections
   rebuild` does) from position 0 in a fresh process and prints events/s and the
   process's peak memory (ru_maxrss: everything the process ever held, not only Python objects);
   then again with `lifecycle projections rebuild --workers N` for each other N of
   --rebuild-workers (the peak is then the largest of its processes');
3. appends activities steadily while a catch-up loop (as `lifecycle serve` runs it, every 0.5 s)
   keeps the projections current and builds the funnel report, and prints how long an appended
   event takes to show in a report (p50, p95, max).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from lifecycle.app.activities import parse_activity
from lifecycle.app.ledger import Batch, LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.bootstrap import projections
from lifecycle.domain.errors import LifecycleError
from lifecycle.domain.rules import Rulebook
from lifecycle.domain.values import Policy
from lifecycle.logs import set_level
from lifecycle.projections.facts import lead_facts
from lifecycle.projections.reports import build_report
from lifecycle.projections.runner import ProjectionRunner
from lifecycle.storage.db import read_model_engine
from lifecycle.storage.store import persistence_env

PG_URL = os.environ.get("LIFECYCLE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
START = datetime(2026, 1, 5, 8, tzinfo=UTC)
NOW = START + timedelta(days=120)
WAVE = 1000  # leads written together: each save holds one step of each
CATCH_UP_INTERVAL = 0.5  # what `lifecycle serve` uses
SOURCES = [("organic", "seo"), ("ads", "q1-brand"), ("webinar", "gitops"), ("content", "ebook"),
           ("referral", "partners"), ("event", "kubecon")]  # fmt: skip
CONTENT = ["guide", "roi-calculator", "checklist", "case-study", "pricing", "demo-video"]
TOUCHES = ["page_view", "email_click", "content_download", "webinar", "pricing_view"]
OWNERS = ["ana", "bob", "cy", "dee", "eli", "fay", "gus", "hal"]

Step = tuple[datetime, str, dict[str, Any]]  # when, activity type (or "fire"), fields


def story(rng: random.Random, created: datetime) -> list[Step]:
    """One lead's activities, in time order (about 9.5 events on average)."""
    source, campaign = rng.choice(SOURCES)
    steps: list[Step] = [(created, "created", {
        "source": source, "campaign": campaign, "region": rng.choice(["na", "emea", "apac"]),
        "title": rng.choice(["Engineer", "Engineering Manager", "VP Engineering", "CTO"]),
    })]  # fmt: skip
    at = created
    for _ in range(rng.randint(1, 4)):
        at += timedelta(hours=rng.uniform(0.5, 30))
        steps.append(
            (
                at,
                "touched",
                {
                    "kind": rng.choice(TOUCHES),
                    "source": source,
                    "campaign": campaign,
                    "content": rng.choice(CONTENT),
                },
            )
        )
    at += timedelta(hours=rng.uniform(0.1, 4))
    steps.append((at, "assigned", {"owner": rng.choice(OWNERS)}))
    delay = rng.choice([0.5, 2, 6, 30])  # fast and slow reps: some first attempts are late
    at += timedelta(hours=delay)
    if delay > 4:
        steps.append((at, "fire", {"policy": Policy.FIRST_ATTEMPT}))
    for _ in range(rng.randint(1, 5)):
        steps.append((at, "attempted", {"channel": rng.choice(["email", "email", "call"])}))
        at += timedelta(hours=rng.uniform(2, 60))
    outcome = rng.random()
    if outcome < 0.45:
        steps.append((at, "responded", {"channel": "email"}))
        at += timedelta(hours=rng.uniform(1, 48))
        if rng.random() < 0.6:
            steps += _sale(rng, at)
        else:
            steps.append((at, "nurtured", {"reason": "not now"}))
    elif outcome < 0.6:
        steps.append((at, "disqualified", {"reason": "student"}))
    return steps


def _sale(rng: random.Random, at: datetime) -> list[Step]:
    to_owner = "ae-" + rng.choice("xyz")
    steps: list[Step] = [
        (at, "qualified", {"budget": True, "need": True, "timeline": True}),
        (at + timedelta(hours=1), "passed", {"to_owner": to_owner}),
    ]
    at += timedelta(hours=rng.uniform(2, 80))
    steps.append((at, "accepted", {}))
    if rng.random() < 0.7:
        amount = str(rng.choice([5000, 12000, 25000, 60000]))
        steps.append((at + timedelta(days=2), "opportunity_created", {"amount": amount}))
        closed = at + timedelta(days=rng.uniform(5, 40))
        won = rng.random() < 0.45
        steps.append((closed, "won" if won else "lost", {"amount": amount} if won else {}))
    return steps


def generate(url: str, events: int, seed: int = 7) -> int:
    """Writes leads until about `events` lead events are stored; returns the lead events."""
    rng = random.Random(seed)
    ledger = LeadLedger(persistence_env(url), rules=Rulebook(), clock=lambda: NOW)
    written, started, wave = 0, time.perf_counter(), 0
    try:
        while written < events:
            created = [START + timedelta(days=rng.uniform(0, 90)) for _ in range(WAVE)]
            stories = [story(rng, moment) for moment in sorted(created)]
            written += _write_wave(ledger, stories)
            wave += 1
            if wave % 20 == 0:
                rate = written / (time.perf_counter() - started)
                print(f"  generated {written:,} events ({rate:,.0f}/s)", file=sys.stderr)
    finally:
        ledger.close()
    return written


def _write_wave(ledger: LeadLedger, stories: list[list[Step]]) -> int:
    """Step i of every story in save i: the leads' events interleave in the log."""
    batch, ids, written = Batch(ledger), [""] * len(stories), 0
    for index in range(max(len(s) for s in stories)):
        for number, steps in enumerate(stories):
            if index < len(steps):
                written += _perform(batch, ids, number, steps[index])
        batch.save()
    return written


def _perform(batch: Batch, ids: list[str], number: int, step: Step) -> int:
    at, activity, fields = step
    if activity == "fire":
        lead = batch.lead(uuid.UUID(ids[number]))
        due = lead.deadlines.get(fields["policy"])
        return int(due is not None and due <= at and lead.fire(fields["policy"], due, NOW))
    body = {"type": activity, "occurred_at": at.isoformat(), **fields}
    if activity == "created":
        body["email"] = f"{uuid.uuid4().hex[:12]}@example.com"
    try:
        recorded = batch.record(ids[number] or None, parse_activity(body), "bench")
    except LifecycleError:
        return 0
    ids[number] = str(recorded.lead.id)
    return len(recorded.events)


def rebuild_in_workers(url: str, workers: int, events: int) -> dict[str, Any]:
    """Runs in a fresh process: `lifecycle projections rebuild --workers N` as a user runs it;
    the peak memory is the largest process's (the command's or one of its workers')."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "lifecycle", "projections", "rebuild", "--json",
         "--workers", str(workers), "--database-url", url],
        check=True, capture_output=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "workers": workers, "events": events, "seconds": round(seconds, 1),
        "events_per_second": round(events / seconds), "peak_memory_mb_per_process": round(peak),
    }  # fmt: skip


def rebuild(url: str) -> dict[str, Any]:
    """Runs in a fresh process: rebuild every projection in this one process, time it, read
    the peak memory."""
    ledger = LeadLedger(persistence_env(url), lambda: datetime.now(UTC), rules=Rulebook())
    engine = read_model_engine(url)
    try:
        runner = ProjectionRunner(
            ledger.recorder, ledger.mapper, engine, projections(), clock=ledger.clock
        )
        runner.create_tables()
        started = time.perf_counter()
        applied = runner.rebuild()
        seconds = time.perf_counter() - started
        events = applied // len(runner.projections)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "workers": 1, "events": events, "seconds": round(seconds, 1),
            "events_per_second": round(events / seconds), "peak_memory_mb": round(peak),
        }  # fmt: skip
    finally:
        engine.dispose()
        ledger.close()


def lag(url: str, seconds: float, rate: float) -> dict[str, Any]:
    """Appends `rate` new leads a second; how long until each is counted in a report.

    A lead is visible once the funnel report built after a catch-up counts it: the reader
    checks the report's own table for the leads it is waiting for.
    """
    ledger = LeadLedger(persistence_env(url), rules=Rulebook(), clock=lambda: datetime.now(UTC))
    engine = read_model_engine(url)
    runner = ProjectionRunner(
        ledger.recorder, ledger.mapper, engine, projections(), clock=ledger.clock
    )
    runner.create_tables()
    runner.catch_up()
    appended: list[tuple[str, float]] = []
    delays: list[float] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            body = {"type": "created", "email": f"{uuid.uuid4().hex[:12]}@example.com",
                    "source": "bench"}  # fmt: skip
            lead = ledger.record(Submission(None, body, "bench")).lead
            appended.append((str(lead.id), time.monotonic()))
            time.sleep(1 / rate)

    def read() -> None:
        waiting: dict[str, float] = {}
        while not stop.is_set() or appended or waiting:
            while appended:
                lead_id, at = appended.pop()
                waiting[lead_id] = at
            runner.catch_up()
            build_report("funnel", engine, ledger.rules, group_by="source")
            now = time.monotonic()
            for lead_id in _counted(engine, list(waiting)):
                delays.append(now - waiting.pop(lead_id))
            if not stop.is_set():
                time.sleep(CATCH_UP_INTERVAL)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    engine.dispose()
    ledger.close()
    quantiles = statistics.quantiles(delays, n=20) if len(delays) > 1 else delays * 19
    return {"appends": len(delays), "p50_s": round(statistics.median(delays), 3),
            "p95_s": round(quantiles[18], 3), "max_s": round(max(delays), 3)}  # fmt: skip


def _counted(engine: Engine, lead_ids: list[str]) -> list[str]:
    if not lead_ids:
        return []
    with engine.connect() as conn:
        query = select(lead_facts.c.lead_id).where(lead_facts.c.lead_id.in_(lead_ids))
        return list(conn.scalars(query))


@contextlib.contextmanager
def fresh_database(engine: str, keep: bool) -> Iterator[str]:
    if engine == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bench-rebuild-"))
        yield f"sqlite:///{folder}/bench.db"
        if not keep:
            shutil.rmtree(folder)
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"
    finally:
        if not keep:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=2):
            return True
    except Exception:  # any failure: no PostgreSQL to measure
        return False


def bench(url: str, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"database": url.split(":")[0]}
    if not args.no_generate:
        started = time.perf_counter()
        result["generated_events"] = generate(url, args.events)
        result["generate_seconds"] = round(time.perf_counter() - started, 1)
    if not args.no_rebuild:
        result["rebuild"] = []
        for workers in sorted(set(args.rebuild_workers)):
            events = result["rebuild"][0]["events"] if result["rebuild"] else 0
            child = subprocess.run(
                [sys.executable, __file__, "--rebuild-only", "--database-url", url,
                 "--rebuild-workers", str(workers), "--events", str(events)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            result["rebuild"].append(json.loads(child.stdout.strip().splitlines()[-1]))
    if args.lag_seconds > 0:
        result["lag"] = lag(url, args.lag_seconds, args.writes_per_second)
    return result


def main(argv: list[str] | None = None) -> None:
    set_level("warning")  # the appends of the lag phase would log a line each
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", action="append", help="(repeatable) instead of fresh")
    parser.add_argument("--lag-seconds", type=float, default=10.0)
    parser.add_argument("--writes-per-second", type=float, default=200.0)
    parser.add_argument("--keep", action="store_true", help="keep the fresh databases")
    parser.add_argument("--no-generate", action="store_true", help="use the events already there")
    parser.add_argument("--no-rebuild", action="store_true", help="measure the lag only")
    parser.add_argument(
        "--rebuild-workers",
        type=int,
        nargs="+",
        default=[1, 2],
        metavar="N",
        help="rebuild in one process (1, measured in-process) and with `--workers N`",
    )
    parser.add_argument("--rebuild-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rebuild_only:
        (workers,) = args.rebuild_workers
        url = args.database_url[0]
        figures = rebuild(url) if workers == 1 else rebuild_in_workers(url, workers, args.events)
        print(json.dumps(figures))
        return

    def run(url: str) -> None:
        print(json.dumps(bench(url, args)), flush=True)

    if args.database_url:
        for url in args.database_url:
            run(url)
        return
    engines = ["sqlite", *(["postgres"] if postgres_answers() else [])]
    for engine in engines:
        with fresh_database(engine, args.keep) as url:
            run(url)


if __name__ == "__main__":
    main()
