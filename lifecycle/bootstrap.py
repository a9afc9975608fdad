"""The composition root: the one place that builds the service and hands its parts out.

It knows which concrete infrastructure is in use: settings → the store, the rules, the read
models, the runner, the group writer and the clock (`build`). The entry points receive what
they need from here and build nothing themselves: `main` is the `lifecycle` command (each
command's handler names the parts it takes as parameters: `ledger`, `runner`, `engine`,
`rules`, `clock`, `settings`, `parts` for several at once, `build` to wire a store of its
own, `app` for the HTTP app), and `worker_app` is the app of each `serve --workers N`
process. Nothing connects at import time; tests pass their own settings and clock.
"""

from __future__ import annotations

import faulthandler
import inspect
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from .app.ledger import Clock, LeadLedger
from .app.writer import GroupWriter
from .domain.rules import Rulebook
from .logs import configure, set_level
from .projections.catalog import read_models
from .projections.protocol import Projection
from .projections.runner import ProjectionRunner
from .runtime.heap import freeze_startup_heap
from .runtime.lifeline import WORKER_LOG_LEVEL, bind_to_parent
from .runtime.settings import Settings
from .scheduler.deadlines import DeadlinesProjection
from .storage.db import read_model_engine, schema_lock
from .storage.store import persistence_env

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["Services", "Settings", "build", "main", "projections", "system_clock", "worker_app"]
POSTGRES_WRITERS = 2
# What a command's handler may name as a parameter (`main`): the service's parts, `parts` for
# the whole (each handler types it by the protocol it needs), `build` to wire a store of its
# own, `app` for the HTTP app over this service, and the settings.
PARTS = frozenset({"ledger", "runner", "engine", "rules", "clock", "settings", "parts", "build",
                   "app"})  # fmt: skip


def system_clock() -> datetime:
    """The wall clock, in UTC: the one place it is read (every other module is given it)."""
    return datetime.now(UTC)


@dataclass
class Services:
    """The wired service. Only this module passes it whole: each entry point takes the parts
    it names (`main`), or the narrow protocol it declares (`api.deps.AppParts`,
    `scheduler.tick.TickParts`), which this satisfies."""

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


def main(argv: Sequence[str] | None = None) -> int:
    """The `lifecycle` command: parses the arguments (`cli`), builds what the command's
    handler takes and runs it; errors are answered as `cli.failed` says."""
    from .cli import build_parser, close_quietly, failed

    args = build_parser().parse_args(argv)
    configure(level="WARNING")
    settings = Settings.from_env(getattr(args, "database_url", None), getattr(args, "config", None))
    services: Services | None = None
    try:
        if not set(_wanted(args.handler)) <= {"settings", "build"}:
            services = build(settings)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        return failed(error, starting=True)
    try:
        return run_command(args, settings, services)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        return failed(error)
    finally:
        if services is not None:
            close_quietly(services)


def run_command(args: Any, settings: Settings, services: Services | None) -> int:
    """Calls the command's handler with `args` and the parts its parameters name."""
    given = {name: _part(name, settings, services) for name in _wanted(args.handler)}
    return int(args.handler(args, **given))


def _wanted(handler: Callable[..., int]) -> list[str]:
    return list(inspect.signature(handler).parameters)[1:]  # after `args`


def _part(name: str, settings: Settings, services: Services | None) -> Any:
    """The part a handler's parameter `name` asks for."""
    if name == "settings":
        return settings
    if name == "build":
        return build
    assert services is not None and name in PARTS, name
    if name == "parts":
        return services
    if name == "app":
        return lambda: _app(services)
    return getattr(services, name)


def _app(services: Services) -> FastAPI:
    from .api.app import create_app  # the web stack only for the commands that serve

    return create_app(services)


def worker_app() -> FastAPI:
    """The app of one `lifecycle serve --workers N` process (a uvicorn factory).

    The parent hands its settings down in the environment: LIFECYCLE_DATABASE_URL,
    LIFECYCLE_CONFIG, `WORKER_LOG_LEVEL` and its pid (`lifeline.PARENT_PID`), whose death
    stops this worker.
    """
    from .api.app import create_app

    faulthandler.enable()  # even a SIGBUS (a SQLite -shm file made unwritable) leaves a line
    configure()
    bind_to_parent()  # it ends with the main process (`lifecycle.runtime.lifeline`)
    set_level(os.environ.get(WORKER_LOG_LEVEL, "info"))
    app = create_app(build(Settings.from_env()), close_at_shutdown=True)
    freeze_startup_heap()  # `lifecycle.runtime.heap`: no full collection walks the start-up heap
    return app
