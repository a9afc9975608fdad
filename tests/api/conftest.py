"""The API under FastAPI's test client, on services built like `lifecycle serve` builds them.

`client` talks to an app on a fresh SQLite file (the `clock` fixture is its clock);
`api_on(url)` builds one on another database (PostgreSQL). `bearer("leads:read")` makes a
token with those scopes and returns the request headers that carry it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from helpers import ManualClock

from lifecycle.api.app import create_app
from lifecycle.bootstrap import Services, Settings, build

with warnings.catch_warnings():
    # Starlette 1.x wants `httpx2` for its test client and warns about `httpx`, which the
    # project depends on; the client works the same with either.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

Headers = dict[str, str]


@dataclass
class Api:
    services: Services
    app: FastAPI
    client: TestClient

    def bearer(self, *scopes: str, name: str | None = None) -> Headers:
        """Headers with a new token holding `scopes` (named after them unless `name`)."""
        token_name = name or "-".join(s.replace(":", "_") for s in scopes) or "no-scope"
        token = self.app.state.tokens.create(token_name, list(scopes), self.services.clock())
        return {"Authorization": f"Bearer {token}"}

    def catch_up(self) -> None:
        self.services.runner.catch_up()

    def head(self) -> int:
        """The last position in the global log: unchanged means nothing was recorded."""
        return self.services.ledger.recorder.max_notification_id() or 0


ApiFactory = Callable[[str], Api]


@pytest.fixture
def api_on(clock: ManualClock) -> Iterator[ApiFactory]:
    opened: list[Api] = []

    def open_api(url: str) -> Api:
        services = build(Settings(url), clock=clock.now)
        app = create_app(services)
        api = Api(services, app, TestClient(app))
        opened.append(api)
        return api

    yield open_api
    for api in opened:
        api.client.close()
        api.services.close()


@pytest.fixture
def api(api_on: ApiFactory, sqlite_url: str) -> Api:
    return api_on(sqlite_url)


@pytest.fixture
def client(api: Api) -> TestClient:
    return api.client


@pytest.fixture
def writer(api: Api) -> Headers:
    return api.bearer("events:write", name="web-forms")


@pytest.fixture
def admin(api: Api) -> Headers:
    return api.bearer("admin", name="ops")
