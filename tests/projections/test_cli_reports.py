"""`lifecycle report`, `lifecycle plan` and `lifecycle projections rebuild` on the command line."""

from __future__ import annotations

import csv
import io
import json

import pytest

from lifecycle.bootstrap import Services, Settings, run_command
from lifecycle.cli import reports
from lifecycle.cli.common import CommandParser, common_options

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def run(database_url, ledger, runner, clock, capsys):
    """Runs a command line with this module's commands; returns (exit code, stdout, stderr)."""
    services = Services(Settings(database_url), ledger.rules, ledger, runner.engine, runner,
                        clock.now)  # fmt: skip
    common = common_options()
    parser = CommandParser(prog="lifecycle", parents=[common])
    reports.register(parser.add_subparsers(dest="command", parser_class=CommandParser), common)

    def run(*argv):
        try:
            args = parser.parse_args(argv)
            code = run_command(args, services.settings, services)
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def history(story):
    story.lead(2, source="web").then("assigned", 2, 10, owner="ana").then("attempted", 2, 11)
    story.lead(3, source="ads").then("assigned", 3, 10, owner="bob")


def test_a_report_prints_the_api_json(history, run):
    code, out, _ = run("report", "funnel", "--group-by", "source", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["group_by"] == "source"
    assert [(row["group"], row["leads"]) for row in body["rows"]] == [("ads", 1), ("web", 1)]


def test_a_report_prints_its_main_section_as_csv(history, run):
    code, out, _ = run("report", "status", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {row["status"]: row["count"] for row in rows}["attempt_1"] == "1"


def test_csv_can_print_another_section(history, run):
    code, out, _ = run("report", "status", "--csv", "--section", "groups")
    assert code == 0
    assert [row["group"] for row in csv.DictReader(io.StringIO(out))] == ["ana", "bob"]


def test_a_report_prints_readable_tables(history, run):
    code, out, _ = run("report", "sla", "--from", "2026-02-01T00:00Z", "--to", "2026-03-01T00:00Z")
    assert code == 0
    assert "policies" in out
    assert "first_attempt" in out


@pytest.mark.parametrize(
    "argv",
    [("report", "attribution", "--group-by", "source"),
     ("report", "funnel", "--group-by", "colour"),
     ("report", "reasons", "--model", "linear"),
     ("report", "attribution", "--model", "v_shaped"),
     ("report", "funnel", "--from", "2026-02-01"),
     ("report", "funnel", "--from", "2026-03-01T00:00Z", "--to", "2026-02-01T00:00Z"),
     ("report", "status", "--csv", "--section", "nope"),
     ("plan", "--revenue-goal", "1000", "--deal-size", "10", "--conversion-rate", "50"),
     ("plan", "--revenue-goal", "1000", "--deal-size", "10"),
     # a plan no float holds: once an OverflowError, exit 1 (issue 14)
     ("plan", "--revenue-goal", "1000", "--deal-size", "10", "--conversion-rate", "0.5",
      "--mqls-per-rep-week", "5e-324"),
     ("projections", "rebuild", "nope")],
)  # fmt: skip
def test_bad_options_exit_2_with_the_error_json(history, run, argv):
    code, out, err = run(*argv)
    assert code == 2
    assert json.loads(err.strip().splitlines()[-1])["error"]["code"] == "validation_error"
    assert out == ""


def test_plan_prints_the_reverse_funnel(run):
    code, out, _ = run("plan", "--revenue-goal", "100000", "--deal-size", "1000",
                       "--conversion-rate", "50%", "--json")  # fmt: skip
    assert code == 0
    assert json.loads(out) | {"mqls_per_week": 0, "reps_needed": 0} == {
        "customers": 100, "opportunities": 200, "sqls": 400, "mqls": 800, "leads": 1600,
        "visitors": 3200, "mqls_per_week": 0, "reps_needed": 0, "reps_to_hire": 3,
        "warnings": [],
    }  # fmt: skip


def test_rebuild_replays_the_read_models_and_says_so(history, run, runner):
    run("report", "funnel", "--json")
    code, out, _ = run("projections", "rebuild", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["rebuilt"] == ["lead_facts", "touches", "sla_clocks"]
    assert body["position"] == runner.head() == runner.position("touches")
    code, out, _ = run("projections", "rebuild", "touches")
    assert (code, out.startswith("Rebuilt touches up to position")) == (0, True)


@pytest.fixture
def reasons(story):
    ana = story.lead(2, source="web").then("assigned", 2, 10, owner="ana")
    ana.then("disqualified", 3, reason="no budget")
    bob = story.lead(3, source="ads").then("assigned", 3, 10, owner="bob")
    bob.then("nurtured", 4, reason="not now")
    story.lead(4, source="ads").then("assigned", 4, 10, owner="bob").then(
        "nurtured", 5, reason=None
    )


def test_the_reasons_report_prints_the_api_json_grouped(reasons, run):
    code, out, _ = run("report", "reasons", "--group-by", "owner", "--json",
                       "--from", "2026-02-04T00:00Z")  # fmt: skip
    assert code == 0
    body = json.loads(out)
    assert (body["group_by"], body["from"], body["to"]) == ("owner", "2026-02-04T00:00:00Z", None)
    assert body["rows"] == [  # ana's disqualification (3 February) is before the period
        {"group": "bob", "type": "nurtured", "reason": "not now", "count": 1, "leads": 1,
         "share": 0.5},
        {"group": "bob", "type": "nurtured", "reason": None, "count": 1, "leads": 1,
         "share": 0.5},
    ]  # fmt: skip
    assert body["totals"][3] == {"type": "nurtured", "count": 2, "leads": 2}


def test_the_reasons_report_prints_tables_and_csv(reasons, run):
    code, out, _ = run("report", "reasons")
    assert code == 0
    assert "rows" in out and "totals" in out
    assert "no budget" in out and "not now" in out
    code, out, _ = run("report", "reasons", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["type"], r["reason"], r["count"]) for r in rows] == [
        ("disqualified", "no budget", "1"), ("nurtured", "not now", "1"), ("nurtured", "", "1"),
    ]  # fmt: skip
