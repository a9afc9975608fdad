"""`lifecycle config schema|check`: the rulebook's JSON Schema, and a check of a rulebook file.

Neither needs a database. `lifecycle.config` (the pydantic models) is imported only when one of
these commands runs, like `serve` imports the web stack, so other commands start no slower.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..domain.errors import LifecycleError
from ..runtime.settings import Settings
from .common import CommandParser, print_error, print_json


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    config = subparsers.add_parser(
        "config", parents=[common], help="the rulebook: its JSON Schema, or check a file"
    )
    actions = config.add_subparsers(
        dest="config_command", metavar="ACTION", required=True, parser_class=CommandParser
    )
    schema = actions.add_parser(
        "schema",
        parents=[common],
        help="print the JSON Schema of the rulebook TOML",
        description="Prints the JSON Schema (draft 2020-12) of the rulebook file, with every key "
        "explained, for editors and CI checks. config/example.toml documents the same keys.",
    )
    schema.set_defaults(handler=print_schema)
    check = actions.add_parser(
        "check",
        parents=[common],
        help="validate a rulebook TOML file",
        description='Validates FILE as `serve` would at start: prints {"ok": true, "version": …} '
        "and exits 0, or prints the error JSON on stderr, every mistake led by its key, and "
        "exits 1.",
    )
    check.add_argument(
        "file",
        metavar="FILE",
        type=Path,
        nargs="?",
        help="the rulebook TOML file (default: --config or LIFECYCLE_CONFIG)",
    )
    check.set_defaults(handler=check_file)


def print_schema(args: argparse.Namespace, settings: Settings) -> int:
    from ..config import json_schema

    print_json(json_schema())
    return 0


def check_file(args: argparse.Namespace, settings: Settings) -> int:
    from ..config import ConfigError, load_rulebook

    path = args.file or settings.config_path
    if path is None:
        message = "no file to check: give FILE, --config or LIFECYCLE_CONFIG"
        print_error(LifecycleError(message), code="validation_error")
        return 2
    try:
        rules = load_rulebook(path)
    except ConfigError as error:
        print_error(LifecycleError(str(error), problems=error.problems), code="validation_error")
        return 1
    print_json({"ok": True, "version": rules.version})
    return 0
