"""Replay: read models kept up to date live give the same reports, and the same rows, as read
models rebuilt from position 0; and a crash in the middle of a batch changes nothing.

Histories are random: a few leads, each step one of the activities the lead allows at that
moment (so most are accepted) at moving times, some recorded late (those may be refused, which
is fine), timers fired by a pretend scheduler, and the projections caught up at random moments
in between.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from helpers import ManualClock, every_row, fire
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.domain.errors import LifecycleError
from lifecycle.domain.rules import Rulebook
from lifecycle.projections.catalog import read_models
from lifecycle.projections.partitions import Partition
from lifecycle.projections.reports import build_report
from lifecycle.projections.runner import ProjectionRunner
from lifecycle.storage.db import read_model_engine
from lifecycle.storage.store import persistence_env

START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
POSTGRES = os.environ.get(
    "LIFECYCLE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

BODIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "assigned": st.sampled_from([{"owner": "ana"}, {"owner": "bob"}, {"owner": "na-bdr-1"}, {}]),
    "attempted": st.sampled_from([{"channel": "email"}, {"channel": "call"}]),
    "responded": st.just({"channel": "email"}),
    "qualified": st.just({"budget": True, "need": True}),
    "disqualified": st.just({"reason": "no budget"}),
    "nurtured": st.just({}),
    "bad_data": st.just({"channel": "all"}),
    "reopened": st.just({}),
    "passed": st.sampled_from([{"to_owner": "sam"}, {"to_owner": "kim"}]),
    "accepted": st.just({}),
    "opportunity_created": st.just({"amount": "5000"}),
    "won": st.sampled_from([{"amount": "4000"}, {"amount": "7500.50"}]),
    "lost": st.just({}),
    "touched": st.fixed_dictionaries({
        "kind": st.sampled_from(["page_view", "demo_request", "webinar", "email_click"]),
        "source": st.sampled_from(["web", "ads", None]),
        "content": st.sampled_from(["ebook", "pricing", None]),
    }),
    "opted_out": st.sampled_from([{}, {"days": 3}]),
}  # fmt: skip


FUNNEL = ["assigned", "attempted", "responded", "qualified", "passed", "accepted",
          "opportunity_created", "won"]  # fmt: skip


@dataclass(frozen=True)
class Step:
    lead: int
    activity: str  # an activity type, "tick" (fire due timers) or "next" (one the lead allows)
    body: dict[str, Any]  # for "next": a body per activity type
    minutes: int  # how far the clock moves first
    late_hours: int  # how long before now the activity occurred
    catch_up: bool  # whether the live projections catch up after this step
    choice: int = 0  # which of the allowed activities "next" takes


@st.composite
def steps(draw: st.DrawFn) -> Step:
    activity = draw(st.sampled_from(["created", "tick", *["next"] * 8]))
    if activity == "created":
        body = {"source": draw(st.sampled_from(["web", "ads", None])),
                "campaign": draw(st.sampled_from(["spring", None])),
                "region": draw(st.sampled_from(["emea", "na", None]))}  # fmt: skip
    else:
        body = draw(st.fixed_dictionaries(BODIES))
    return Step(
        lead=draw(st.integers(0, 2)), activity=activity, body=body,
        minutes=draw(st.sampled_from([0, 10, 60, 240, 1500, 8000])),
        late_hours=draw(st.sampled_from([0, 0, 0, 2, 30])), catch_up=draw(st.booleans()),
        choice=draw(st.integers(0, 20)),
    )  # fmt: skip


@contextmanager
def fresh_database(engine: str) -> Iterator[str]:
    if engine == "sqlite":
        with TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'replay.db'}"
        return
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=2)
    except psycopg.Error as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL not reachable at {POSTGRES}: {error}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES}")
    schema = f"r_{uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}schema={schema}"
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def services(url: str, clock: ManualClock, **runner_options: Any) -> Iterator[ProjectionRunner]:
    ledger = LeadLedger(persistence_env(url), rules=Rulebook(), clock=clock.now)
    engine = read_model_engine(url)
    models = read_models()
    runner = ProjectionRunner(
        ledger.recorder, ledger.mapper, engine, models, **runner_options, clock=ledger.clock
    )
    runner.create_tables()
    try:
        yield runner
    finally:
        engine.dispose()
        ledger.close()


def play(ledger: LeadLedger, clock: ManualClock, history: list[Step],
         runner: ProjectionRunner | None = None) -> None:  # fmt: skip
    """Runs the steps; a step for a lead that does not exist yet creates it."""
    leads: dict[int, str] = {}
    for step in history:
        now = clock.advance(minutes=step.minutes)
        occurred = (now - timedelta(hours=step.late_hours)).isoformat()
        if step.activity == "tick":
            fire_due_timers(ledger, list(leads.values()), now)
        elif step.lead not in leads or step.activity == "created":
            fields = step.body if step.activity == "created" else {}
            body = {"type": "created", "email": f"{uuid4().hex[:8]}@example.com",
                    "occurred_at": occurred, **fields}  # fmt: skip
            leads[step.lead] = str(ledger.record(Submission(None, body, "test")).lead.id)
        else:
            activity, fields = step.activity, step.body
            if activity == "next":
                activity = next_activity(ledger.find(leads[step.lead]).allowed(), step.choice)
                fields = step.body.get(activity, {})
            body = {"type": activity, "occurred_at": occurred, **fields}
            with suppress(LifecycleError):  # refused (out of order, mostly): nothing recorded
                ledger.record(Submission(leads[step.lead], body, "test"))
        if runner is not None and step.catch_up:
            runner.catch_up()


def next_activity(allowed: list[str], choice: int) -> str:
    """Mostly the furthest step down the funnel the lead allows, else any allowed one."""
    allowed = [activity for activity in allowed if activity in BODIES] or ["touched"]
    forward = [activity for activity in FUNNEL if activity in allowed]
    if forward and choice < 10:
        return forward[-1]
    return allowed[choice % len(allowed)]


def fire_due_timers(ledger: LeadLedger, leads: list[str], now: datetime) -> None:
    for lead_id in leads:
        lead = ledger.find(lead_id)
        for policy, due in sorted(lead.deadlines.items(), key=lambda item: item[1]):
            if due <= now:
                fire(ledger, lead.id, policy, due, now)


def every_report(runner: ProjectionRunner, now: datetime) -> dict[str, Any]:
    rules, engine = Rulebook(), runner.engine
    period = {"start": START, "end": START + timedelta(days=20), "now": now}
    reports = {
        "funnel": build_report("funnel", engine, rules, now, group_by="source"),
        "funnel-owner": build_report("funnel", engine, rules, now, group_by="owner", **period),
        "status": build_report("status", engine, rules, now),
        "sla": build_report("sla", engine, rules, now),
        "activity": build_report("activity", engine, rules, now),
        "time-in-status": build_report("time-in-status", engine, rules, now, **period),
        "plan": build_report(
            "plan",
            engine,
            rules,
            now,
            revenue_goal="50000",
            deal_size="5000",
            conversion_rate="0.5",
        ),
    }
    for model in ("first_touch", "w_shaped", "time_decay"):
        for goal in ("mql", "customer"):
            reports[f"attribution-{model}-{goal}"] = build_report(
                "attribution", engine, rules, now, model=model, goal=goal
            )
    return reports


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=st.lists(steps(), min_size=25, max_size=70),
    partitions=st.integers(min_value=2, max_value=5),
    order=st.randoms(use_true_random=False),
)
def test_live_read_models_equal_read_models_rebuilt_from_the_start(
    engine, history, partitions, order
):
    clock = ManualClock(START)
    with fresh_database(engine) as url, services(url, clock, batch_size=7) as runner:
        ledger = LeadLedger(persistence_env(url), rules=Rulebook(), clock=clock.now)
        try:
            play(ledger, clock, history, runner)
        finally:
            ledger.close()
        runner.catch_up()
        live_reports, live_rows = every_report(runner, clock.now()), every_row(runner)
        runner.rebuild()
        assert every_row(runner) == live_rows
        assert every_report(runner, clock.now()) == live_reports

        # Split by lead, the partitions replayed in any order in small batches, then joined.
        runner.rebuild_batch_size = 5
        runner.split(None, partitions)
        indexes = list(range(partitions))
        order.shuffle(indexes)
        for index in indexes[1:]:  # the first one drawn is left to the join
            runner.catch_up_partition(None, Partition(index, partitions))
        runner.join()
        assert every_row(runner) == live_rows
        assert every_report(runner, clock.now()) == live_reports


class Crash(BaseException):
    """The process dies here (like SystemExit: an ordinary exception from a projection now
    means that the event cannot be applied, and its lead is quarantined)."""


class CrashingOnce:
    """A projection that writes half of its third batch and then dies."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.batches = inner, inner.name, 0

    def tables(self) -> Any:
        return self.inner.tables()

    def apply(self, conn: Any, batch: Any) -> None:
        self.batches += 1
        if self.batches == 3:
            self.inner.apply(conn, batch[: len(batch) // 2])
            raise Crash
        self.inner.apply(conn, batch)


FIXED_HISTORY = [
    Step(lead, activity, body, 45, late, catch_up=False)
    for lead in range(3)
    for activity, body, late in [
        ("created", {"source": "web"}, 0), ("touched", {"kind": "webinar", "content": "e"}, 0),
        ("assigned", {"owner": "ana"}, 0), ("tick", {}, 0), ("attempted", {"channel": "call"}, 2),
        ("responded", {}, 0), ("qualified", {"budget": True, "need": True}, 0),
        ("passed", {"to_owner": "sam"}, 0), ("accepted", {}, 0),
        ("opportunity_created", {"amount": "900"}, 0), ("won", {"amount": "1000"}, 0),
    ]
]  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("crashing", ["lead_facts", "touches", "sla_clocks"])
def test_a_crash_in_the_middle_of_a_batch_leaves_nothing_behind(engine, crashing):
    clock = ManualClock(START)
    with fresh_database(engine) as url:
        with services(url, clock) as runner:
            ledger = LeadLedger(persistence_env(url), rules=Rulebook(), clock=clock.now)
            play(ledger, clock, FIXED_HISTORY)
            ledger.close()
            crashing_runner = ProjectionRunner(
                runner.recorder, runner.mapper, runner.engine,
                [CrashingOnce(p) if p.name == crashing else p for p in read_models()],
                batch_size=6, clock=runner.clock
            )  # fmt: skip
            with pytest.raises(Crash):
                crashing_runner.catch_up()
            reached = {name: runner.position(name) for name in runner.projections}
            assert set(reached.values()) == {reached[crashing]}  # one transaction for all
            assert 0 < reached[crashing] < runner.head()
        with services(url, clock) as restarted:  # a new process: new engine, new runner
            restarted.catch_up()
            after_restart = every_report(restarted, clock.now()), every_row(restarted)
            restarted.rebuild()
            assert (every_report(restarted, clock.now()), every_row(restarted)) == after_restart
