"""The SQLite write gate: one writer at a time across threads and processes, re-entrant."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from lifecycle.api.tokens import TokenStore
from lifecycle.bootstrap import Settings, build
from lifecycle.projections.reports import build_report
from lifecycle.storage.db import read_model_engine, reading
from lifecycle.storage.locks import write_gate

HOLD = 0.4


def test_one_gate_per_file_and_none_in_memory(tmp_path: Path):
    database = str(tmp_path / "a.db")

    assert write_gate(database) is write_gate(f"{tmp_path}/./a.db")
    assert write_gate(database) is not write_gate(str(tmp_path / "b.db"))
    assert write_gate(":memory:") is None


def test_the_gate_is_reentrant_and_excludes_other_threads(tmp_path: Path):
    gate = write_gate(str(tmp_path / "a.db"))
    assert gate is not None
    entered: list[float] = []

    def other() -> None:
        with gate:
            entered.append(time.monotonic())

    with gate, gate:  # the same thread may enter again
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(HOLD)
        released = time.monotonic()
    thread.join()

    assert entered and entered[0] >= released


def test_the_gate_excludes_other_processes(tmp_path: Path):
    database = str(tmp_path / "a.db")
    with subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from lifecycle.storage.locks import write_gate; "
         "g = write_gate(sys.argv[1]);"
         "g.acquire(); print('held', flush=True); time.sleep(float(sys.argv[2])); g.release()",
         database, str(HOLD)],
        stdout=subprocess.PIPE, text=True,
    ) as holder:  # fmt: skip
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        gate = write_gate(database)
        assert gate is not None
        with gate:
            waited = time.monotonic() - started

    assert waited >= HOLD / 2
    assert (tmp_path / "a.db.lock").exists()  # a sidecar: the database file is never locked


def test_a_read_model_transaction_holds_the_gate_until_it_ends(tmp_path: Path):
    database = tmp_path / "a.db"
    engine = read_model_engine(f"sqlite:///{database}")
    gate = write_gate(str(database))
    assert gate is not None
    entered: list[float] = []

    def writer() -> None:
        with gate:
            entered.append(time.monotonic())

    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # begins: BEGIN IMMEDIATE, behind the gate
        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(HOLD)
        ended = time.monotonic()
        conn.rollback()
    thread.join()
    engine.dispose()

    assert entered and entered[0] >= ended


def test_a_reading_connection_neither_waits_for_writers_nor_makes_them_wait(tmp_path: Path):
    engine = read_model_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    written = threading.Event()
    finish = threading.Event()

    def writer() -> None:  # holds the gate and SQLite's lock with a row not yet committed
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
            written.set()
            finish.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(10)
    started = time.monotonic()
    with reading(engine) as conn:
        seen = conn.execute(text("SELECT count(*) FROM t")).scalar()
    waited = time.monotonic() - started
    finish.set()
    thread.join()

    assert seen == 1  # the committed snapshot
    assert waited < HOLD

    with reading(engine) as conn:  # a read in progress: a writer goes ahead and commits
        conn.execute(text("SELECT count(*) FROM t")).scalar()
        started = time.monotonic()
        with engine.begin() as other:
            other.execute(text("INSERT INTO t VALUES (3)"))
        assert time.monotonic() - started < HOLD
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2  # its snapshot
    engine.dispose()


def test_reports_tokens_and_positions_are_read_while_a_writer_holds_the_lock(tmp_path: Path):
    database = tmp_path / "a.db"
    services = build(Settings(f"sqlite:///{database}"))
    tokens = TokenStore(services.engine)
    tokens.create_table()
    token = tokens.create("reader", ["leads:read"], datetime(2026, 3, 2, tzinfo=UTC))
    gate = write_gate(str(database))
    assert gate is not None
    try:
        with gate, services.engine.begin():  # a writer in the middle of its transaction
            started = time.monotonic()
            build_report("funnel", services.engine, services.rules, services.clock())
            caller = tokens.caller(token)
            reached = services.runner.reached(list(services.runner.projections))
            waited = time.monotonic() - started
    finally:
        services.close()

    assert caller is not None and caller.name == "reader"
    assert reached == 0
    assert waited < HOLD
