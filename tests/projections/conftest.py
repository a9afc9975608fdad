"""Fixtures for the read models and reports: a runner over the test ledger, stories, reports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from helpers import ManualClock
from stories import Reports, Story

from lifecycle.app.ledger import LeadLedger
from lifecycle.projections.catalog import read_models
from lifecycle.projections.runner import ProjectionRunner
from lifecycle.storage.db import read_model_engine


@pytest.fixture
def clock() -> ManualClock:
    """Monday 2 March 2026, 09:00 UTC: after every story of February."""
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def story(ledger: LeadLedger) -> Story:
    return Story(ledger)


@pytest.fixture
def runner(database_url: str, ledger: LeadLedger) -> Iterator[ProjectionRunner]:
    engine = read_model_engine(database_url)
    runner = ProjectionRunner(
        ledger.recorder, ledger.mapper, engine, read_models(ledger.rules), clock=ledger.clock
    )
    runner.create_tables()
    yield runner
    engine.dispose()


@pytest.fixture
def report(ledger: LeadLedger, runner: ProjectionRunner, clock: ManualClock) -> Reports:
    return Reports(ledger, runner, clock)
