"""structlog, configured once: JSON when not on a terminal, console when it is.

Personal data never reaches a log line: a processor drops known personal fields (email,
phone, names) wherever they appear, and tracebacks are rendered without local variables.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

PERSONAL_FIELDS = frozenset(
    {"email", "phone", "first_name", "last_name", "name", "company", "title", "ref"}
)
_configured = False


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in PERSONAL_FIELDS & event_dict.keys():
        event_dict[key] = "[redacted]"
    return event_dict


def configure(level: str = "INFO", json: bool | None = None) -> None:
    """Sets up structlog once per process (later calls are ignored)."""
    global _configured
    if _configured:
        return
    _configured = True
    use_json = not sys.stderr.isatty() if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False)
        )
    )
    exceptions: list[Any] = (
        [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        ]
        if use_json
        else []
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_personal_data,
            *exceptions,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        # Not cached: tests and embedders may reconfigure logging after the first log line.
        cache_logger_on_first_use=False,
    )


def set_level(level: str) -> None:
    """Logs `level` and above from now on (`info` for a server's request lines)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper()))
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
