"""`tick(now)` and the deadlines projection: exactly once, whatever happens around them.

Double ticks, concurrent ticks (SQLite and PostgreSQL), a crash in the middle of a tick or
between firing and clearing, stale rows, long downtime, and a rebuild of the projection.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from helpers import ManualClock, damage, given_lead, types_of, when
from sqlalchemy import select
from structlog.testing import capture_logs

from lifecycle.bootstrap import Services, Settings, run_command
from lifecycle.cli import ticks
from lifecycle.cli.common import CommandParser, common_options
from lifecycle.domain.lead import Lead
from lifecycle.domain.values import Policy
from lifecycle.projections.runner import ProjectionRunner
from lifecycle.scheduler.deadlines import deadlines
from lifecycle.scheduler.tick import Due, due_query, fire_chunk, tick

if TYPE_CHECKING:
    from conftest import Timers, TimersFactory  # tests/scheduler/conftest.py

FIRST_ATTEMPT_DUE = timedelta(hours=4)  # owner "alex": 09:00–17:00 UTC, clock at Monday 09:00


def assigned_leads(timers: Timers, count: int) -> list[str]:
    """`count` open leads whose first-attempt deadline falls due in 4 hours."""
    return [given_lead(timers.ledger, "assigned") for _ in range(count)]


def breaches_per_lead(timers: Timers, leads: list[str]) -> Counter[int]:
    """How many leads have recorded 0, 1, 2… breaches."""
    return Counter(types_of(timers.ledger, lead).count("sla_breached") for lead in leads)


def raw_rows(timers: Timers) -> set[tuple[Any, ...]]:
    """The table as it is, without catching up."""
    with timers.engine.connect() as conn:
        return {tuple(row) for row in conn.execute(select(deadlines))}


# ------------------------------------------------------------------------- the basics
def test_a_due_deadline_fires_and_leaves_the_table(timers: Timers, clock: ManualClock) -> None:
    lead = given_lead(timers.ledger, "assigned")
    lead_id = timers.ledger.find(lead).id
    due = clock.now() + FIRST_ATTEMPT_DUE
    assert timers.rows() == {(lead_id, "first_attempt", due)}

    clock.current = due
    assert timers.tick() == 1

    assert raw_rows(timers) == set()


def test_the_table_mirrors_every_pending_deadline_of_each_lead(
    timers: Timers, clock: ManualClock
) -> None:
    leads = [
        given_lead(timers.ledger, "assigned", "attempted"),
        given_lead(timers.ledger, "assigned"),
    ]
    expected = set()
    for ref in leads:
        lead = timers.ledger.find(ref)
        expected |= {(lead.id, policy.value, due) for policy, due in lead.deadlines.items()}

    assert timers.rows() == expected
    assert {policy for _, policy, _ in expected} == {"auto_nurture", "cadence", "first_attempt"}


def test_due_times_are_stored_in_utc_whatever_offset_the_client_sent(
    timers: Timers, clock: ManualClock
) -> None:
    lead = given_lead(timers.ledger, "assigned")
    clock.advance(hours=1)
    when(timers.ledger, lead, "attempted", occurred_at="2026-03-02T11:30:00+02:00")

    due = {policy: at for _, policy, at in timers.rows()}["auto_nurture"]
    assert due == datetime(2026, 3, 23, 9, 30, tzinfo=UTC)
    assert due.tzinfo is UTC

    clock.current = due
    assert timers.tick() == 2  # the cadence (day 14) and the auto-nurture (day 21)


def test_a_deadline_not_yet_due_does_not_fire(timers: Timers, clock: ManualClock) -> None:
    assigned_leads(timers, 3)
    clock.advance(hours=3, minutes=59, seconds=59)

    assert timers.tick() == 0
    assert len(timers.rows()) == 3


def test_the_timer_event_is_dated_at_its_due_time_and_recorded_at_the_ticks_now(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    """One time per tick: its `now` picks the deadlines and is the time the lead is told,
    whatever the ledger's clock says (issue 15: time is an argument all the way down)."""
    lead = given_lead(timers.ledger, "assigned")
    clock.advance(hours=10)

    assert timers.tick(now + timedelta(hours=5)) == 1

    breach = timers.ledger.lead_events(timers.ledger.find(lead).id)[-1]
    assert (breach.occurred_at, breach.timestamp) == (
        now + FIRST_ATTEMPT_DUE,
        now + timedelta(hours=5),
    )


def test_a_tick_at_a_later_time_fires_what_is_due_by_then_whatever_the_ledger_clock(
    timers: Timers, clock: ManualClock, now: datetime
) -> None:
    """A simulation (the demo) ticks in its own time; `lifecycle tick --now` refuses the
    future, so only a caller that means it can tick ahead."""
    assigned_leads(timers, 2)

    assert timers.tick(now + timedelta(days=30)) == 2


