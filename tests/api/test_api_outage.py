"""The database unavailable: 503 `unavailable` with Retry-After on every route, bounded waits,
the CLI's error JSON, and one classifier deciding what "unavailable" is.

PostgreSQL is cut off by closing a TCP relay the services connect through (what a stopped
server or a lost network looks like to them); SQLite by holding its locks beyond the bound.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import eventsourcing.persistence as store
import psycopg
import psycopg_pool
import pytest
import sqlalchemy.exc
from api_support import run_cli
from conftest import Api, ApiFactory
from helpers import body, created, json_logs

from lifecycle.storage import outage
from lifecycle.storage.db import read_model_engine
from lifecycle.storage.locks import write_gate

ROUTES = [
    ("POST", "/v1/leads", created()),
    ("POST", "/v1/leads/{lead}/activities", body("touched")),
    ("GET", "/v1/leads/{lead}", None),
    ("GET", "/v1/leads/{lead}/timeline", None),
    ("GET", "/v1/leads", None),
    ("GET", "/v1/events", None),
    ("GET", "/v1/reports/status", None),
    ("GET", "/v1/reports/funnel", None),
]


class Relay:
    """A TCP relay to `target`; `cut()` closes it and every connection through it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        self.open = False
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (Linux)
        self.listener.close()
        for each in self.sockets:
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()


@pytest.fixture
def relayed(postgres_url: str) -> Iterator[tuple[str, Relay]]:
    parts = urlsplit(postgres_url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{relay.port}"
    yield urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), relay
    relay.cut()


def _lead(api: Api, headers: dict[str, str]) -> str:
    response = api.client.post("/v1/leads", json=created(), headers=headers)
    assert response.status_code == 201, response.text
    lead: str = response.json()["id"]
    return lead


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == str(outage.RETRY_AFTER)


@pytest.mark.postgres
def test_every_route_answers_503_within_its_bound_when_postgresql_is_gone(
    api_on: ApiFactory, relayed: tuple[str, Relay]
):
    url, relay = relayed
    api = api_on(url)
    admin = api.bearer("admin")
    lead = _lead(api, admin)
    relay.cut()
    bound = outage.STORE_ATTEMPTS * (outage.POOL_TIMEOUT + 0.3) + 1
    with json_logs() as logs:
        for method, path, payload in ROUTES:
            started = time.monotonic()
            response = api.client.request(
                method, path.format(lead=lead), json=payload, headers=admin
            )
            _assert_unavailable(response)
            assert time.monotonic() - started < bound, (method, path)
    lines = [line for line in logs.getvalue().splitlines() if "database_unavailable" in line]
    assert lines, logs.getvalue()
    assert all("127.0.0.1" not in line and "Traceback" not in line for line in lines)


def test_a_write_held_behind_the_sqlite_write_gate_answers_503_after_the_bound(
    api: Api, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
):
    admin = api.bearer("admin")
    lead = _lead(api, admin)
    monkeypatch.setattr(outage, "SQLITE_BUSY_TIMEOUT", 0.3)
    gate = write_gate(sqlite_url.removeprefix("sqlite:///"))
    assert gate is not None
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with gate:
            held.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    try:
        head = api.head()
        response = api.client.post(
            f"/v1/leads/{lead}/activities", json=body("touched"), headers=admin
        )
        _assert_unavailable(response)
    finally:
        done.set()
        holder.join()
    assert api.head() == head  # nothing recorded
    ok = api.client.post(f"/v1/leads/{lead}/activities", json=body("touched"), headers=admin)
    assert ok.status_code == 200, ok.text  # and it works again once the gate is free


