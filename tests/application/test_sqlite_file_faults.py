"""A SQLite `-wal` that cannot be written: writes are `Unavailable`, then work again as soon
as it can be, without a restart (`LeadLedger._file_faults`, `locks.WriteGate.faulted`).

How the fault is made: the tests run as root here, and chmod does not stop root. `chattr +i`
(the immutable flag) does, for every process and even for descriptors already open (ext4
refuses their writes with EPERM, SQLite's "disk I/O error"). A connection that opens the
`-wal` while it is immutable gets it read-only and keeps it so ("attempt to write a
readonly database") after the flag is gone: that is what left writes failing after the
files were fixed. Only `-wal` is used in-process: an immutable `-shm` is mapped into
memory, and writing to it kills the process with SIGBUS (see test_serve_faults).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import created

from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.domain.errors import Unavailable
from lifecycle.domain.lead import Lead


def immutable_flag_works(folder: Path) -> bool:
    probe = folder / "chattr-probe"
    probe.write_text("x")
    try:
        done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, check=False)
    except FileNotFoundError:
        return False
    if done.returncode != 0:
        return False
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    probe.unlink()
    return True


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    if not immutable_flag_works(tmp_path):
        pytest.skip("needs chattr +i (root, and a file system with the immutable flag)")
    return tmp_path


def test_a_ledger_opened_while_the_wal_is_unwritable_writes_again_once_it_is_not(
    folder: Path, make_ledger
):
    url = f"sqlite:///{folder}/faults.db"
    holder: LeadLedger = make_ledger(url)  # keeps the database open, so -wal stays
    holder.record(Submission(None, created(email="first@example.com"), "test"))
    wal = folder / "faults.db-wal"
    assert wal.exists()

    with unwritable(wal):
        ledger: LeadLedger = make_ledger(url)  # its connections open the -wal read-only
        with pytest.raises(Unavailable) as refused:
            ledger.record(Submission(None, created(email="second@example.com"), "test"))
        with pytest.raises(Unavailable):
            ledger.probe_write()
    recorded = ledger.record(Submission(None, created(email="third@example.com"), "test"))
    ledger.probe_write()

    assert refused.value.code == "unavailable"
    assert isinstance(recorded.lead, Lead)
    emails = {lead.email for lead in holder.all_leads()}
    assert emails == {"first@example.com", "third@example.com"}  # nothing half-written


def test_a_wal_that_fails_under_open_connections_is_unavailable_not_an_error(
    folder: Path, make_ledger
):
    url = f"sqlite:///{folder}/open.db"
    ledger: LeadLedger = make_ledger(url)
    ledger.record(Submission(None, created(email="first@example.com"), "test"))

    with unwritable(folder / "open.db-wal"), pytest.raises(Unavailable):
        ledger.record(Submission(None, created(email="second@example.com"), "test"))
    ledger.record(Submission(None, created(email="third@example.com"), "test"))

    assert {lead.email for lead in ledger.all_leads()} == {
        "first@example.com",
        "third@example.com",
    }
