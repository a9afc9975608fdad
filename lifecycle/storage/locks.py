"""One writer at a time on a SQLite file, queued by the kernel instead of SQLite's busy handler.

SQLite lets one transaction write at a time; a writer that finds the lock taken sleeps in
steps (1, 2, 5, 10, 25, 50, 100 ms …) and tries again. Under steady writes from two threads or
two processes those sleeps, not the work, made the slowest requests slow (a p99 of 50–200 ms
for 5 ms of work). Every write transaction on a SQLite file therefore passes this gate first:
a re-entrant lock for the threads of a process, then an `flock` for the processes, on a
sidecar file `<database>.lock` beside the database (never on the database file itself: closing
any descriptor of it would drop SQLite's own POSIX locks in this process). A waiter wakes the
moment the holder is done; SQLite's lock then never makes anyone wait.

The gate is an optimization of waiting, not of safety: SQLite's own locks still decide, so a
writer that skips the gate (another program) is merely slower.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from . import outage


class WriteGate:
    """Held by one thread of one process at a time; re-entrant within that thread."""

    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        self._threads = threading.RLock()
        self._depth = 0
        self._file: IO[bytes] | None = None
        self._discards: list[Callable[[], bool]] = []
        self._discards_lock = threading.Lock()

    def on_fault(self, discard: Callable[[], bool]) -> None:
        """Registers what closes one pool's connections to the file (see `faulted`); it
        returns False once its pool is gone, and is then forgotten."""
        with self._discards_lock:
            self._discards.append(discard)

    def faulted(self) -> None:
        """The file (or its `-wal`/`-shm`) failed to take a write: every pool of this
        process closes its connections to it, so that the next write opens them again.

        SQLite shares one mapping of `-shm` among all the connections of a process, opened
        read-only if the file could not be written when the first of them opened it; and a
        connection that opened `-wal` while it could not be written keeps it read-only.
        Either way the writes of this process kept failing after the files were fixed, until
        every connection was closed: only new connections see the repaired files.
        """
        with self._discards_lock:
            self._discards = [discard for discard in self._discards if discard()]

    def acquire(self) -> None:
        """Waits for the gate, at most `outage.SQLITE_BUSY_TIMEOUT` for the other threads of
        this process (then `DatabaseTimeout`: 503), as long as another process holds it."""
        if not self._threads.acquire(timeout=outage.SQLITE_BUSY_TIMEOUT):
            msg = f"the write gate of {self.lock_path.stem} stayed taken"
            raise outage.DatabaseTimeout(msg)
        if self._depth == 0:
            try:
                self._file = self.lock_path.open("ab")
                fcntl.flock(self._file, fcntl.LOCK_EX)  # waits without holding the GIL
            except BaseException:
                if self._file is not None:
                    self._file.close()
                    self._file = None
                self._threads.release()
                raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None
        self._threads.release()

    def __enter__(self) -> WriteGate:
        self.acquire()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.release()


_gates: weakref.WeakValueDictionary[Path, WriteGate] = weakref.WeakValueDictionary()
_registry = threading.Lock()


def sqlite_file(database: str) -> Path | None:
    """The file of the SQLite database named `database` (a path or a `file:` URI), or None
    for an in-memory database."""
    if not database or database.startswith(":memory:") or "mode=memory" in database:
        return None
    return Path(database.removeprefix("file:").split("?")[0]).resolve()


def write_gate(database: str) -> WriteGate | None:
    """The gate of the SQLite file `database` (shared by everything in this process that
    writes it), or None for an in-memory database."""
    path = sqlite_file(database)
    if path is None:
        return None
    with _registry:
        gate = _gates.get(path)
        if gate is None:
            gate = _gates[path] = WriteGate(path.with_name(path.name + ".lock"))
        return gate


def sqlite_file_fault(error: BaseException) -> str | None:
    """The SQLite error name if `error` (or what caused it) says the database's files cannot
    be written or read now (read-only, vanished, an I/O error, a full disk), else None.
    A flush of the log that failed (`flush_log`) counts too."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            name = str(getattr(current, "sqlite_errorname", ""))
            if name.startswith(outage.SQLITE_FILE_FAULTS):
                return name
        if isinstance(current, OSError):
            return f"OSError {current.errno}"
        current = current.__cause__
    return None
