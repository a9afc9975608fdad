"""A real `lifecycle serve` fuzzed by schemathesis with hostile input, on each engine.

Schemathesis generates requests for every operation of the served OpenAPI document (valid and
invalid ones); its `flatmap_*` hooks then taint them: any string, number, boolean or null in
a body, a query string or a path may become a value of `hostile.py` (NUL and other controls,
invisible characters, extreme or naive times, huge numbers, fullwidth letters) or get a
control, invisible or fullwidth character spliced in. `{ref}` names the one lead made first,
by id, external_id or email, so most requests reach it. Every answer must be no 5xx, in time,
and as the document declares it (status code, content type, body schema). Then the server's
log must hold no error and no traceback, and the service must still be ready with its read
models whole.

The budget is fixed: `EXAMPLES` cases, derandomized (the same cases every run), about a
minute per engine. The served process is real: uvicorn, httptools, the group writer and the
background catch-up all see the input, as in production.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from api_support import Served, run_cli
from helpers import body
from hostile import EXTREME_NUMBERS, EXTREME_TIMES, LOOKALIKES, POISON_CHARACTERS, VALUES
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, HookContext, checks
from schemathesis.specs.openapi import checks as openapi_checks

pytestmark = pytest.mark.slow

EXAMPLES = 7000
ANSWER_WITHIN = 10.0  # seconds per request: any longer is a hang
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
LEAD = {"type": "created", "email": "fuzz@example.com", "external_id": "fuzz-lead"}
HOSTILE_TEXT = [value.text for value in VALUES]
# A URL cannot carry a lone surrogate (the client cannot encode it; the sweep sends its bytes).
URL_TEXT = [text for text in HOSTILE_TEXT if not any("\ud800" <= c <= "\udfff" for c in text)]
# An empty path parameter (or one with a slash) addresses another route, not this one's.
PATH_TEXT = [text for text in URL_TEXT if text and "/" not in text]
HOSTILE_SCALARS = [*EXTREME_NUMBERS, *EXTREME_TIMES, "NaN", "Infinity", True, None]


# --------------------------------------------------------------------------- strategies
def spliced(text: str) -> st.SearchStrategy[str]:
    """`text` with a control, invisible or fullwidth character put somewhere in it."""
    return st.tuples(
        st.integers(0, len(text)), st.sampled_from(POISON_CHARACTERS + LOOKALIKES)
    ).map(lambda at: text[: at[0]] + at[1] + text[at[0] :])


def hostile_leaf(value: Any, texts: list[str]) -> st.SearchStrategy[Any]:
    """Something a client should not send in place of `value`."""
    if isinstance(value, str):
        return st.one_of(st.sampled_from(texts), spliced(value))
    return st.sampled_from(HOSTILE_SCALARS + texts)


@st.composite
def tainted(draw: st.DrawFn, value: Any, texts: list[str]) -> Any:
    """`value` with about one leaf in four (string, number, boolean, null) made hostile."""
    if isinstance(value, dict):
        return {key: draw(tainted(item, texts)) for key, item in value.items()}
    if isinstance(value, list):
        return [draw(tainted(item, texts)) for item in value]
    if draw(st.integers(0, 3)) != 0:
        return value
    return draw(hostile_leaf(value, texts))


def maybe_tainted(value: Any, texts: list[str] = URL_TEXT) -> st.SearchStrategy[Any]:
    """Half the cases as schemathesis made them, half tainted."""
    return st.one_of(st.just(value), tainted(value, texts))


def install_hooks(schema: Any, refs: list[str]) -> None:
    """Taint every body, query string and path; `{ref}` first becomes one of `refs`."""

    @schema.hook
    def flatmap_body(_context: HookContext, value: Any) -> st.SearchStrategy[Any]:
        given = st.just(value)
        if isinstance(value, dict) and value.get("type") == "created":
            # a lead needs an email or a phone, which the schema cannot say: half get an
            # address, new or seen before (the inquiry is then a touch on that lead)
            emails = st.integers(0, 99).map(lambda n: {**value, "email": f"lead-{n}@example.com"})
            given = st.one_of(given, emails)
        return given.flatmap(lambda body: maybe_tainted(body, HOSTILE_TEXT))

    @schema.hook
    def flatmap_query(context: HookContext, query: Any) -> st.SearchStrategy[Any]:
        if not isinstance(query, dict):
            return st.just(query)  # none: there is no query string to taint
        given = st.just(query)
        if context.operation is not None and context.operation.path == "/v1/plan":
            # the plan needs a rate for every stage, which the schema cannot say
            given = st.one_of(given, st.just({"conversion_rate": "0.5", **query}))
        return given.flatmap(maybe_tainted)

    @schema.hook
    def flatmap_path_parameters(
        _context: HookContext, parameters: dict[str, Any] | None
    ) -> st.SearchStrategy[Any]:
        if not parameters:
            return st.just(parameters)
        known = {
            name: st.sampled_from(refs) if name == "ref" else st.just(value)
            for name, value in parameters.items()
        }
        return st.fixed_dictionaries(known).flatmap(lambda path: maybe_tainted(path, PATH_TEXT))


# --------------------------------------------------------------------------------- test
@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Any:
    server = Served(database_url, tmp_path)  # as deployed: one worker process per core
    yield server
    server.stop()


def test_a_served_api_fuzzed_with_hostile_input_never_fails(
    served: Served, database_url: str, tmp_path: Path
):
    token = run_cli("token", "create", "--name", "fuzz", "--scope", "admin",
                    "--database-url", database_url, cwd=tmp_path).stdout.strip()  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    lead = httpx.post(f"{served.url}/v1/leads", json=LEAD, headers=auth, timeout=10).json()
    assigned = httpx.post(f"{served.url}/v1/leads/{lead['id']}/activities",
                          json=body("assigned"), headers=auth, timeout=10)  # fmt: skip
    assert assigned.status_code == 200, assigned.text
    document = httpx.get(f"{served.url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.generation.update(with_security_parameters=False)  # every case has the token
    install_hooks(schema, [lead["id"], LEAD["external_id"], LEAD["email"]])
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )
    sent: list[str] = []
    with requests.Session() as session:
        _fuzz(cases, lambda case: _send(case, served, session, auth, sent))()
    assert len(sent) == EXAMPLES
    every = {f"{method.upper()} {path}" for path, methods in document["paths"].items()
             for method in methods}  # fmt: skip
    assert set(sent) == every  # each operation had its share
    _assert_still_whole(served, auth)


def _fuzz(cases: st.SearchStrategy[Any], send: Callable[[Any], None]) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same cases every run: a failure is reproducible
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def fuzz(case: Any) -> None:
        send(case)

    return fuzz


def _send(case: Any, served: Served, session: Any, auth: dict[str, str], sent: list[str]) -> None:
    sent.append(f"{case.method} {case.path}")
    case.headers = {**(case.headers or {}), **auth}  # past the token check, to the values
    try:
        case.call_and_validate(base_url=served.url, session=session, headers=auth,
                               checks=CHECKS, timeout=ANSWER_WITHIN)  # fmt: skip
    except Exception as error:
        error.add_note(f"serve's log ends:\n{_log_tail(served)}")
        raise


def _assert_still_whole(served: Served, auth: dict[str, str]) -> None:
    """No error or traceback in the log; ready, with nothing set aside by the read models."""
    log = served.log.read_text(errors="replace")
    failures = [line for line in log.splitlines() if '"level": "error"' in line
                or "[error" in line or "Traceback" in line]  # fmt: skip
    assert not failures, "\n".join(failures[:20])
    deadline = time.monotonic() + 15
    ready = httpx.get(f"{served.url}/readyz", timeout=5)
    while ready.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)  # the read models catch up on what the fuzz recorded
        ready = httpx.get(f"{served.url}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["projections"]["quarantined"] == {}
    funnel = httpx.get(f"{served.url}/v1/reports/funnel", headers=auth, timeout=10)
    assert funnel.status_code == 200 and funnel.json()["warnings"] == []


def _log_tail(served: Served, lines: int = 30) -> str:
    return "\n".join(served.log.read_text(errors="replace").splitlines()[-lines:])
