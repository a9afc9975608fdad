"""A worker process of `lifecycle serve` lives no longer than the process that started it.

uvicorn's supervisor (the main process of `serve --workers N`) starts the HTTP workers and
restarts any that dies, but nothing ends a worker when the supervisor itself dies: after a
`kill -9` of the main process the workers went on serving (re-parented to pid 1) without the
catch-up and the timer sweep that run in the main process, and held the port, so a new
`serve` failed with "Address already in use".

`bind_to_parent` therefore makes the calling worker get SIGTERM (uvicorn's graceful stop)
when its parent dies:

- on Linux, `prctl(PR_SET_PDEATHSIG, SIGTERM)`: the kernel sends it the moment the parent
  ends. It is tied to the parent's *thread* that started the worker, which is the main thread
  of `serve` (uvicorn starts and restarts workers from there).
- the parent may have died before that call (the worker takes a second to import): the
  worker then checks that its parent is still the process that started it, and stops if not.
- elsewhere (or if `prctl` fails), a watchdog thread waits on the pipe that multiprocessing
  keeps from the parent (it reads end-of-file when the parent dies) or, without one, polls
  `os.getppid()`.

Signals and a pipe are per process: nothing here costs a request anything.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading

from ..logs import get_logger

PARENT_PID = "LIFECYCLE_SERVE_PARENT_PID"  # set by `serve` for the workers it starts
WORKER_LOG_LEVEL = "LIFECYCLE_SERVE_LOG_LEVEL"  # the log level `serve` hands its workers
POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1
log = get_logger(__name__)


def bind_to_parent(parent_pid: int | None = None, *, use_prctl: bool = True) -> str:
    """Makes this process get SIGTERM when `parent_pid` (default: `PARENT_PID` in the
    environment) ends. Returns how: "prctl", "watchdog", "gone" (the parent had already
    ended: SIGTERM is sent now) or "none" (no parent named)."""
    if parent_pid is None:
        named = os.environ.get(PARENT_PID, "")
        if not named.isdigit():
            return "none"
        parent_pid = int(named)
    how = "prctl" if use_prctl and _parent_death_signal(signal.SIGTERM) else "watchdog"
    if os.getppid() != parent_pid:  # it died before the signal was armed
        _parent_gone(parent_pid)
        return "gone"
    if how == "watchdog":
        threading.Thread(target=_watch, args=(parent_pid,), name="lifeline", daemon=True).start()
    return how


def _parent_death_signal(signum: int) -> bool:
    """`prctl(PR_SET_PDEATHSIG, signum)`; False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    """Waits until the parent is gone, then stops this process."""
    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None) if parent is not None else None
    if parent is not None and parent.pid == parent_pid and sentinel is not None:
        multiprocessing.connection.wait([sentinel])  # end-of-file: the parent ended
    else:
        while os.getppid() == parent_pid:
            threading.Event().wait(POLL_SECONDS)
    _parent_gone(parent_pid)


def _parent_gone(parent_pid: int) -> None:
    with contextlib.suppress(Exception):  # a broken log (a pipe the parent held) must not stop it
        log.warning("parent_gone", parent=parent_pid, action="stopping")
    os.kill(os.getpid(), signal.SIGTERM)
