"""What makes a batch fast beyond its SQL: the cyclic garbage collector paused while a batch
is held in memory (the read models' SQLite settings are `storage.bulk.tune_sqlite`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
