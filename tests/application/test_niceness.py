"""Background threads of `serve --workers N` run at a lower priority (`runtime.niceness`)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from lifecycle.runtime.niceness import lower_this_thread

linux = pytest.mark.skipif(sys.platform != "linux", reason="thread priorities are Linux's")


def niceness_in_a_thread(asked: int) -> tuple[bool, int]:
    """Lowers a new thread to `asked`: what `lower_this_thread` said, and the thread's value."""
    seen: list[tuple[bool, int]] = []

    def run() -> None:
        lowered = lower_this_thread(asked)
        seen.append((lowered, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0]


@linux
def test_a_lowered_thread_runs_at_the_niceness_asked_and_the_rest_of_the_process_does_not():
    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert niceness_in_a_thread(before + 5) == (True, before + 5)
    assert os.getpriority(os.PRIO_PROCESS, 0) == before


def test_niceness_zero_changes_nothing():
    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert niceness_in_a_thread(0) == (False, before)
