"""structlog, configured once: JSON when not on a terminal, console when it is.

Every record is one line written with one `write(2)`, so that the processes of one `serve`
(its main process and its HTTP workers share stderr) never glue two records together. The
standard library's loggers (uvicorn, asyncio, eventsourcing, warnings, an exception nobody
caught) go through the same renderer: a traceback is one JSON record, never lines of text.

Personal data never reaches a log line: a processor drops known personal fields (email,
phone, names) wherever they appear, and tracebacks are rendered without local variables.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import MutableMapping
from types import TracebackType
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


def write_line(text: str) -> None:
    """Writes `text` and a newline to stderr in one `write(2)` (more only if the kernel takes
    part of it), so that lines of processes sharing stderr never interleave."""
    stream = sys.stderr
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # a stream in memory (a test, an embedder)
        stream.write(text + "\n")
        stream.flush()
        return
    stream.flush()  # anything printed before this line comes before it
    data = (text + "\n").encode("utf-8", "backslashreplace")
    while data:
        data = data[os.write(fd, data) :]


class LineLogger:
    """structlog's final logger: each rendered record becomes one `write_line`."""

    def msg(self, message: str) -> None:
        write_line(message)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _line_logger(*_args: Any) -> LineLogger:
    return LineLogger()


class _LineHandler(logging.Handler):
    """The standard library's records, formatted by structlog, written as whole lines."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            write_line(self.format(record))
        except Exception:
            self.handleError(record)


def configure(level: str = "INFO", json: bool | None = None) -> None:
    """Sets up structlog and the standard library's logging once per process (later calls
    are ignored)."""
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
    stamp: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *stamp,
            redact_personal_data,
            *exceptions,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_line_logger,
        # Not cached: tests and embedders may reconfigure logging after the first log line.
        cache_logger_on_first_use=False,
    )
    handler = _LineHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_logger_name,
                *stamp,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_personal_data,
                *exceptions,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread


def set_level(level: str) -> None:
    """Logs `level` and above from now on (`info` for a server's request lines)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper()))
    )
    logging.getLogger().setLevel(level.upper())


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


def _uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    get_logger("lifecycle").critical(
        "uncaught_exception", error=kind.__name__, exc_info=(kind, error, traceback)
    )


def _uncaught_in_thread(hook: threading.ExceptHookArgs) -> None:
    if hook.exc_value is None or issubclass(hook.exc_type, SystemExit):
        return
    get_logger("lifecycle").critical(
        "uncaught_exception",
        error=hook.exc_type.__name__,
        thread=hook.thread.name if hook.thread else None,
        exc_info=(hook.exc_type, hook.exc_value, hook.exc_traceback),
    )
