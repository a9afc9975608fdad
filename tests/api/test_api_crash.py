"""A request that fails unforeseen: a 500 with the error JSON, `Connection: close`, one
structured log record with the traceback, and the client's next request works.

Served by a real uvicorn (in a thread, on a free port) and a keep-alive client: only a real
server shows what happens to the connection after a 500.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from api_support import free_port
from conftest import Api, Headers
from helpers import json_logs


@pytest.fixture
def served(api: Api) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(api.app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _broken(*_args: Any) -> None:
    raise RuntimeError("a bug nobody foresaw")


def test_after_a_500_the_connection_is_closed_cleanly_and_the_next_request_works(
    api: Api, admin: Headers, served: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(api.services.ledger, "find", _broken)
    with httpx.Client(base_url=served, headers=admin, timeout=10) as client:
        assert client.get("/healthz").status_code == 200
        failed = client.get("/v1/leads/anyone@example.com")
        after = [client.get("/healthz").status_code for _ in range(3)]

    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "internal_error"
    assert failed.headers["Connection"] == "close"
    assert failed.headers["X-Request-ID"]
    assert after == [200, 200, 200]


def test_a_500_is_logged_as_one_record_with_its_traceback(
    api: Api, admin: Headers, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(api.services.ledger, "find", _broken)

    with json_logs() as out:
        response = api.client.get("/v1/leads/anyone@example.com", headers=admin)

    records = [json.loads(line) for line in out.getvalue().splitlines()]
    failures = [record for record in records if record["event"] == "request_failed"]
    assert response.status_code == 500
    assert len(failures) == 1
    assert failures[0]["error"] == "RuntimeError"
    assert failures[0]["request_id"] == response.headers["X-Request-ID"]
    assert "a bug nobody foresaw" in failures[0]["exc_info"]  # rendered by `logs.configure`
    assert [r["status"] for r in records if r["event"] == "request"] == [500]