def test_a_write_waiting_for_sqlite_s_lock_beyond_the_busy_timeout_answers_503(
    api_on: ApiFactory, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(outage, "SQLITE_BUSY_TIMEOUT", 1)  # before the store reads it (an int)
    api = api_on(sqlite_url)
    admin = api.bearer("admin")
    lead = _lead(api, admin)
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds SQLite's write lock
    try:
        response = api.client.post(
            f"/v1/leads/{lead}/activities", json=body("touched"), headers=admin
        )
        _assert_unavailable(response)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_write_that_committed_but_was_answered_503_is_recorded_once_on_retry(
    api: Api, monkeypatch: pytest.MonkeyPatch
):
    """The answer is lost after the commit (a slow database, the writer's bound ran out):
    the retry with the same Idempotency-Key gets the first answer and records nothing."""
    admin = api.bearer("admin")
    lead = _lead(api, admin)
    monkeypatch.setattr(outage, "WRITE_TIMEOUT", 0.2)
    ledger = api.services.ledger
    save = type(ledger).save

    def slow_save(self: Any, *objs: Any, **kwargs: Any) -> Any:
        result = save(self, *objs, **kwargs)
        time.sleep(0.5)  # committed; the answer comes too late
        return result

    monkeypatch.setattr(type(ledger), "save", slow_save)
    key = {**admin, "Idempotency-Key": "touch-1"}
    touch = body("touched", content="once")
    first = api.client.post(f"/v1/leads/{lead}/activities", json=touch, headers=key)
    _assert_unavailable(first)
    time.sleep(0.6)  # the write finishes behind the 503
    monkeypatch.setattr(type(ledger), "save", save)
    retry = api.client.post(f"/v1/leads/{lead}/activities", json=touch, headers=key)
    assert retry.status_code == 200, retry.text
    timeline = api.client.get(f"/v1/leads/{lead}/timeline", headers=admin).json()["events"]
    assert [e["data"].get("content") for e in timeline if e["type"] == "touched"] == ["once"]


def test_the_cli_prints_the_error_json_and_exits_1_when_postgresql_does_not_answer(
    tmp_path: Any,
):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{port}/test"
    for command in (["report", "status"], ["lead", "show", "x"], ["tick"]):
        done = run_cli(*command, "--database-url", url, cwd=tmp_path, exit_code=1)
        assert done.stderr.startswith('{"error":{"code":"unavailable"'), done.stderr
        assert "Traceback" not in done.stderr


# ------------------------------------------------------------------------- classifier
def _raised(error: BaseException, cause: BaseException | None) -> BaseException:
    try:
        raise error from cause
    except BaseException as raised:
        return raised


def _context(error: BaseException, context: BaseException) -> BaseException:
    error.__context__ = context
    return error


def _sqlite(message: str, name: str) -> sqlite3.OperationalError:
    """A SQLite error as the driver raises it: with its error name (what decides)."""
    error = sqlite3.OperationalError(message)
    error.sqlite_errorname = name
    return error


_PG_DOWN = psycopg.OperationalError("connection refused")
_SQLITE_LOCKED = _sqlite("database is locked", "SQLITE_BUSY")
_SQLITE_NO_TABLE = _sqlite("no such table: stored_events", "SQLITE_ERROR")

CASES: list[tuple[str, BaseException, bool]] = [
    ("psycopg OperationalError", _PG_DOWN, True),
    ("psycopg InterfaceError", psycopg.InterfaceError("the connection is closed"), True),
    ("statement timeout", psycopg.errors.QueryCanceled("canceling statement"), True),
    ("lock timeout", psycopg.errors.LockNotAvailable("lock timeout"), True),
    ("pool timeout", psycopg_pool.PoolTimeout("couldn't get a connection"), True),
    ("store OperationalError from psycopg", _raised(store.OperationalError("x"), _PG_DOWN), True),
    ("store InterfaceError", store.InterfaceError("x"), True),
    (
        "SQLAlchemy OperationalError",
        sqlalchemy.exc.OperationalError("SELECT 1", {}, _PG_DOWN),
        True,
    ),
    ("SQLAlchemy pool timeout", sqlalchemy.exc.TimeoutError("QueuePool limit"), True),
    (
        "SQLAlchemy invalidated connection",
        sqlalchemy.exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
        True,
    ),
    ("our bound ran out", outage.DatabaseTimeout("the write did not finish in time"), True),
    ("SQLite locked", _raised(store.OperationalError("x"), _SQLITE_LOCKED), True),
    ("SQLite disk I/O", _sqlite("disk I/O error", "SQLITE_IOERR_WRITE"), True),
    ("SQLite read-only", _sqlite("attempt to write a readonly database", "SQLITE_READONLY"), True),
    ("SQLite disk full", _sqlite("database or disk is full", "SQLITE_FULL"), True),
    ("SQLite no such table", _raised(store.OperationalError("x"), _SQLITE_NO_TABLE), False),
    ("SQLAlchemy no such table", sqlalchemy.exc.OperationalError("S", {}, _SQLITE_NO_TABLE), False),
    ("psycopg DataError (NUL)", psycopg.DataError("NUL"), False),
    ("store IntegrityError", store.IntegrityError("duplicate"), False),
    ("SQLAlchemy ProgrammingError", sqlalchemy.exc.ProgrammingError("S", {}, Exception()), False),
    ("ValueError", ValueError("x"), False),
    ("raised while handling one", _context(ValueError("x"), _PG_DOWN), False),
]


@pytest.mark.parametrize(("error", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_classifier_tells_an_unavailable_database_from_a_defect(
    error: BaseException, expected: bool
):
    assert outage.unavailable(error) is expected


@pytest.mark.parametrize(
    "engine_of", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_read_model_error_never_shows_the_values_it_was_given(
    engine_of: str, request: pytest.FixtureRequest
):
    url = request.getfixturevalue("sqlite_url" if engine_of == "sqlite" else "postgres_url")
    engine = read_model_engine(url)
    try:
        with pytest.raises(sqlalchemy.exc.DBAPIError) as raised, engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT * FROM no_such_table WHERE x = :x"), {"x": SECRET})
    finally:
        engine.dispose()
    assert SECRET not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)


SECRET = "ada.lovelace@example.com"
