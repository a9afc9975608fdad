"""The FastAPI app over the parts of the service it is given: routes, errors, logs, OpenAPI.

`create_app` only wires; it starts nothing. `lifecycle serve` adds the background work (the
scheduler sweep and the projection catch-up) around it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from . import errors, events, health, leads, reports
from .bodies import activity_schemas
from .deps import AppParts
from .middleware import BodyLimit, RequestLog
from .tokens import TokenStore

DOCS_ASSETS = "/docs-assets"  # Swagger UI's and ReDoc's scripts, served from the package
DESCRIPTION = """\
The lead lifecycle over HTTP (docs/http.md). Every `/v1` route needs
`Authorization: Bearer <token>` (make one with `lifecycle token create`) with the route's
scope; `admin` grants every scope. Errors are `{"error": {"code", "message", …}}`.
POSTs accept an `Idempotency-Key`: the same key and body within 24 hours returns the first
answer (with `Idempotent-Replayed: true`) and records nothing new.
"""


def create_app(services: AppParts, close_at_shutdown: bool = False) -> FastAPI:
    """The app over `services`; with `close_at_shutdown` it closes them when the server stops
    (a worker process owns its services; otherwise the caller does)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_at_shutdown:
            services.close()

    # /docs and /redoc load their scripts and styles from this app (`DOCS_ASSETS`), not from
    # a CDN: the docs work offline (fastapi-offline ships the files).
    app = FastAPIOffline(
        title="lifecycle",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},  # no badge from swagger.io's validator
    )
    app.state.services = services
    app.state.tokens = TokenStore(services.engine)
    app.state.tokens.create_table()
    errors.install(app)
    for module in (leads, events, reports):
        app.include_router(module.router)
    health.install(app, services)
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestLog)  # added last: outermost, so it sees every answer
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the activity schemas the POST bodies refer to."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        activities = activity_schemas()
        clashes = [
            name for name, schema in activities.items() if schemas.get(name, schema) != schema
        ]
        if clashes:  # two shapes of one name: a route would point at the wrong one
            raise RuntimeError(f"OpenAPI components named twice: {', '.join(clashes)}")
        schemas.update(activities)
        app.openapi_schema = document
    return app.openapi_schema
