"""`lifecycle projections rebuild [NAME …] [--workers N]`: replays the log into read models.

A rebuild is bound by one core: reading, decoding and the projections' Python work. With
`--workers N` (default: one per core, at most one per projection) the projections are shared
out among N `lifecycle` processes, each replaying the log for its share; their writes take
turns at SQLite's write lock (each batch is computed before it locks, see the runner) or run
side by side on PostgreSQL. Each process's batches are atomic, as always: if one fails, the
others finish, and its projections resume from their positions on the next catch-up.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from ..bootstrap import Services
from ..domain.errors import LifecycleError, ValidationFailed
from .common import positive_int, print_error, print_json, wants_json

# The share of a rebuild's work each projection takes (measured on 1,000,000 events; reading
# and decoding the log, which every process does, is not included). Unknown ones weigh 1.
WEIGHTS = {"lead_facts": 4.0, "sla_clocks": 3.5, "deadlines": 1.5, "touches": 1.0}
POLL_SECONDS = 0.25

Advance = Callable[[int, int], None]


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    rebuild = actions.add_parser(
        "rebuild", parents=[common], help="rebuild read models from the start of the log",
        description="Empties the read models NAME … (default: all) and replays every event.",
    )  # fmt: skip
    rebuild.add_argument(
        "projection", metavar="NAME", nargs="*", help="read models to rebuild (default: all)"
    )
    rebuild.add_argument(
        "--workers", type=positive_int, default=None, metavar="N",
        help="processes to share the projections among (default: one per CPU core)",
    )  # fmt: skip
    rebuild.set_defaults(handler=run_rebuild)


def run_rebuild(args: argparse.Namespace, services: Services) -> int:
    runner = services.runner
    unknown = [name for name in args.projection if name not in runner.projections]
    if unknown:
        known = ", ".join(runner.projections) or "none"
        print_error(ValidationFailed(f"no projection named {unknown[0]!r} (known: {known})"))
        return 2
    names = list(dict.fromkeys(args.projection)) or list(runner.projections)
    groups = share_out(names, args.workers or _cores())
    started = time.perf_counter()
    with _progress(args, runner.head()) as advance:
        if len(groups) == 1:
            runner.rebuild(names, advance)
        else:
            failures = _in_processes(services, groups, advance)
            if failures:
                print_error(LifecycleError("; ".join(failures)))
                return 1
    seconds = time.perf_counter() - started
    summary = {"rebuilt": names, "position": runner.head(), "seconds": round(seconds, 2)}
    if wants_json(args):
        print_json(summary)
    else:
        sys.stdout.write(f"Rebuilt {', '.join(names)} up to position {summary['position']} "
                         f"in {summary['seconds']} s.\n")  # fmt: skip
    return 0


def share_out(names: Sequence[str], workers: int) -> list[list[str]]:
    """The projections in `workers` groups (fewer if there are fewer projections) of about
    equal work: the heaviest first, each to the lightest group so far."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(workers, len(names))))]
    loads = [0.0] * len(groups)
    for name in sorted(names, key=lambda n: -WEIGHTS.get(n, 1.0)):
        lightest = loads.index(min(loads))
        groups[lightest].append(name)
        loads[lightest] += WEIGHTS.get(name, 1.0)
    return groups


def _in_processes(
    services: Services, groups: list[list[str]], advance: Advance | None
) -> list[str]:
    """Rebuilds each group in a `lifecycle` process of its own; returns what failed."""
    names = [name for group in groups for name in group]
    runner = services.runner
    runner.reset(names)  # here, so that the progress starts from 0
    env = {**os.environ, "LIFECYCLE_DATABASE_URL": services.settings.database_url}
    if services.settings.config_path is not None:
        env["LIFECYCLE_CONFIG"] = str(services.settings.config_path.resolve())
    command = [sys.executable, "-m", "lifecycle", "projections", "rebuild", "--workers", "1"]
    with contextlib.ExitStack() as stack:
        workers = []
        for group in groups:
            errors = stack.enter_context(tempfile.TemporaryFile())
            process = subprocess.Popen(
                [*command, *group], env=env, stdout=subprocess.DEVNULL, stderr=errors
            )
            stack.callback(_stop, process)
            workers.append((group, process, errors))
        head = runner.head()
        while any(process.poll() is None for _, process, _ in workers):
            if advance:
                reached = min(runner.position(name) for name in names)
                advance(reached, max(head, reached))
            time.sleep(POLL_SECONDS)
        failures = []
        for group, process, errors in workers:
            if process.returncode != 0:
                errors.seek(0)
                failures.append(f"rebuilding {', '.join(group)} failed: {_message(errors.read())}")
        return failures


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ends a worker still running when the rebuild stops early (an interrupt, say)."""
    if process.poll() is None:
        process.terminate()
    process.wait()


def _message(errors: bytes) -> str:
    """The message of a `lifecycle` process's JSON error line, or its last line of output."""
    lines = errors.decode(errors="replace").strip().splitlines()
    if not lines:
        return "no message"
    try:
        return str(orjson.loads(lines[-1])["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return lines[-1]


@contextlib.contextmanager
def _progress(args: argparse.Namespace, head: int) -> Iterator[Advance | None]:
    """A progress bar on a terminal (not with --json): yields its `advance`, or None."""
    if not sys.stderr.isatty() or wants_json(args):
        yield None
        return
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("rebuilding", total=head or None)

        def advance(position: int, reached_head: int) -> None:
            bar.update(task, completed=position, total=reached_head)

        yield advance


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
