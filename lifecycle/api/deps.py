"""The application's services, handed to routes by FastAPI's dependency injection."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..bootstrap import Services


async def services(request: Request) -> Services:
    """Async on purpose: a sync dependency costs a trip through the thread pool."""
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]
