"""`lifecycle --version` names the installed release, the one pyproject.toml declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lifecycle.bootstrap import main

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_version_prints_the_release_and_exits_0(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"lifecycle {declared}"
