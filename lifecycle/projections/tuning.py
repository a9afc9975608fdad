"""What makes a batch fast beyond its SQL: the read models' SQLite connection settings, and
the cyclic garbage collector paused while a batch is held in memory."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

SQLITE_CACHE_KIB = 65536


def tune_sqlite(conn: Connection) -> None:
    """Settings for the read models' SQLite connection, made outside any transaction.

    `synchronous=NORMAL`: in WAL mode a commit no longer waits for the disk (40 ms a batch
    here); a power cut may lose the last batches, rows and position together, which the next
    catch-up simply redoes from the log. A page cache above SQLite's 2 MB default keeps the
    leads' rows, updated at random places, in memory. Events are written by the store's own
    connections, which keep their settings.
    """
    driver = conn.connection.driver_connection
    if driver is not None:
        driver.execute("PRAGMA synchronous=NORMAL")
        driver.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pauses the cyclic garbage collector for one batch.

    A batch allocates tens of thousands of small, acyclic objects (events, dicts, rows) that
    it keeps until the end; each young-generation collection walks all of them again, which
    doubled the time to decode a batch. Reference counting still frees everything; cycles, if
    any, are collected when the collector resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
