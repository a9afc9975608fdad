"""One structured log line per request: method, route, status, duration, request id, token."""

from __future__ import annotations

import json
from typing import Any

from conftest import Api, Headers
from helpers import created, json_logs


def logged(api: Api, *requests: tuple[str, str, dict[str, Any]]) -> tuple[list[Any], str]:
    with json_logs() as out:
        for method, url, options in requests:
            api.client.request(method, url, **options)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [line for line in lines if line["event"] == "request"], out.getvalue()


def test_each_request_is_logged_with_its_route_status_duration_id_and_token(
    api: Api, writer: Headers
):
    body = created(email="private.person@example.com", first_name="Private")
    requests, _ = logged(
        api,
        ("POST", "/v1/leads", {"json": body, "headers": writer | {"X-Request-ID": "req-42"}}),
        ("GET", "/v1/leads/private.person@example.com", {"headers": writer}),
    )

    created_line, read_line = requests
    assert {k: created_line[k] for k in ("method", "route", "status", "request_id", "token")} == {
        "method": "POST",
        "route": "/v1/leads",
        "status": 201,
        "request_id": "req-42",
        "token": "web-forms",
    }
    assert created_line["ms"] > 0
    assert (read_line["route"], read_line["status"]) == ("/v1/leads/{ref}", 403)
    assert len(read_line["request_id"]) == 32  # one is made when the caller sends none


def test_request_logs_carry_no_personal_data(api: Api, admin: Headers):
    body = created(email="private.person@example.com", first_name="Private", phone="+14155550000")
    _, text = logged(
        api,
        ("POST", "/v1/leads", {"json": body, "headers": admin}),
        ("GET", "/v1/leads/private.person@example.com", {"headers": admin}),
        ("GET", "/v1/leads/private.person@example.com/timeline", {"headers": admin}),
    )

    for personal in ("private", "person", "+14155550000", "example.com"):
        assert personal not in text.lower()


def test_the_answer_carries_the_request_id(api: Api):
    response = api.client.get("/healthz", headers={"X-Request-ID": "trace-7"})

    assert response.headers["X-Request-ID"] == "trace-7"
