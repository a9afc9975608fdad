"""Poison text and out-of-range times on the command line: the error JSON, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle.bootstrap import main

BAD_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2200-01-01T00:00:00Z"]
BAD_TEXT = {"NUL": "crm\x00", "zero-width space": "crm\u200b1", "surrogate from argv": "\udcff"}


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Runs `lifecycle ARGV` on a fresh SQLite file: (exit code, stdout, the stderr JSON)."""
    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", f"sqlite:///{tmp_path}/lifecycle.db")

    def run(*argv: str) -> tuple[int, str, dict[str, object] | None]:
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, json.loads(err.splitlines()[-1]) if err.strip() else None

    return run


def _refused(answer: tuple[int, str, dict[str, object] | None], exit_code: int = 2) -> str:
    code, _, error = answer
    assert code == exit_code and error is not None
    assert error["error"]["code"] == "validation_error"  # type: ignore[index]
    return str(error["error"]["message"])  # type: ignore[index]


@pytest.mark.parametrize("moment", BAD_TIMES)
@pytest.mark.parametrize(
    "argv",
    [
        ("lead", "show", "crm-1", "--as-of"),
        ("tick", "--now"),
        ("report", "funnel", "--from"),
        ("report", "sla", "--to"),
        ("report", "activity", "--now"),
        (
            "plan",
            "--revenue-goal",
            "1000",
            "--deal-size",
            "100",
            "--conversion-rate",
            "0.5",
            "--from",
        ),
    ],
    ids=lambda argv: " ".join(argv[:2]) if isinstance(argv, tuple) else argv,
)
def test_every_time_option_refuses_times_outside_1900_to_2200(run, argv, moment):
    assert "1900-01-01" in _refused(run(*argv, moment))


@pytest.mark.parametrize("text", BAD_TEXT.values(), ids=BAD_TEXT.keys())
@pytest.mark.parametrize(
    "argv",
    [
        ("lead", "show"),
        ("lead", "timeline"),
        ("token", "revoke"),
        ("token", "create", "--scope", "admin", "--name"),
        ("import", "-", "--actor"),
    ],
    ids=" ".join,
)
def test_every_text_argument_refuses_poison_characters(run, argv, text):
    assert "must not contain" in _refused(run(*argv, text))


def test_an_import_line_with_poison_text_or_time_is_rejected_and_the_rest_kept(run, tmp_path):
    lines = [
        {"type": "created", "email": "ann@example.com", "source": "web"},
        {"type": "created", "email": "bo@example.com", "source": "we\u0000b"},
        {"type": "created", "email": "cy@example.com", "occurred_at": "0001-01-01T00:00:00+14:00"},
        {"type": "assigned", "external_id": "crm\u200b1"},
        {"type": "created", "email": "dee\u200b@example.com"},
    ]
    path = tmp_path / "leads.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, out, _ = run("import", str(path), "--json")
    summary = json.loads(out)
    assert code == 1
    assert summary["accepted"] == 1
    assert [(e["line"], e["code"]) for e in summary["errors"]] == [
        (2, "validation_error"),
        (3, "validation_error"),
        (4, "validation_error"),
        (5, "validation_error"),
    ]
