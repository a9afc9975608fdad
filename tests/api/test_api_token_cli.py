"""`lifecycle token create|list|revoke`: the secret is printed once and only its hash kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from api_support import run_cli

from lifecycle.api.tokens import TokenStore
from lifecycle.storage.db import read_model_engine


@pytest.fixture
def token(sqlite_url: str, tmp_path: Path) -> Any:
    """`token(*argv, exit_code=0)`: runs `lifecycle token ARGV…` on the test database."""

    def run(*argv: str, exit_code: int = 0) -> Any:
        return run_cli("token", *argv, "--database-url", sqlite_url, cwd=tmp_path,
                       exit_code=exit_code)  # fmt: skip

    return run


def listed(token: Any) -> list[dict[str, Any]]:
    tokens: list[dict[str, Any]] = orjson.loads(token("list", "--json").stdout)["tokens"]
    return tokens


def test_a_created_token_is_printed_once_and_admits_its_holder(token: Any, sqlite_url: str):
    done = token("create", "--name", "crm", "--scope", "leads:read", "--scope", "events:write")

    secret = done.stdout.strip()
    assert "not shown again" in done.stderr
    engine = read_model_engine(sqlite_url)
    try:
        caller = TokenStore(engine).caller(secret)
    finally:
        engine.dispose()
    assert caller is not None
    assert (caller.name, caller.scopes) == ("crm", frozenset({"leads:read", "events:write"}))
    tokens = listed(token)
    assert [(t["name"], t["scopes"], t["revoked_at"]) for t in tokens] == [
        ("crm", ["events:write", "leads:read"], None)
    ]
    assert secret not in orjson.dumps(tokens).decode()


def test_a_revoked_token_is_listed_as_revoked_and_its_name_is_never_reused(token: Any):
    token("create", "--name", "svc", "--scope", "admin")

    token("revoke", "svc")
    again = token("create", "--name", "svc", "--scope", "admin", exit_code=1)

    assert listed(token)[0]["revoked_at"] is not None
    assert orjson.loads(again.stderr)["error"]["code"] == "conflict"


def test_revoking_an_unknown_token_is_not_found(token: Any):
    done = token("revoke", "nobody", exit_code=1)

    assert orjson.loads(done.stderr)["error"]["code"] == "not_found"


def test_an_unknown_scope_is_bad_usage(token: Any):
    done = token("create", "--name", "x", "--scope", "root", exit_code=2)

    assert orjson.loads(done.stderr)["error"]["code"] == "validation_error"
