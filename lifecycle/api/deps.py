"""What the HTTP API needs of the service, handed to routes by FastAPI's dependency injection.

The API declares it (`AppParts`); the composition root (`bootstrap`) builds it and gives it
to `create_app`. Routes take it with `ServicesDep`.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy import Engine

from ..app.ledger import Clock, LeadLedger
from ..app.writer import GroupWriter
from ..domain.rules import Rulebook
from ..projections.runner import ProjectionRunner


class AppParts(Protocol):
    """The parts of the service the API uses."""

    @property
    def ledger(self) -> LeadLedger: ...
    @property
    def writer(self) -> GroupWriter: ...
    @property
    def runner(self) -> ProjectionRunner: ...
    @property
    def engine(self) -> Engine: ...
    @property
    def rules(self) -> Rulebook: ...
    @property
    def clock(self) -> Clock: ...
    def close(self) -> None: ...


async def services(request: Request) -> AppParts:
    """Async on purpose: a sync dependency costs a trip through the thread pool."""
    found: AppParts = request.app.state.services
    return found


ServicesDep = Annotated[AppParts, Depends(services)]
