"""The composition root: builds the store, the rules, the read models and the runner.

The only module that knows which concrete infrastructure is in use. Nothing connects at
import time; tests pass their own settings and clock.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from .app.ledger import Clock, LeadLedger
from .app.writer import GroupWriter
from .domain.rules import Rulebook
from .projections.catalog import read_models
from .projections.protocol import Projection
from .projections.runner import ProjectionRunner
from .scheduler.deadlines import DeadlinesProjection
from .storage.db import read_model_engine, schema_lock
from .storage.store import persistence_env

DEFAULT_DATABASE_URL = "sqlite:///lifecycle.db"
POSTGRES_WRITERS = 2


def system_clock() -> datetime:
    """The wall clock, in UTC: the one place it is read (every other module is given it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    config_path: Path | None = None

    @classmethod
    def from_env(cls, database_url: str | None = None, config: str | None = None) -> Settings:
        """Explicit values first, then LIFECYCLE_DATABASE_URL / LIFECYCLE_CONFIG, then defaults."""
        url = database_url or os.environ.get("LIFECYCLE_DATABASE_URL") or DEFAULT_DATABASE_URL
        path = config or os.environ.get("LIFECYCLE_CONFIG")
        return cls(url, Path(path) if path else None)

    def as_env(self) -> dict[str, str]:
        """These settings as the environment `from_env` reads (for processes started here)."""
        env = {"LIFECYCLE_DATABASE_URL": self.database_url}
        if self.config_path is not None:
            env["LIFECYCLE_CONFIG"] = str(self.config_path.resolve())
        return env


@dataclass
class Services:
    settings: Settings
    rules: Rulebook
    ledger: LeadLedger
    engine: Engine
    runner: ProjectionRunner
    clock: Clock = field(default=system_clock)
    _writer: GroupWriter | None = field(default=None, init=False, repr=False)
    _writer_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def writer(self) -> GroupWriter:
        """The group-committing writer of the HTTP API, started on first use: one thread on
        SQLite (one write lock), several on PostgreSQL."""
        with self._writer_lock:
            if self._writer is None:
                sqlite = self.settings.database_url.startswith("sqlite")
                threads = 1 if sqlite else POSTGRES_WRITERS
                self._writer = GroupWriter(self.ledger, threads=threads)
            return self._writer

    def close(self) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
        self.ledger.close()
        self.engine.dispose()


def load_rules(settings: Settings) -> Rulebook:
    if settings.config_path is None:
        return Rulebook()
    from .config import load_rulebook

    return load_rulebook(settings.config_path)


def projections(rules: Rulebook | None = None) -> list[Projection]:
    """Every read model, in the order they are caught up."""
    return [*read_models(rules), DeadlinesProjection()]


def build(
    settings: Settings, clock: Clock = system_clock, rules: Rulebook | None = None
) -> Services:
    rules = rules or load_rules(settings)
    with schema_lock(settings.database_url):
        ledger = LeadLedger(persistence_env(settings.database_url), clock, rules=rules)
        engine = read_model_engine(settings.database_url)
        runner = ProjectionRunner(
            ledger.recorder, ledger.mapper, engine, projections(rules), clock=clock
        )
        runner.create_tables()
    return Services(settings, rules, ledger, engine, runner, clock)
