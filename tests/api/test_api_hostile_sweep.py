"""Every route of the OpenAPI document, every path and query parameter and body field, every
hostile value of `hostile.py`, on both engines: never a 500 nor a hang, always the error JSON
of docs/errors.md, a `validation_error` naming the field where the value is bad, and nothing
recorded by a refused write.

The routes and fields are read from the app's own document, so a new one is swept without a
change here; a route whose required parameters the schema alone cannot fill gets them from
`BASE_QUERY` (the sweep first checks that each base request is accepted).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as NoAnswer
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import REPO, drive, new_lead
from conftest import Api, ApiFactory, Headers
from helpers import created
from hostile import VALUES, Hostile, encoded, must_refuse, sample

ANSWER_WITHIN = 10.0  # seconds: any longer is a hang
# What the schema cannot say: the plan needs a rate for every stage (one fills them all).
BASE_QUERY = {"/v1/plan": {"revenue_goal": "1000", "deal_size": "100", "conversion_rate": "0.5"}}
BASE_BODY = {"Created": created}  # a lead needs an email or a phone


def contract_codes() -> dict[str, int]:
    """`{code: HTTP status}` from the table of docs/errors.md."""
    table = (REPO / "docs" / "errors.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (\d{3}) \|", table, re.MULTILINE)
    return {code: int(status) for code, status in rows}


@dataclass
class Target:
    """One parameter or body field of one operation."""

    method: str
    path: str
    where: str  # "path", "query" or "body"
    name: str
    schema: dict[str, Any]
    component: str | None = None  # the body's schema, for a body field


@dataclass
class Sweep:
    api: Api
    headers: Headers
    lead_ref: str
    moment: str
    components: dict[str, Any]
    codes: dict[str, int]
    pool: ThreadPoolExecutor
    problems: list[str] = field(default_factory=list)
    requests: int = 0

    # ------------------------------------------------------------------------ requests
    def base_query(self, operation: dict[str, Any], path: str) -> dict[str, Any]:
        query = {
            p["name"]: str(sample(p["schema"], self.components, self.moment))
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        }
        return {**query, **BASE_QUERY.get(path, {})}

    def base_body(self, component: str) -> dict[str, Any]:
        if component in BASE_BODY:
            return BASE_BODY[component]()
        schema = self.components[component]
        return {
            name: sample(schema["properties"][name], self.components, self.moment)
            for name in schema.get("required", [])
        }

    def send(self, method: str, path: str, ref: str, query: dict[str, str],
             body: bytes | None) -> Any:  # fmt: skip
        url = path.replace("{ref}", encoded(ref))
        if query:
            url += "?" + "&".join(f"{encoded(k)}={encoded(v)}" for k, v in query.items())
        headers = {**self.headers, "Content-Type": "application/json"}
        self.requests += 1
        work = self.pool.submit(self.api.client.request, method, url, content=body, headers=headers)
        return work.result(timeout=ANSWER_WITHIN)

    # ------------------------------------------------------------------------ judging
    def judge(self, target: Target, value: Hostile, answer: Any, head: int, expected: str) -> None:
        where = f"{target.method} {target.path} {target.where} {target.name}={value.label!r}"
        if answer.status_code >= 500:
            self.problems.append(f"{where}: {answer.status_code} {answer.text[:200]}")
            return
        error = self._error(where, answer)
        refuse = must_refuse(value, target.schema, self.components)
        if refuse and (answer.status_code != 422 or error.get("code") != "validation_error"):
            self.problems.append(f"{where}: must be a validation_error, got "
                                 f"{answer.status_code} {answer.text[:200]}")  # fmt: skip
        if error.get("code") == "validation_error" and list(error.get("fields", {})) != [expected]:
            self.problems.append(f"{where}: fields must name {expected!r}: {answer.text[:300]}")
        if (answer.status_code >= 400 or target.method == "GET") and self.api.head() != head:
            self.problems.append(f"{where}: answered {answer.status_code} but recorded events")

    def _error(self, where: str, answer: Any) -> dict[str, Any]:
        """The error object of a refusal (checked against docs/errors.md), or {}."""
        if answer.status_code < 400:
            return {}
        try:
            error = answer.json()["error"]
            code, message = error["code"], error["message"]
        except (ValueError, KeyError, TypeError):
            self.problems.append(f"{where}: not the error JSON: {answer.text[:200]}")
            return {}
        if self.codes.get(code) != answer.status_code or not isinstance(message, str):
            self.problems.append(f"{where}: {answer.status_code} with code {code!r}")
        return dict(error)

    # ------------------------------------------------------------------------ sweeping
    def parameter(self, target: Target, operation: dict[str, Any], component: str | None) -> None:
        for value in VALUES:
            if target.where == "path" and (not value.text.strip() or "/" in value.text):
                continue  # another route, not this one's parameter
            query = self.base_query(operation, target.path)
            ref = self.lead_ref
            if target.where == "path":
                ref = value.text
            else:
                query[target.name] = value.text
            payload = json.dumps(self.base_body(component)).encode() if component else None
            head = self.api.head()
            answer = self.attempt(target, value, ref, query, payload)
            if answer is not None:
                self.judge(target, value, answer, head, target.name)

    def body_field(self, target: Target) -> None:
        assert target.component is not None
        for value in VALUES:
            body = {**self.base_body(target.component), target.name: value.json}
            encodings = [json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")]
            if value.kind in ("poison", "odd"):
                encodings.append(json.dumps(body).encode())  # as \u escapes
            for payload in encodings:
                head = self.api.head()
                answer = self.attempt(target, value, self.lead_ref, {}, payload)
                expected = "body" if "\ud800" in value.text else target.name  # not UTF-8
                if answer is not None:
                    self.judge(target, value, answer, head, expected)

    def attempt(self, target: Target, value: Hostile, ref: str, query: dict[str, str],
                payload: bytes | None) -> Any:  # fmt: skip
        """The answer, or None when there was none (a hang, or what the app raised)."""
        where = f"{target.method} {target.path} {target.where} {target.name}={value.label!r}"
        try:
            return self.send(target.method, target.path, ref, query, payload)
        except NoAnswer:
            self.problems.append(f"{where}: no answer within {ANSWER_WITHIN:g} s")
        except Exception as error:  # the test client re-raises what the app raised
            self.problems.append(f"{where}: raised {type(error).__name__}: {error}")
        return None


def targets(document: dict[str, Any]) -> Iterator[tuple[Target, dict[str, Any]]]:
    """Every parameter and body field of every operation, writes first (the reads then see
    what they recorded); body fields shared by several activities once per distinct schema."""
    components = document["components"]["schemas"]
    operations = [
        (path, method.upper(), operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    operations.sort(key=lambda o: o[1] != "POST")
    for path, method, operation in operations:
        for parameter in operation.get("parameters", []):
            if parameter["in"] in ("path", "query"):
                yield Target(method, path, parameter["in"], parameter["name"],
                             parameter["schema"]), operation  # fmt: skip
        if method != "POST":
            continue
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        seen: set[str] = set()
        for component in _alternatives(body, components):
            for name, schema in components[component]["properties"].items():
                key = json.dumps([name, schema], sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    yield Target(method, path, "body", name, schema, component), operation


def _alternatives(body: dict[str, Any], components: dict[str, Any]) -> list[str]:
    name = body["$ref"].rsplit("/", 1)[-1]
    one_of = components[name].get("oneOf")
    return [ref["$ref"].rsplit("/", 1)[-1] for ref in one_of] if one_of else [name]


def test_every_route_and_field_refuses_hostile_values_as_the_contract_says(
    api_on: ApiFactory, database_url: str, tmp_path: Path
):
    api = api_on(database_url)
    admin = api.bearer("admin", name="ops")
    lead = new_lead(api.client, admin, external_id="sweep-1")
    drive(api.client, admin, lead["id"], "assigned")
    document = api.client.get("/openapi.json").json()
    moment = (api.services.clock() - timedelta(hours=1)).isoformat()
    with ThreadPoolExecutor(1) as pool:
        sweep = Sweep(api, admin, lead["id"], moment, document["components"]["schemas"],
                      contract_codes(), pool)  # fmt: skip
        swept: set[str] = set()
        for target, operation in targets(document):
            if f"{target.method} {target.path}" not in swept:
                api.catch_up()  # the reads (reports) see what the writes recorded
            component = _body_component(operation, sweep.components)
            _check_base(sweep, target, operation, component, swept)
            if target.where == "body":
                sweep.body_field(target)
            else:
                sweep.parameter(target, operation, component)
    every = {f"{m.upper()} {p}" for p, methods in document["paths"].items() for m in methods}
    assert every - swept == {"GET /healthz", "GET /readyz"}  # they take nothing
    assert sweep.requests > 3000
    problems = sweep.problems
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


def _body_component(operation: dict[str, Any], components: dict[str, Any]) -> str | None:
    """The (first) schema of the operation's body, if it takes one."""
    if "requestBody" not in operation:
        return None
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    return _alternatives(body, components)[0]