def test_limit_fires_the_earliest_deadlines_first(timers: Timers, clock: ManualClock) -> None:
    leads = []
    for _ in range(5):
        leads.append(given_lead(timers.ledger, "assigned"))
        clock.advance(minutes=1)
    clock.advance(days=1)

    assert timers.tick(limit=2) == 2
    assert [types_of(timers.ledger, lead)[-1] for lead in leads] == ["sla_breached"] * 2 + [
        "assigned"
    ] * 3
    assert timers.tick() == 3


def test_downtime_of_any_length_is_caught_up_by_the_next_tick(
    timers: Timers, clock: ManualClock
) -> None:
    open_leads = assigned_leads(timers, 3)
    attempted = [given_lead(timers.ledger, "assigned", "attempted") for _ in range(3)]
    opted_out = [given_lead(timers.ledger, {"type": "opted_out", "days": 7}) for _ in range(3)]
    clock.advance(days=400)

    assert timers.tick(chunk=2) == 3 + 3 * 2 + 3

    assert all(types_of(timers.ledger, lead)[-1] == "sla_breached" for lead in open_leads)
    assert all(timers.ledger.find(lead).status.value == "nurture" for lead in attempted)
    assert all(not timers.ledger.find(lead).opted_out for lead in opted_out)
    assert timers.rows() == set()


def test_tick_refuses_a_naive_time(timers: Timers) -> None:
    with pytest.raises(ValueError, match="aware"):
        timers.tick(datetime(2026, 3, 2, 12, 0))


def test_tick_needs_a_runner_with_the_deadlines_projection(timers: Timers) -> None:
    runner = ProjectionRunner(
        timers.ledger.recorder, timers.ledger.mapper, timers.engine, [], clock=timers.ledger.clock
    )  # type: ignore[arg-type]
    parts = type("Parts", (), {"ledger": timers.ledger, "runner": runner})()

    with pytest.raises(RuntimeError, match="DeadlinesProjection"):
        tick(parts, timers.ledger.clock())


# ---------------------------------------------------------------------- exactly once
def test_ticking_twice_fires_each_deadline_once(
    timers_on_each_engine: Timers, clock: ManualClock
) -> None:
    timers = timers_on_each_engine
    leads = assigned_leads(timers, 5)
    clock.advance(days=1)

    assert timers.tick() == 5
    assert timers.tick() == 0
    assert breaches_per_lead(timers, leads) == {1: 5}


def test_two_ticks_at_once_fire_each_deadline_exactly_once(
    database_url: str, make_timers: TimersFactory, clock: ManualClock
) -> None:
    first, second = make_timers(database_url), make_timers(database_url)
    leads = assigned_leads(first, 24)
    first.rows()  # the projection exists, as it does once a service has run
    clock.advance(days=1)
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run(timers: Timers) -> None:
        try:
            start.wait()
            counts.append(timers.tick(chunk=3))
        except BaseException as error:  # surfaced below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(t,)) for t in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(counts) == 24
    assert breaches_per_lead(first, leads) == {1: 24}
    assert first.rows() == set()


