"""SQLite commits leave the flush to the disk until after the write lock is released.

A save still returns only once its events are on the disk: the ledger flushes SQLite's
write-ahead log itself, outside the write gate, so another writer's commit need not wait for
this one's disk.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.domain.requests import Answer
from lifecycle.storage.locks import write_gate

LedgerFactory = Callable[..., LeadLedger]

CREATED = {"type": "created", "email": "ada@example.com", "source": "web"}


@pytest.fixture
def flushes(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> list[tuple[str, bool]]:
    """Every fdatasync the ledger makes: the file, and whether the write gate was free."""
    gate = write_gate(sqlite_url.removeprefix("sqlite:///"))
    assert gate is not None
    seen: list[tuple[str, bool]] = []
    real = os.fdatasync

    def fdatasync(descriptor: int) -> None:
        with gate.lock_path.open("ab") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                free = False
            else:
                free = True
                fcntl.flock(probe, fcntl.LOCK_UN)
        seen.append((str(Path(f"/proc/self/fd/{descriptor}").readlink()), free))
        real(descriptor)

    monkeypatch.setattr("lifecycle.storage.store.os.fdatasync", fdatasync)
    return seen


def synchronous(ledger: LeadLedger) -> int:
    datastore: Any = ledger.factory.datastore
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        return int(cursor.fetchone()[0])


def test_the_store_commits_without_waiting_and_save_flushes_the_log_outside_the_gate(
    sqlite_url: str, make_ledger: LedgerFactory, flushes: list[tuple[str, bool]]
) -> None:
    ledger = make_ledger(sqlite_url)
    assert synchronous(ledger) == 1  # NORMAL: the commit itself does not flush

    recorded = ledger.record(Submission(None, CREATED, "test"))

    database = Path(sqlite_url.removeprefix("sqlite:///")).resolve()
    assert flushes == [(f"{database}-wal", True)]  # once, on the log, with the gate free
    assert ledger.lead_events(recorded.lead.id)  # committed, and read back


def test_a_batch_that_writes_nothing_is_flushed_before_its_answer(
    sqlite_url: str, make_ledger: LedgerFactory, flushes: list[tuple[str, bool]]
) -> None:
    """A replayed answer (an Idempotency-Key seen before) may name events committed by a
    request whose flush has not finished yet: it is not given before they are on the disk."""
    ledger = make_ledger(sqlite_url)
    ledger.record(Submission(None, CREATED, "test"))
    flushes.clear()

    lead_id = ledger.find("ada@example.com").id
    answer = ledger.in_batch(lambda _batch: Answer("f", lead_id, 1, 1, False, datetime.now(UTC)))

    assert isinstance(answer, Answer)
    assert [free for _path, free in flushes] == [True]


@pytest.mark.postgres
def test_postgres_commits_are_left_as_they_are(
    postgres_url: str, make_ledger: LedgerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr("lifecycle.storage.store.os.fdatasync", calls.append)
    ledger = make_ledger(postgres_url)

    ledger.record(Submission(None, CREATED, "test"))

    assert calls == []  # PostgreSQL's commit has flushed its own log
