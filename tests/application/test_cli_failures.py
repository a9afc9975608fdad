"""However a command fails, it says so as the error JSON on stderr, never as a traceback.

Exit codes: 1 for a rejected command, a database that does not answer, or a bug
(`internal_error`); 2 for bad usage or settings that cannot be used.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifecycle import logs
from lifecycle.app.ledger import LeadLedger
from lifecycle.bootstrap import main
from lifecycle.cli import build_parser

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"
EXAMPLE_RULES = Path(__file__).resolve().parents[2] / "config" / "example.toml"


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """Every command line's command words ("lead show", "tick"…), from the parser itself."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield " ".join(prefix)
        return
    for name, sub in groups[0].choices.items():
        yield from _commands(sub, (*prefix, name))


LEADS = "LEADS.jsonl"  # replaced by a real file of one line (`_argv`)
ARGV = {
    "import": ["import", LEADS],
    "lead show": ["lead", "show", "crm-1"],
    "lead timeline": ["lead", "timeline", "crm-1"],
    "report": ["report", "funnel"],
    "plan": ["plan", "--revenue-goal", "1000", "--deal-size", "100", "--conversion-rate", "1"],
    "projections rebuild": ["projections", "rebuild", "--workers", "1"],
    "projections status": ["projections", "status"],
    "tick": ["tick"],
    "scheduler run": ["scheduler", "run", "--interval", "1"],
    "token create": ["token", "create", "--name", "ops", "--scope", "admin"],
    "token list": ["token", "list"],
    "token revoke": ["token", "revoke", "ops"],
    "serve": ["serve", "--port", "0"],  # never reached: the database does not answer
    "demo": ["demo", "--days", "1"],
    "config schema": ["config", "schema"],
    "config check": ["config", "check", str(EXAMPLE_RULES)],
}


def _argv(command: str, tmp_path: Path) -> list[str]:
    leads = tmp_path / LEADS
    leads.write_text('{"type": "created", "email": "ann@example.com"}\n')
    return [str(leads) if word == LEADS else word for word in ARGV[command]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Runs `lifecycle ARGV` here: (exit code, stdout, stderr); no traceback may be printed."""
    monkeypatch.setattr(logs, "_configured", False)  # log to this test's captured stderr

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return code, out, err

    return run


def _error(err: str) -> dict[str, Any]:
    """The error JSON: the last line of stderr."""
    body: dict[str, Any] = json.loads(err.strip().splitlines()[-1])["error"]
    assert {"code", "message"} <= body.keys()
    return body


def test_the_sweep_names_every_command():
    assert set(ARGV) == set(_commands(build_parser()))


@pytest.mark.parametrize("command", sorted(ARGV))
def test_every_command_says_unavailable_when_the_database_does_not_answer(
    run, tmp_path: Path, command: str
):
    code, _, err = run("--database-url", UNREACHABLE, *_argv(command, tmp_path))
    if command.startswith("config"):  # the rulebook needs no database
        assert code == 0
        return
    assert (code, _error(err)["code"]) == (1, "unavailable")


@pytest.mark.parametrize("command", sorted(ARGV))
def test_every_command_has_help(run, command: str):
    code, out, _ = run(*command.split(), "--help")
    assert code == 0 and "usage: lifecycle" in out


def test_a_bad_rulebook_is_a_validation_error_naming_the_key(run, tmp_path: Path):
    rules = tmp_path / "rules.toml"
    rules.write_text('version = "x"\n[sla.first_attempt]\nbusiness_hours = "4"\n')
    code, _, err = run("--config", str(rules), "--database-url", f"sqlite:///{tmp_path}/l.db",
                       "lead", "show", "crm-1")  # fmt: skip
    assert code == 2
    assert _error(err)["message"].startswith("sla.first_attempt.business_hours")


def test_a_bug_is_internal_error_with_one_structured_log_line(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def broken(*_args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(LeadLedger, "find", broken)
    monkeypatch.setattr(logs.sys.stderr, "isatty", lambda: False, raising=False)
    code, _, err = run("--database-url", f"sqlite:///{tmp_path}/l.db", "lead", "show", "crm-1")
    assert (code, _error(err)["code"]) == (1, "internal_error")
    logged = [json.loads(line) for line in err.strip().splitlines()[:-1]]
    assert [line["event"] for line in logged] == ["command_failed"]
    assert logged[0]["error"] == "RuntimeError" and logged[0]["exception"]


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["report", "funnel", "--from", "yesterday"], "--from"),
        (["tick", "--now", "2026-01-01T00:00:00"], "--now"),
        (["tick", "--limit", "-3"], "--limit"),
        (["projections", "rebuild", "--workers", "0"], "--workers"),
        (["report", "funnel", "--group-by", "colour"], "--group-by"),
        (["lead", "show"], "REF"),
    ],
)
def test_bad_usage_is_a_validation_error_with_exit_2(run, tmp_path: Path, argv, option):
    code, _, err = run("--database-url", f"sqlite:///{tmp_path}/l.db", *argv)
    assert (code, _error(err)["code"]) == (2, "validation_error")
    assert option in _error(err)["message"]
