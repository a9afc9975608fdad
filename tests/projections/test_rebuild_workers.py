"""`lifecycle projections rebuild --workers N`: the projections shared out among processes."""

from __future__ import annotations

import json
import sys

import pytest
from helpers import every_row

from lifecycle.bootstrap import Settings, build
from lifecycle.cli import main
from lifecycle.cli.rebuild import share_out
from lifecycle.domain.values import Policy


@pytest.fixture
def services(database_url, story):
    for number in range(4):
        lead = story.lead(2, source=f"s{number}").then("assigned", 2, 10, owner="ana")
        lead.then("touched", 2, 11, kind="webinar", content="e").then("attempted", 2, 12)
    story.lead(3).then("assigned", 3, 9, owner="bob").fire(Policy.FIRST_ATTEMPT)
    built = build(Settings(database_url))
    yield built
    built.close()


def test_worker_processes_rebuild_the_rows_one_process_builds(services, database_url, capsys):
    runner = services.runner
    runner.catch_up()
    expected = every_row(runner)
    code = main(["projections", "rebuild", "--workers", "2", "--json",
                 "--database-url", database_url])  # fmt: skip
    assert code == 0
    body = json.loads(capsys.readouterr().out)
    assert sorted(body["rebuilt"]) == sorted(runner.projections)
    assert every_row(runner) == expected
    assert {runner.position(name) for name in runner.projections} == {runner.head()}


def test_a_failed_worker_fails_the_rebuild_and_names_its_projections(
    services, database_url, capsys, monkeypatch
):
    monkeypatch.setattr(sys, "executable", "/bin/false")  # every worker exits 1, silently
    code = main(["projections", "rebuild", "touches", "deadlines", "--workers", "2",
                 "--database-url", database_url])  # fmt: skip
    assert code == 1
    error = json.loads(capsys.readouterr().err.strip().splitlines()[-1])["error"]
    assert "rebuilding touches failed" in error["message"]
    assert "rebuilding deadlines failed" in error["message"]
    services.runner.catch_up()  # positions are consistent: a catch-up finishes the job
    assert services.runner.position("touches") == services.runner.head()


@pytest.mark.parametrize(
    ("names", "workers", "groups"),
    [
        (["lead_facts", "touches", "sla_clocks", "deadlines"], 2,
         [["lead_facts", "touches"], ["sla_clocks", "deadlines"]]),
        (["lead_facts", "touches"], 8, [["lead_facts"], ["touches"]]),
        (["lead_facts", "touches", "sla_clocks"], 1, [["lead_facts", "sla_clocks", "touches"]]),
        (["custom", "other"], 2, [["custom"], ["other"]]),
    ],
)  # fmt: skip
def test_projections_are_shared_out_by_their_weight(names, workers, groups):
    assert share_out(names, workers) == groups
