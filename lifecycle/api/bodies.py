"""Request bodies: JSON parsed once (orjson), validated by `activities` like the CLI's import.

Routes read the raw body instead of declaring a pydantic parameter so that one validator
(`activities.parse_activity`) gives HTTP and bulk import the same messages; the OpenAPI
document still describes every activity, from the same models (`activity_schemas`).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Header, Request
from pydantic import TypeAdapter

from ..activities import Activity
from ..domain.errors import ValidationFailed

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="retrying with the same key and body within 24 h returns the first "
        "answer and records nothing new; the same key with another body is a 422",
    ),
]

_REF = "#/components/schemas/{model}"


async def json_body(request: Request) -> Any:
    """The request body as JSON, or a `validation_error` saying why it is not."""
    raw = await request.body()
    if not raw.strip():
        raise ValidationFailed("a JSON body is required", fields={"body": "required"})
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValidationFailed(
            f"malformed JSON: {error}", fields={"body": "malformed JSON"}
        ) from None


def activity_schemas() -> dict[str, Any]:
    """The activity models as OpenAPI components, plus `Activity` (any client activity) and
    `LeadActivity` (any but `created`, which has its own route)."""
    schema = TypeAdapter(Activity).json_schema(ref_template=_REF)
    components: dict[str, Any] = schema.pop("$defs")
    components["Activity"] = schema
    mapping = {k: v for k, v in schema["discriminator"]["mapping"].items() if k != "created"}
    components["LeadActivity"] = {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    return components


def body_of(component: str) -> dict[str, Any]:
    """`openapi_extra` documenting a required JSON body of the named component."""
    schema = {"$ref": _REF.format(model=component)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
