"""Shared fixtures: a fixed `now`, a manual clock, databases on both engines, and ledgers.

`database_url` runs a test on SQLite and on PostgreSQL (each test gets its own schema). The
PostgreSQL server is named by `LIFECYCLE_TEST_DATABASE_URL`; when it is unreachable the
postgres cases are skipped locally and fail in CI (`CI=true`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from helpers import ManualClock
from psycopg import sql

from lifecycle.app.ledger import LeadLedger
from lifecycle.domain.rules import Rulebook
from lifecycle.storage.store import persistence_env

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
MONDAY_MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    """Monday 2 March 2026, 09:00 UTC."""
    return MONDAY_MORNING


@pytest.fixture
def clock(now: datetime) -> ManualClock:
    return ManualClock(now)


# ------------------------------------------------------------------------------ databases
def postgres_server_url() -> str:
    return os.environ.get("LIFECYCLE_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)


@cache
def _postgres_problem(url: str) -> str | None:
    """Why the server at `url` cannot be used (asked once per session), or None."""
    try:
        with psycopg.connect(url, connect_timeout=2):
            return None
    except psycopg.Error as error:
        return str(error).strip() or type(error).__name__


def _require_postgres(url: str) -> None:
    problem = _postgres_problem(url)
    if problem is None:
        return
    message = f"PostgreSQL not reachable at {url}: start it or set LIFECYCLE_TEST_DATABASE_URL"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI needs it: {problem})")
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty schema on the test server, dropped afterwards."""
    server = postgres_server_url()
    _require_postgres(server)
    schema = f"t_{uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}schema={schema}"
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            connection.execute(drop)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/lifecycle.db"


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each engine in turn (ids "sqlite" and "postgres")."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


# -------------------------------------------------------------------------------- ledgers
LedgerFactory = Callable[..., LeadLedger]


@pytest.fixture
def make_ledger(clock: ManualClock) -> Iterator[LedgerFactory]:
    """Opens more ledgers (a restart, one per writer thread); all are closed at teardown.

    `make_ledger(url, POSTGRES_POOL_SIZE="1")`: extra keyword arguments override settings.
    """
    opened: list[LeadLedger] = []

    def open_ledger(url: str, **settings: str) -> LeadLedger:
        env = {**persistence_env(url), **settings}
        ledger = LeadLedger(env, rules=Rulebook(), clock=clock.now)
        opened.append(ledger)
        return ledger

    yield open_ledger
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(database_url: str, make_ledger: LedgerFactory) -> LeadLedger:
    """A ledger on each engine in turn, reading the `clock` fixture."""
    return make_ledger(database_url)


@pytest.fixture
def memory_ledger(sqlite_url: str, make_ledger: LedgerFactory) -> LeadLedger:
    """A fast ledger on a throwaway SQLite file, for behaviour that does not depend on storage."""
    return make_ledger(sqlite_url)
