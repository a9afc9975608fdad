"""`lifecycle`: the command line, a thin wrapper over the same application as the HTTP API.

Every command module exposes `register(subparsers, common)`; each handler gets
`(args, services)` and returns the exit code. Rejected commands print the error JSON on stderr
and exit 1, as do commands the database does not answer (`unavailable`, `outage`); bad usage
exits 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import outage
from ..bootstrap import Settings, build
from ..domain.errors import LifecycleError
from ..logs import configure
from . import demo, leads, reports, serve, ticks, tokens
from .common import CommandParser, common_options, print_error, print_unavailable

COMMAND_MODULES = [leads, reports, ticks, tokens, serve, demo]


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = CommandParser(
        prog="lifecycle",
        description="Event-sourced lead lifecycle: statuses, SLA timers and closed-loop reports.",
        parents=[common],
        epilog="Database: --database-url or LIFECYCLE_DATABASE_URL "
        "(default sqlite:///lifecycle.db in the working directory).",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=CommandParser
    )
    for module in COMMAND_MODULES:
        module.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure(level="WARNING")
    settings = Settings.from_env(getattr(args, "database_url", None), getattr(args, "config", None))
    try:
        if getattr(args, "own_services", False):
            return int(args.handler(args, settings))
        services = build(settings)
    except LifecycleError as error:
        print_error(error)
        return 1
    except Exception as error:
        if not outage.unavailable(error):
            raise
        print_unavailable(error)
        return 1
    except (ValueError, OSError) as error:
        print_error(LifecycleError(str(error)), code="validation_error")
        return 2
    try:
        return int(args.handler(args, services))
    except LifecycleError as error:
        print_error(error)
        return 1
    except Exception as error:
        if not outage.unavailable(error):
            raise
        print_unavailable(error)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        services.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
