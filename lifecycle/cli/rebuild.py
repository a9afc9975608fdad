"""`lifecycle projections rebuild [NAME …] [--workers N]`: replays the log into read models.

A rebuild is bound by one core: reading, decoding and the projections' Python work. With
`--workers N` (default: one per core, at most 16) the leads are shared out among N `lifecycle`
processes by the last hex digit of their id (`runner.Partition`): each process reads only its
leads' events and replays every selected projection for them. Their writes take turns at
SQLite's write lock (each batch is computed before it locks, see the runner) or run side by
side on PostgreSQL. Each process's batches are atomic, as always: if one fails, the others
finish, and the next catch-up (a report, `serve`) replays what its partition still misses
before the projections are whole again.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy import Engine

from ..domain.errors import LifecycleError, ValidationFailed
from ..projections.partitions import MAX_PARTITIONS, Partition
from ..projections.runner import ProjectionRunner
from ..runtime.settings import Settings
from ..storage.db import without_statement_timeout
from .common import cores, json_output, positive_int, print_error, print_json, wants_json

POLL_SECONDS = 0.25

Advance = Callable[[int, int], None]


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    rebuild = actions.add_parser(
        "rebuild", parents=[common, json_output()],
        help="rebuild read models from the start of the log",
        description="Empties the read models NAME … (default: all) and replays every event.",
    )  # fmt: skip
    rebuild.add_argument(
        "projection", metavar="NAME", nargs="*", help="read models to rebuild (default: all)"
    )
    rebuild.add_argument(
        "--workers", type=positive_int, default=None, metavar="N",
        help=f"processes to share the leads among (default: one per CPU core, at most "
        f"{MAX_PARTITIONS})",
    )  # fmt: skip
    # Internal: what each of those processes runs (one partition of a split rebuild).
    rebuild.add_argument("--partition", type=_partition, default=None, help=argparse.SUPPRESS)
    rebuild.set_defaults(handler=run_rebuild)


def run_rebuild(
    args: argparse.Namespace, runner: ProjectionRunner, engine: Engine, settings: Settings
) -> int:
    without_statement_timeout(engine)  # refilling a whole table takes what it takes
    unknown = [name for name in args.projection if name not in runner.projections]
    if unknown:
        known = ", ".join(runner.projections) or "none"
        print_error(ValidationFailed(f"no projection named {unknown[0]!r} (known: {known})"))
        return 2
    names = list(dict.fromkeys(args.projection)) or list(runner.projections)
    if args.partition is not None:
        runner.catch_up_partition(names, args.partition)
        return 0
    workers = min(args.workers or cores(), MAX_PARTITIONS)
    started = time.perf_counter()
    with _progress(args, runner.head()) as advance:
        if workers == 1:
            runner.rebuild(names, advance)
        else:
            failures = _in_processes(runner, settings, names, workers, advance)
            if failures:
                print_error(LifecycleError("; ".join(failures)))
                return 1
            runner.join(names)  # what arrived since the workers' last batches, then merged
    seconds = time.perf_counter() - started
    summary = {"rebuilt": names, "position": runner.head(), "seconds": round(seconds, 2)}
    if wants_json(args):
        print_json(summary)
    else:
        sys.stdout.write(f"Rebuilt {', '.join(names)} up to position {summary['position']} "
                         f"in {summary['seconds']} s.\n")  # fmt: skip
    return 0


def _in_processes(
    runner: ProjectionRunner,
    settings: Settings,
    names: list[str],
    workers: int,
    advance: Advance | None,
) -> list[str]:
    """Rebuilds `names` split in `workers` partitions, each in a `lifecycle` process of its
    own; returns what failed."""
    runner.split(names, workers)
    env = {**os.environ, **settings.as_env()}
    command = [sys.executable, "-m", "lifecycle", "projections", "rebuild", *names]
    with contextlib.ExitStack() as stack:
        running = []
        for index in range(workers):
            part = f"{index}/{workers}"
            errors = stack.enter_context(tempfile.TemporaryFile())
            process = subprocess.Popen(
                [*command, "--partition", part], env=env, stdout=subprocess.DEVNULL, stderr=errors
            )
            stack.callback(_stop, process)
            running.append((part, process, errors))
        head = runner.head()
        while any(process.poll() is None for _, process, _ in running):
            if advance:
                reached = runner.reached(names)
                advance(reached, max(head, reached))
            time.sleep(POLL_SECONDS)
        failures = []
        for part, process, errors in running:
            if process.returncode != 0:
                errors.seek(0)
                failures.append(f"rebuilding partition {part} failed: {_message(errors.read())}")
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


def _partition(text: str) -> Partition:
    try:
        return Partition.parse(text)
    except ValueError as error:
        msg = f"expected K/N, a partition of a split rebuild: {error}"
        raise argparse.ArgumentTypeError(msg) from None
