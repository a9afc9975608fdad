"""Micro-benchmark of the stored-event codec: µs per lead event to encode and to decode.

    python scripts/bench_codec.py [--base PATH] [--rounds 15] [--number 5000]
    python scripts/bench_codec.py --store sqlite:///PATH [--base PATH] [--rounds 5]

With `--base` (a checkout of an earlier commit, e.g. a `git worktree`), that checkout's
`lifecycle/storage/codec.py` is measured beside this one in the same process, the two taking
turns round after round (the order alternating); the figures are the range over the rounds
and the median of the per-round ratios. Measured per event: `encode` (the mapper's
`to_stored_event`), `decode` (the mapper's `to_domain_event`), `replay` (the projections' path:
`Schema.event` on the state bytes) and `marked` (`to_domain_event` of a 0.1 marked-form event).
With `--store` (a SQLite file, e.g. one `bench_rebuild.py --keep` made), `replay` decodes every
lead event of that store's log instead, as a rebuild does: the mix of a real history.
"""

from __future__ import annotations

import argparse
import importlib.util
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import Mapper
from eventsourcing.utils import resolve_topic

from lifecycle.domain.lead import Lead
from lifecycle.domain.values import Policy, Stage, Status
from lifecycle.storage import codec
from lifecycle.storage.store import transcoder

AT = datetime(2026, 3, 2, 9, 15, 30, 250_000, tzinfo=UTC)


def lead_events() -> list[Any]:
    """Lead events as an import writes them: an attempt (the commonest), an assignment, a win."""
    lead = uuid4()
    common: dict[str, Any] = {"originator_id": lead, "actor": "na-bdr-1"}
    due = {Policy.CADENCE: AT + timedelta(days=2), Policy.AUTO_NURTURE: AT + timedelta(days=30)}
    return [
        Lead.Attempted(originator_version=4, timestamp=AT, occurred_at=AT, status=Status.ATTEMPT_1,
                       stage=Stage.LEAD, deadlines=due, channel="email", attempt=1,
                       rules_version="3", **common),
        Lead.Assigned(originator_version=2, timestamp=AT, occurred_at=AT, status=Status.OPEN,
                      stage=Stage.LEAD, deadlines={Policy.FIRST_ATTEMPT: AT + timedelta(hours=1)},
                      owner="na-bdr-1", previous_owner=None, rule="round-robin", team="na",
                      rules_version="3", **common),
        Lead.Won(originator_version=9, timestamp=AT, occurred_at=AT, status=Status.QUALIFIED,
                 stage=Stage.CUSTOMER, deadlines={}, amount=Decimal("12000.50"), **common),
    ]  # fmt: skip


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("base_codec", path / "lifecycle/storage/codec.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def workloads(module: ModuleType) -> dict[str, Callable[[], object]]:
    """name → one pass over the events, for the codec `module`."""
    mapper = module.TypedMapper[UUID](transcoder=transcoder())
    events = lead_events()
    stored = [mapper.to_stored_event(event) for event in events]
    marked = [Mapper[UUID](transcoder=transcoder()).to_stored_event(event) for event in events]
    rows = [(mapper.schema(type(e)), s.state, s.originator_id, s.originator_version)
            for e, s in zip(events, stored, strict=True)]  # fmt: skip

    def replay() -> None:
        for schema, state, originator_id, version in rows:
            schema.event(state, originator_id, version)

    return {
        "encode": lambda: [mapper.to_stored_event(event) for event in events],
        "decode": lambda: [mapper.to_domain_event(each) for each in stored],
        "replay": replay,
        "marked": lambda: [mapper.to_domain_event(each) for each in marked],
    }


def store_replay(module: ModuleType, url: str) -> tuple[Callable[[], object], int]:
    """One pass decoding every lead event stored at `url`, and how many there are."""
    mapper = module.TypedMapper[UUID](transcoder=transcoder())
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        query = "SELECT originator_id, originator_version, topic, state FROM stored_events"
        found = conn.execute(f"{query} WHERE topic LIKE 'lifecycle:Lead.%'").fetchall()
    schemas = {topic: mapper.schema(resolve_topic(topic)) for _, _, topic, _ in found}
    rows = [(schemas[topic], state, UUID(key), version)
            for key, version, topic, state in found]  # fmt: skip

    def replay() -> None:
        for schema, state, originator_id, version in rows:
            schema.event(state, originator_id, version)

    return replay, len(rows)


def per_event(work: Callable[[], object], number: int, events: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        work()
    return (time.perf_counter() - start) / number / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, help="a checkout whose codec to measure beside")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=5_000, help="passes per measurement")
    parser.add_argument("--store", help="decode every lead event of this SQLite store")
    args = parser.parse_args()
    modules = {**({"base": load(args.base)} if args.base else {}), "this": codec}
    if args.store:
        passes = {name: store_replay(module, args.store) for name, module in modules.items()}
        builds = {name: {"replay": work} for name, (work, _) in passes.items()}
        events, args.number = passes["this"][1], 1
    else:
        builds = {name: workloads(module) for name, module in modules.items()}
        events = len(lead_events())
    times: dict[tuple[str, str], list[float]] = {}
    for number in range(args.rounds):
        order = list(builds) if number % 2 == 0 else list(reversed(builds))
        for name in builds["this"]:
            for build in order:
                took = per_event(builds[build][name], args.number, events)
                times.setdefault((build, name), []).append(took)
    for name in builds["this"]:
        line = [f"{name:7}"]
        for build in builds:
            each = times[(build, name)]
            middle = statistics.median(each)
            line.append(f"{build} {min(each):5.2f}–{max(each):5.2f} µs (median {middle:5.2f})")
        if "base" in builds:
            pairs = zip(times[("base", name)], times[("this", name)], strict=True)
            ratios = [base / this for base, this in pairs]
            low, high = min(ratios), max(ratios)
            line.append(f"base/this {statistics.median(ratios):.2f}× ({low:.2f}–{high:.2f})")
        print("  ".join(line))


if __name__ == "__main__":
    main()
