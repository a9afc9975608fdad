"""Every failure as the contract's error JSON with its documented status code, never a bare 500.

The application raises `LifecycleError`s with stable codes; FastAPI raises its own validation
and HTTP errors. Both are translated here, once, so routes never build an error body.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from ..app.activities import problem_message
from ..domain.errors import LifecycleError
from ..logs import get_logger
from ..storage import outage
from .responses import JsonBody
from .schemas import Error

log = get_logger(__name__)

STATUS_OF_CODE = {
    "not_found": 404,
    "transition_not_allowed": 409,
    "soft_bant_not_met": 409,
    "has_contact_channel": 409,
    "conflict": 409,
    "integrity_error": 409,
    "out_of_order": 422,
    "occurred_in_future": 422,
    "validation_error": 422,
    "unauthorized": 401,
    "forbidden": 403,
    "payload_too_large": 413,
    "unavailable": 503,
}
RETRY_AFTER = str(outage.RETRY_AFTER)  # seconds, on every 503 (`outage.RETRY_AFTER`)
_CODE_OF_STATUS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    503: "unavailable",
}


class Unauthorized(LifecycleError):
    code = "unauthorized"


class Forbidden(LifecycleError):
    code = "forbidden"


class PayloadTooLarge(LifecycleError):
    code = "payload_too_large"


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


def install(app: FastAPI) -> None:
    app.add_exception_handler(LifecycleError, _rejected)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    # Anything else unforeseen is answered 500 by `middleware.RequestLog`, the outermost layer.
    for kind in outage.DATABASE_ERRORS:
        app.add_exception_handler(kind, _database_failed)


def rejection(error: LifecycleError) -> JsonBody:
    status = STATUS_OF_CODE.get(error.code, 422)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": RETRY_AFTER}
    return JsonBody(error.as_dict(), status_code=status, headers=headers)


async def _rejected(_request: Request, error: LifecycleError) -> Response:
    if error.code == "integrity_error":  # the operator's to repair: say which record
        log.error("stored_history_damaged", **error.details)
    return rejection(error)


async def _invalid(_request: Request, error: RequestValidationError) -> Response:
    fields = invalid_fields(error.errors())
    body = error_body("validation_error", f"invalid request: {', '.join(fields)}", fields=fields)
    return JsonBody(body, status_code=422)


async def _http(request: Request, error: HTTPException) -> Response:
    code = _CODE_OF_STATUS.get(error.status_code, "validation_error")
    body = error_body(code, str(error.detail))
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(_methods_at(request))
    return JsonBody(body, status_code=error.status_code, headers=headers or None)


async def _database_failed(_request: Request, error: Exception) -> Response:
    """503 when the database is unavailable; any other database error is a defect: raised
    on to `middleware.RequestLog`, which answers 500."""
    if outage.unavailable(error):
        return unavailable_answer(error)
    raise error


UNAVAILABLE_MESSAGE = (
    "the database is unavailable; retry after Retry-After seconds "
    "(a write with the same Idempotency-Key is recorded once)"
)


def unavailable_answer(error: BaseException) -> JsonBody:
    """503 `unavailable` with `Retry-After`; the log line names the error's class only (a
    database error's text can hold the values of the statement)."""
    log.warning("database_unavailable", error=type(error).__name__)
    return JsonBody(
        error_body("unavailable", UNAVAILABLE_MESSAGE),
        status_code=503,
        headers={"Retry-After": RETRY_AFTER},
    )


def _methods_at(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's).

    Each method is asked of the routes as a request would be: included routers keep their
    routes inside (FastAPI 0.16x), so reading each top-level route's `methods` found none.
    """

    def served(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] is Match.FULL for route in request.app.routes)

    return [method for method in _METHODS if served(method)]


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def invalid_fields(problems: Iterable[Any]) -> dict[str, str]:
    """`{"limit": "Input should be less than or equal to 500"}`: where, and what is wrong."""
    fields: dict[str, str] = {}
    for problem in problems:
        location: Sequence[Any] = problem.get("loc", ())
        if location and location[0] in ("query", "path", "header", "body", "cookie"):
            location = location[1:]
        fields[".".join(str(part) for part in location) or "body"] = problem_message(problem)
    return fields


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route can answer."""
    meanings = {
        401: "no valid bearer token (`unauthorized`)",
        403: "the token lacks the route's scope (`forbidden`)",
        404: "no such lead (`not_found`)",
        409: "a state error: transition_not_allowed, soft_bant_not_met, has_contact_channel, "
        "conflict; or integrity_error: the lead's stored events are damaged",
        413: "the body is over 64 KiB (`payload_too_large`)",
        422: "validation_error, out_of_order or occurred_in_future",
        503: "the database does not answer (`unavailable`)",
    }
    return {status: {"model": Error, "description": meanings[status]} for status in statuses}
