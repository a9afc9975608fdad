"""The API against its own OpenAPI document, fuzzed by schemathesis: no 500, answers as declared.

Every operation gets a bounded number of generated requests (valid and invalid ones), on a
real lead, with an admin token; schemathesis checks the status codes, content types, headers
and bodies against the document, and that a missing token is refused.
"""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
import schemathesis
from api_support import drive, new_lead
from conftest import Api, Headers
from hypothesis import HealthCheck, settings
from schemathesis import checks

from lifecycle.api.app import create_app
from lifecycle.bootstrap import Settings, build


def _document() -> dict[str, Any]:
    """The app's OpenAPI document (routes only: the throwaway database is never written)."""
    with tempfile.TemporaryDirectory() as folder:
        services = build(Settings(f"sqlite:///{folder}/openapi.db"))
        try:
            return create_app(services).openapi()
        finally:
            services.close()


# Loaded at import so that each operation is its own test (the fixture-based lazy loader of
# schemathesis 4.32 does not run under pytest 9); requests go to each test's own app.
schema = schemathesis.openapi.from_dict(_document())
# Every request carries the admin token (below), so a generated Authorization header, or one
# left out as negative data, never reaches the app: the case would be judged for a violation
# the app never saw. Refusing a missing token is schemathesis's own `ignored_auth` check.
schema.config.generation.update(with_security_parameters=False)


@pytest.fixture
def target(api: Api, admin: Headers) -> tuple[Headers, str]:
    """Admin headers and an open lead for the `{ref}` of every generated request."""
    lead = new_lead(api.client, admin)
    drive(api.client, admin, lead["id"], "assigned")
    return admin, lead["id"]


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(
    case: Any, api: Api, target: tuple[Headers, str]
):
    headers, lead_id = target
    if "ref" in (case.path_parameters or {}):
        case.path_parameters["ref"] = lead_id
    # Schema-valid is not always acceptable: a lead needs an email OR a phone, and a time may
    # be in the future or out of order; the contract answers those 422 (see test_api_errors).
    case.operation.schema.app = api.app  # this test's app, for the checks' own probes too
    case.call_and_validate(
        app=api.app, headers=headers, excluded_checks=[checks.positive_data_acceptance]
    )


def test_every_v1_operation_declares_the_bearer_token_and_posts_the_idempotency_key():
    document = _document()
    for path, operations in document["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            assert operation.get("security") == [{"HTTPBearer": []}], (method, path)
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert ("Idempotency-Key" in headers) == (method == "post"), (method, path)
    assert "HTTPBearer" in document["components"]["securitySchemes"]