def test_a_tick_that_crashes_mid_batch_is_completed_by_the_next_one(
    timers_on_each_engine: Timers, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    timers = timers_on_each_engine
    leads = assigned_leads(timers, 7)
    clock.advance(days=1)
    real_fire = Lead.fire
    calls = 0

    def fire_then_crash(lead: Lead, *args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls > 5:
            raise RuntimeError("the process died")
        return real_fire(lead, *args, **kwargs)

    monkeypatch.setattr(Lead, "fire", fire_then_crash)
    with pytest.raises(RuntimeError, match="died"):
        timers.tick(chunk=2)
    monkeypatch.setattr(Lead, "fire", real_fire)
    assert breaches_per_lead(timers, leads) == {1: 4, 0: 3}  # two chunks of two were saved

    assert timers.tick(chunk=2) == 3
    assert breaches_per_lead(timers, leads) == {1: 7}


def test_a_crash_between_firing_and_clearing_fires_nothing_twice(
    timers: Timers, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    leads = assigned_leads(timers, 4)
    clock.advance(days=1)
    catch_up = timers.runner.catch_up
    calls = 0

    def crash_on_second_catch_up(*args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process died")
        return catch_up(*args, **kwargs)

    monkeypatch.setattr(timers.runner, "catch_up", crash_on_second_catch_up)
    with pytest.raises(RuntimeError):
        timers.tick()
    monkeypatch.undo()
    assert len(raw_rows(timers)) == 4  # fired, but the table has not caught up

    assert timers.tick() == 0
    assert breaches_per_lead(timers, leads) == {1: 4}
    assert raw_rows(timers) == set()


def test_a_stale_deadline_fires_nothing(timers: Timers, clock: ManualClock) -> None:
    lead = given_lead(timers.ledger, "assigned")
    clock.advance(hours=5)
    with timers.engine.connect() as conn:
        rows = [
            Due(at, lead_id, Policy(p))
            for at, lead_id, p in conn.execute(due_query(clock.now(), None, 10))
        ]
    clock.advance(minutes=1)
    when(
        timers.ledger, lead, "responded", occurred_at=(clock.now() - timedelta(hours=2)).isoformat()
    )

    assert fire_chunk(timers.ledger, rows, clock.now()) == 0  # read before the lead moved on
    assert "sla_breached" not in types_of(timers.ledger, lead)


def test_a_row_for_a_missing_lead_is_logged_and_skipped_without_blocking_others(
    timers: Timers, clock: ManualClock
) -> None:
    leads = assigned_leads(timers, 3)
    timers.runner.catch_up("deadlines")
    ghost = uuid.uuid4()
    with timers.engine.begin() as conn:
        conn.execute(
            deadlines.insert().values(lead_id=ghost, policy="first_attempt", due_at=clock.now())
        )
    clock.advance(days=1)

    with capture_logs() as logs:
        assert timers.tick() == 3

    assert breaches_per_lead(timers, leads) == {1: 3}
    assert [
        (log["event"], log["lead_id"], log["code"]) for log in logs if log["log_level"] == "error"
    ] == [("timer_not_fired", str(ghost), "not_found")]


@pytest.mark.parametrize("how", ["deleted", "edited"])
def test_a_due_timer_of_a_lead_with_a_damaged_history_is_logged_and_skipped_without_blocking_others(
    database_url: str, make_timers: TimersFactory, clock: ManualClock, how: str
) -> None:
    before = make_timers(database_url)
    leads = [given_lead(before.ledger, "assigned", "touched", "touched") for _ in range(3)]
    before.runner.catch_up("deadlines")
    table = before.ledger.recorder.events_table_name  # type: ignore[attr-defined]
    damage(before.engine, table, leads[1], 3, how)
    timers = make_timers(database_url)  # a new process: nothing of the lead cached
    clock.advance(days=1)

    with capture_logs() as logs:
        assert timers.tick() == 2

    healthy = [leads[0], leads[2]]
    assert breaches_per_lead(timers, healthy) == {1: 2}
    assert [
        (log["event"], log["lead_id"], log["code"]) for log in logs if log["log_level"] == "error"
    ] == [("timer_not_fired", leads[1], "integrity_error")]


# ------------------------------------------------------------------------------ rebuild
def test_rebuilding_the_projection_from_zero_gives_the_same_rows(
    timers_on_each_engine: Timers, clock: ManualClock
) -> None:
    timers = timers_on_each_engine
    assigned_leads(timers, 3)
    given_lead(timers.ledger, "assigned", "attempted", "attempted")
    given_lead(timers.ledger, "assigned", "qualified", "passed")
    given_lead(timers.ledger, {"type": "opted_out", "days": 3})
    given_lead(timers.ledger, "assigned", "responded")
    clock.advance(hours=5)
    timers.tick()
    before = timers.rows()
    assert len(before) == 4  # auto_nurture + cadence, passed_follow_up, opt_out_expiry

    timers.runner.rebuild("deadlines")

    assert timers.rows() == before


# ---------------------------------------------------------------------------------- CLI
def cli(timers: Timers, clock: ManualClock, *argv: str) -> int:
    parser = CommandParser(prog="lifecycle")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    ticks.register(commands, common_options())
    args = parser.parse_args(argv)
    services = Services(Settings("sqlite:///unused.db"), timers.ledger.rules, timers.ledger,
                        timers.engine, timers.runner, clock.now)  # fmt: skip
    return run_command(args, services.settings, services)


def test_lifecycle_tick_json_prints_how_many_timers_fired(
    timers: Timers, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assigned_leads(timers, 2)
    clock.advance(days=1)
    capsys.readouterr()

    assert cli(timers, clock, "tick", "--json") == 0
    assert capsys.readouterr().out.strip() == '{"fired":2}'


def test_lifecycle_tick_now_fires_what_was_due_by_then(
    timers: Timers, clock: ManualClock, now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    assigned_leads(timers, 2)
    clock.advance(days=1)
    capsys.readouterr()

    assert cli(timers, clock, "tick", "--now", "2026-03-02T12:59:00Z") == 0
    assert capsys.readouterr().out == "Fired 0 timers due by 2026-03-02T12:59:00Z.\n"
    assert cli(timers, clock, "tick", "--now", "2026-03-02T14:00:00+01:00") == 0
    assert capsys.readouterr().out == "Fired 2 timers due by 2026-03-02T13:00:00Z.\n"


def test_lifecycle_tick_refuses_a_naive_now_with_exit_2(
    timers: Timers, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(timers, clock, "tick", "--now", "2026-03-02T12:00:00")

    assert exited.value.code == 2
    assert '"code":"validation_error"' in capsys.readouterr().err


def test_lifecycle_tick_refuses_a_now_in_the_future_with_exit_2(
    timers: Timers, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(timers, clock, "tick", "--now", "2030-01-01T00:00:00Z") == 2
    assert '"code":"validation_error"' in capsys.readouterr().err
