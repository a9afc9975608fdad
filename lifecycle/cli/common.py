"""What every command shares: global options, time arguments, output and errors."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from ..app.views import dumps
from ..domain.errors import LifecycleError
from ..domain.inputs import check_text, check_time


class CommandParser(argparse.ArgumentParser):
    """argparse that reports bad usage as the error JSON (exit 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        body = {"code": "validation_error", "message": f"{message} (see {self.prog} --help)"}
        sys.stderr.write(dumps({"error": body}) + "\n")
        sys.exit(2)


def common_options() -> argparse.ArgumentParser:
    """Options accepted before or after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="sqlite:///FILE or postgresql://… (env LIFECYCLE_DATABASE_URL)",
    )
    common.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="policies TOML file (env LIFECYCLE_CONFIG; defaults built in)",
    )
    return common


def json_output(help: str = "print the same JSON as the HTTP API") -> argparse.ArgumentParser:
    """`--json`, for the commands whose output has a JSON form besides the readable one."""
    option = argparse.ArgumentParser(add_help=False)
    option.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=help)
    return option


def cores() -> int:
    """The CPU cores this process may run on (its affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def moment(text: str) -> datetime:
    """An argparse type: ISO-8601 with an offset (`Z` allowed); naive times are refused."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (add Z or +hh:mm)")
    try:
        return check_time(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def line(text: str) -> str:
    """An argparse type: text without control, invisible or surrogate characters (a lead
    reference, a name)."""
    try:
        return check_text(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def print_json(value: Any) -> None:
    sys.stdout.write(dumps(value, pretty=sys.stdout.isatty()) + "\n")


def print_error(error: LifecycleError, code: str | None = None) -> None:
    body = error.as_dict()
    if code:
        body["error"]["code"] = code
    sys.stderr.write(dumps(body) + "\n")


def print_unavailable(error: BaseException) -> None:
    """The database did not answer (`outage.unavailable`): its error JSON, the class only
    (the driver's text can hold the statement's values)."""
    message = f"the database is unavailable ({type(error).__name__}); try again"
    sys.stderr.write(dumps({"error": {"code": "unavailable", "message": message}}) + "\n")


def print_table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)
