"""Fixtures for the timers: a ledger with the deadlines projection, on either engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import pytest
from sqlalchemy import Engine, select

from lifecycle.app.ledger import LeadLedger
from lifecycle.projections.runner import ProjectionRunner
from lifecycle.scheduler.deadlines import DeadlinesProjection, deadlines
from lifecycle.scheduler.tick import tick
from lifecycle.storage.db import read_model_engine

Row = tuple[UUID, str, datetime]


@dataclass
class Timers:
    """A ledger and a runner with the deadlines projection: what `tick` needs."""

    ledger: LeadLedger
    runner: ProjectionRunner

    @property
    def engine(self) -> Engine:
        return self.runner.engine

    def tick(self, now: datetime | None = None, **options: int) -> int:
        return tick(self, now or self.ledger.clock(), **options)

    def rows(self) -> set[Row]:
        """The deadlines table, after catching up."""
        self.runner.catch_up("deadlines")
        with self.engine.connect() as conn:
            return {(r.lead_id, r.policy, r.due_at) for r in conn.execute(select(deadlines))}


TimersFactory = Callable[[str], Timers]


@pytest.fixture
def make_timers(make_ledger: Callable[..., LeadLedger]) -> Iterator[TimersFactory]:
    """Opens ledger + runner pairs on a database (one per worker thread); closes them after."""
    engines: list[Engine] = []

    def open_timers(url: str) -> Timers:
        ledger = make_ledger(url)
        engine = read_model_engine(url)
        engines.append(engine)
        runner = ProjectionRunner(
            ledger.recorder,  # type: ignore[arg-type]
            ledger.mapper,
            engine,
            [DeadlinesProjection()],
            batch_size=50,  # several batches even in small tests
            clock=ledger.clock,
        )
        runner.create_tables()
        return Timers(ledger, runner)

    yield open_timers
    for engine in engines:
        engine.dispose()


@pytest.fixture
def timers(sqlite_url: str, make_timers: TimersFactory) -> Timers:
    """Timers on a throwaway SQLite file: for behaviour that does not depend on the engine."""
    return make_timers(sqlite_url)


@pytest.fixture
def timers_on_each_engine(database_url: str, make_timers: TimersFactory) -> Timers:
    """Timers on SQLite, then on PostgreSQL (own schema)."""
    return make_timers(database_url)
