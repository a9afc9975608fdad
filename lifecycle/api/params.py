"""Parameter types shared by the routes: the same rules as the activities' fields
(`domain.inputs`), so a path, a query string or a body refuse the same values."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from ..domain.errors import ValidationFailed
from ..domain.inputs import check_text, check_time

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any) -> Any:
    """Only ISO-8601 (docs/activities.md, Values): pydantic would also read `1700000000` as
    Unix time."""
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise ValueError("an ISO-8601 time with an offset, such as 2026-01-05T10:00:00Z")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(check_time)]
# Any other text in a path or a query string: no control, invisible or surrogate character.
Line = Annotated[str, AfterValidator(check_text)]


def refuse_unknown_query(request: Request) -> None:
    """`validation_error` (422) naming every query parameter the route does not take: an
    unknown filter (`?campaign=x` on a route that has none) would otherwise be ignored and
    answer everything. Called once the caller is admitted (`auth`), so 401/403 come first."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        raise ValidationFailed(
            f"unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            fields=dict.fromkeys(unknown, "unknown query parameter"),
        )


def _query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters `route` declares, its dependencies' included (computed once, and
    kept on the route: an `id()`-keyed cache could answer for a route since collected)."""
    names: frozenset[str] | None = getattr(route, "_lifecycle_query_names", None)
    if names is None:
        found: set[str] = set()
        dependants = [route.dependant]
        while dependants:
            dependant = dependants.pop()
            found.update(param.alias for param in dependant.query_params)
            dependants.extend(dependant.dependencies)
        names = frozenset(found)
        route._lifecycle_query_names = names  # type: ignore[attr-defined]
    return names


async def known_query_only(request: Request) -> None:
    """`refuse_unknown_query` as a dependency, for the routes that take no token (health)."""
    refuse_unknown_query(request)
