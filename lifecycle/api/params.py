"""Parameter types shared by the routes: the same rules as the activities' fields
(`domain.inputs`), so a path, a query string or a body refuse the same values."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

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
