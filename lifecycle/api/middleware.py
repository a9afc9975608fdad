"""ASGI middleware: one structured log line per request, the answer to a request that failed
unforeseen (500, with its traceback in one log record), and a 64 KiB cap on request bodies.

Both are plain ASGI (no `BaseHTTPMiddleware`, which buffers responses and runs the app in
another task). The log line names the route template (`/v1/leads/{ref}`), never the path:
a path can hold an email. It carries method, route, status, duration, request id and the
token's name — no body, no query, no personal data.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..app.views import dumps
from ..logs import get_logger
from .errors import error_body

MAX_BODY = 64 * 1024
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
LOGGER = "lifecycle.api.requests"


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        status = 500
        started = time.perf_counter()
        answering = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                status = message["status"]
                answering = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id.decode()):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as error:
                get_logger(LOGGER).error(
                    "request_failed", error=type(error).__name__, exc_info=error
                )
                if answering:  # half an answer is out: the server drops the connection
                    raise
                await _crashed(send_with_id)
            finally:
                # A fresh logger each time: it follows the logging set-up in force now.
                get_logger(LOGGER).info(
                    "request",
                    method=scope["method"],
                    route=_route_of(scope),
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                    token=scope.get("state", {}).get("token_name"),
                )


async def _crashed(send: Send) -> None:
    """500 `internal_error`, and `Connection: close`: after a failure nobody foresaw, the
    client opens a new connection instead of finding this one dropped under its next request."""
    await _answer_and_close(
        send, 500, error_body("internal_error", "the service failed; try again")
    )


async def _answer_and_close(send: Send, status: int, body: dict[str, object]) -> None:
    """An error answer sent from the middleware itself, closing the connection after it."""
    payload = dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class BodyLimit:
    """413 `payload_too_large` for bodies over `limit` bytes, by Content-Length or as streamed.

    The body is read here (at most `limit` + one chunk) and handed on whole, so a body sent
    without a Content-Length, or with a false one, is cut off just the same.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.limit:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, send: Send) -> None:
        message = f"the request body is over {self.limit // 1024} KiB"
        await _answer_and_close(
            send, 413, error_body("payload_too_large", message, limit=self.limit)
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # waits for the disconnect, as Starlette expects
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _request_id(scope: Scope) -> bytes:
    """The caller's `X-Request-ID` when it is a sane token, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _REQUEST_ID.fullmatch(value.decode("latin-1")):
            return bytes(value)
    return uuid.uuid4().hex.encode()


def _route_of(scope: Scope) -> str | None:
    route: Any = scope.get("route")
    return getattr(route, "path", None)
