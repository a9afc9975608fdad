"""`lifecycle`: the command line, a thin wrapper over the same application as the HTTP API.

Every command module exposes `register(subparsers, common)`; each handler takes `args` and
the parts of the service it names (`bootstrap.main` gives them: `ledger`, `runner`, `engine`,
`rules`, `clock`, `settings`, `parts`, `build`, `app`) and returns the exit code. Rejected
commands print the error JSON on stderr and exit 1, as do commands the database does not
answer (`unavailable`, `outage`); bad usage exits 2.
"""

from __future__ import annotations

import argparse
from typing import Protocol

from ..domain.errors import LifecycleError
from ..logs import get_logger
from ..storage import outage
from . import config, demo, leads, reports, serve, ticks, tokens
from .common import CommandParser, common_options, print_error, print_unavailable

COMMAND_MODULES = [leads, reports, ticks, tokens, serve, demo, config]
log = get_logger(__name__)


class Closable(Protocol):
    def close(self) -> None: ...


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = CommandParser(
        prog="lifecycle",
        description="Event-sourced lead lifecycle: statuses, SLA timers and closed-loop reports.",
        parents=[common],
        epilog="Database: --database-url or LIFECYCLE_DATABASE_URL "
        "(default sqlite:///lifecycle.db in the working directory).",
    )
    parser.add_argument("--version", action="version", version=f"lifecycle {_version()}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=CommandParser
    )
    for module in COMMAND_MODULES:
        module.register(subparsers, common)
    return parser


def _version() -> str:
    """The installed distribution's version (pyproject.toml's)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lifecycle")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def failed(error: Exception, starting: bool = False) -> int:
    """Says why a command failed, as the error JSON on stderr, and returns its exit code:
    1 for a rejected command or a database that does not answer; 2 for settings that cannot
    be used (a bad rulebook, a database file that cannot be opened); and for anything else,
    a bug, `internal_error` with exit 1 and one structured log line carrying the traceback,
    never a bare Python traceback."""
    if isinstance(error, LifecycleError):
        print_error(error)
        return 1
    if outage.unavailable(error):
        print_unavailable(error)
        return 1
    if starting and isinstance(error, ValueError | OSError):
        print_error(LifecycleError(str(error)), code="validation_error")
        return 2
    log.error("command_failed", error=type(error).__name__, exc_info=error)
    message = f"the command failed ({type(error).__name__}); this is a bug, please report it"
    print_error(LifecycleError(message), code="internal_error")
    return 1


def close_quietly(services: Closable) -> None:
    """Closes what a command used; the answer is already given, so a failure only logs."""
    try:
        services.close()
    except Exception as error:  # the answer is already given; a failing close only logs
        log.warning("close_failed", error=type(error).__name__)
