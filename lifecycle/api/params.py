"""Query parameter types shared by the routes."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text(value: Any) -> Any:
    """Only ISO-8601 (CONTRACT.md §1): pydantic would also read `1700000000` as Unix time."""
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise ValueError("an ISO-8601 time with an offset, such as 2026-01-05T10:00:00Z")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