def _check_base(sweep: Sweep, target: Target, operation: dict[str, Any], component: str | None,
                swept: set[str]) -> None:  # fmt: skip
    """The request every variation starts from is itself accepted (once per operation)."""
    key = f"{target.method} {target.path}"
    if key in swept:
        return
    swept.add(key)
    body = json.dumps(sweep.base_body(component)).encode() if component else None
    answer = sweep.send(target.method, target.path, sweep.lead_ref,
                        sweep.base_query(operation, target.path), body)  # fmt: skip
    assert answer.status_code in (200, 201, 409), (key, answer.text)


@pytest.mark.parametrize("value", VALUES, ids=[v.label for v in VALUES])
def test_the_refusal_rules_are_those_of_the_values_kind(value: Hostile):
    """The sweep's oracle, on the shapes the document uses."""
    text = {"type": "string", "maxLength": 200}
    time = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
    limit = {"type": "integer", "minimum": 1, "maximum": 500}
    assert must_refuse(value, text, {}) is (value.kind == "poison")
    assert must_refuse(value, time, {}) is (value.kind != "odd")
    # "１２３" is 123 to Decimal, as to pydantic's Decimal fields: not required to be refused
    assert must_refuse(value, limit, {}) is (value.kind != "odd" and value.text != "１２３")
