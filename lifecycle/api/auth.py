"""Bearer tokens and scopes as FastAPI dependencies: 401 without a valid token, 403 without scope.

The caller's token name is put on the request state for the request log (never the token).
The check is async: a token seen in the last seconds costs no thread-pool trip (which, under
load, costs more than the request's own work).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from .errors import Forbidden, Unauthorized
from .params import refuse_unknown_query
from .tokens import Caller, TokenStore

_bearer = HTTPBearer(
    auto_error=False,
    description="`Authorization: Bearer <token>`, from `lifecycle token create`",
)


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting callers whose token has `scope` (or `admin`)."""

    async def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> Caller:
        return await _admit(request, credentials, scope)

    caller.__name__ = f"require_{scope.replace(':', '_')}"
    return caller


async def authorize(request: Request, scope: str) -> Caller:
    """`require(scope)` as a plain call, for routes that skip dependency injection (its
    solving costs more than the rest of a write); such routes document `SECURITY`."""
    return await _admit(request, await _bearer(request), scope)


# OpenAPI: the operation takes the bearer token.
SECURITY: list[dict[str, list[str]]] = [{_bearer.scheme_name: []}]


async def _admit(
    request: Request, credentials: HTTPAuthorizationCredentials | None, scope: str
) -> Caller:
    if credentials is None:
        raise Unauthorized("an `Authorization: Bearer <token>` header is required")
    tokens: TokenStore = request.app.state.tokens
    found = tokens.remembered(credentials.credentials)
    if found is None:  # not checked lately: ask the database, off the event loop
        found = await run_in_threadpool(tokens.caller, credentials.credentials)
    if found is None:
        raise Unauthorized("the token is unknown or revoked")
    request.state.token_name = found.name
    if not found.may(scope):
        raise Forbidden(f"the token lacks the {scope} scope", scope=scope)
    refuse_unknown_query(request)  # admitted: now what it asks for
    return found
