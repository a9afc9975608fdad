"""Where the data is by default: `lifecycle.db` in the working directory, as documented.

A store written by an earlier release must be found by the next one: moving the default
file would look, to a user, like losing every lead.
"""

from __future__ import annotations

import pytest

from lifecycle.bootstrap import Settings


def test_the_default_store_is_lifecycle_db_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("LIFECYCLE_DATABASE_URL", raising=False)

    assert Settings.from_env().database_url == "sqlite:///lifecycle.db"


def test_the_environment_and_then_an_explicit_url_win(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", "sqlite:///from-env.db")

    assert Settings.from_env().database_url == "sqlite:///from-env.db"
    assert Settings.from_env("sqlite:///given.db").database_url == "sqlite:///given.db"
