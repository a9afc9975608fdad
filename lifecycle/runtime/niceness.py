"""Background threads that yield the CPU to the threads serving requests.

With `lifecycle serve --workers N` the main process only catches the read models up and
ticks the timers, while N processes serve HTTP, all on the same few cores. At the default
priority a catch-up batch (tens of milliseconds of CPU) took a core from a worker whenever
the two met, and requests waited behind it. Those background threads therefore run at a
lower priority (`BACKGROUND_NICENESS`): they use the idle CPU, which a server below
saturation has plenty of, and give way when the workers need it. Reports still catch up
within the contract's 2 seconds at half load (see docs/performance.md).

On Linux a thread's nice value is its own (not the process's), and a thread or process
started later inherits the value of the thread that starts it: only the lowered threads are
affected, never the HTTP workers that the main thread starts and restarts. Elsewhere the
value is per process, so nothing is changed there. In one-process `serve` nothing is
lowered either: threads of one process share one interpreter lock, and a low-priority
thread that the kernel leaves waiting while it holds that lock would hold up every request.
"""

from __future__ import annotations

import os
import sys
import threading

BACKGROUND_NICENESS = 10


def lower_this_thread(niceness: int) -> bool:
    """Gives the calling thread a nice value of at least `niceness` (Linux only).

    True when the thread runs at that value or lower priority; False where thread priorities
    are not available (or the kernel refuses), and for `niceness` 0 or less.
    """
    if niceness <= 0 or sys.platform != "linux":
        return False
    thread = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, thread) < niceness:
            os.setpriority(os.PRIO_PROCESS, thread, niceness)
    except OSError:
        return False
    return True
