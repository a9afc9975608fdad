"""What a write request carries: its JSON body and its `Idempotency-Key`, read by hand.

Routes read the raw body instead of declaring a pydantic parameter so that one validator
(`activities.parse_activity`) gives HTTP and bulk import the same messages; the OpenAPI
document still describes every activity, from the same models (`activity_schemas`). The write
routes read the key header here too, rather than through FastAPI's dependency injection, whose
solving cost more than the rest of an append; `write_operation` documents what they read.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Request
from pydantic import StringConstraints, TypeAdapter, ValidationError

from ..app.activities import Activity
from ..domain.errors import ValidationFailed
from .auth import SECURITY

IDEMPOTENCY_KEY = "Idempotency-Key"
_KEY_RULES = {"min_length": 1, "max_length": 255, "pattern": r"^[\x21-\x7e]+$"}
_KEY = TypeAdapter(Annotated[str, StringConstraints(**_KEY_RULES)])
_KEY_DOC = (
    "retrying with the same key and body within 24 h returns the first answer and records "
    "nothing new; the same key with another body is a 422"
)

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


def idempotency_key(request: Request) -> str | None:
    """The request's `Idempotency-Key` header, if any: printable ASCII, 1 to 255 characters."""
    value = request.headers.get(IDEMPOTENCY_KEY)
    if value is None:
        return None
    try:
        return _KEY.validate_python(value)
    except ValidationError as error:
        problem = error.errors()[0]["msg"]
        raise ValidationFailed(
            f"invalid request: {IDEMPOTENCY_KEY}", fields={IDEMPOTENCY_KEY: problem}
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


def write_operation(component: str) -> dict[str, Any]:
    """`openapi_extra` for a write route: a required JSON body of the named component, the
    optional `Idempotency-Key` header and the bearer token (see `auth.authorize`)."""
    body = {"$ref": _REF.format(model=component)}
    key = {
        "name": IDEMPOTENCY_KEY,
        "in": "header",
        "required": False,
        "description": _KEY_DOC,
        "schema": {
            "type": "string",
            "minLength": _KEY_RULES["min_length"],
            "maxLength": _KEY_RULES["max_length"],
            "pattern": _KEY_RULES["pattern"],
            "title": IDEMPOTENCY_KEY,
        },
    }
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "parameters": [key],
        "security": SECURITY,
    }
