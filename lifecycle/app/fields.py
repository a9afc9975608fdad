"""The values activities carry (docs/activities.md, Values): each a pydantic type with its check.

Times are aware ISO-8601 text within the years the service keeps; free text is one line or a
few, without control or invisible characters; emails are compared in one normalized form.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from ..domain.inputs import check_text, check_time, normalize_email


def _iso_text(value: Any) -> Any:
    """Times are ISO-8601 text (docs/activities.md, Values); pydantic alone would read a number
    as Unix time."""
    if isinstance(value, str | datetime):
        return value
    raise ValueError("an ISO-8601 time with an offset, such as 2026-01-05T10:00:00Z")


def _valid_email(value: str) -> str:
    """The address in its compared form (`inputs.normalize_email`), if it is one."""
    email = normalize_email(value) or ""
    check_text(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None
    return email


def _visible(value: str) -> str:
    """`value` if every character is visible: no space, control or invisible character."""
    check_text(value)
    if any(char.isspace() for char in value):
        raise ValueError("must hold only visible characters (no spaces)")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(check_time)]
Text = Annotated[
    str, Field(min_length=1, max_length=500), AfterValidator(partial(check_text, free_text=True))
]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_text)]
Email = Annotated[
    str,
    Field(min_length=3, max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(_valid_email),
]
Phone = Annotated[str, Field(min_length=3, max_length=50), AfterValidator(check_text)]
# The sender's own id of an activity (docs/activities.md, Duplicates).
ActivityId = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_visible)]
Url = Annotated[str, Field(max_length=2000), AfterValidator(check_text)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]
