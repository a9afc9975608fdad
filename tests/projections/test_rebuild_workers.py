"""Rebuilds shared among processes by lead: `lifecycle projections rebuild --workers N`, and the
runner's split, partition catch-up and join underneath it. Both engines."""

from __future__ import annotations

import json
import sys

import pytest
from helpers import every_row
from sqlalchemy import select

from lifecycle.bootstrap import Settings, build, main
from lifecycle.domain.values import Policy
from lifecycle.projections.partitions import MAX_PARTITIONS, Partition
from lifecycle.projections.positions import positions


def stories(story, leads=6):
    for number in range(leads):
        lead = story.lead(2, source=f"s{number}").then("assigned", 2, 10, owner="ana")
        lead.then("touched", 2, 11, kind="webinar", content="e").then("attempted", 2, 12)
    story.lead(3).then("assigned", 3, 9, owner="bob").fire(Policy.FIRST_ATTEMPT)


@pytest.fixture
def services(database_url, story):
    stories(story)
    built = build(Settings(database_url))
    yield built
    built.close()


def position_rows(runner):
    with runner.engine.connect() as conn:
        return dict(conn.execute(select(positions.c.name, positions.c.position)).all())


def rebuilt_in_one_process(runner):
    runner.rebuild()
    return every_row(runner)


# ------------------------------------------------------------------------------- the command
@pytest.mark.parametrize("workers", ["2", "3"])
def test_worker_processes_rebuild_the_rows_one_process_builds(
    services, database_url, capsys, workers
):
    runner = services.runner
    expected = rebuilt_in_one_process(runner)
    code = main(["projections", "rebuild", "--workers", workers, "--json",
                 "--database-url", database_url])  # fmt: skip
    assert code == 0
    body = json.loads(capsys.readouterr().out)
    assert sorted(body["rebuilt"]) == sorted(runner.projections)
    assert every_row(runner) == expected
    assert position_rows(runner) == {name: runner.head() for name in runner.projections}


def test_a_failed_worker_fails_the_rebuild_and_the_next_catch_up_finishes_it(
    services, database_url, capsys, monkeypatch
):
    expected = rebuilt_in_one_process(services.runner)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # every worker exits 1, silently
    code = main(["projections", "rebuild", "touches", "deadlines", "--workers", "2",
                 "--database-url", database_url])  # fmt: skip
    assert code == 1
    error = json.loads(capsys.readouterr().err.strip().splitlines()[-1])["error"]
    assert "rebuilding partition 0/2 failed" in error["message"]
    assert "rebuilding partition 1/2 failed" in error["message"]
    assert services.runner.position("touches") == -2  # still split

    services.runner.catch_up()

    assert every_row(services.runner) == expected
    assert position_rows(services.runner) == {
        name: services.runner.head() for name in services.runner.projections
    }


def test_a_bad_partition_is_a_usage_error(services, database_url, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["projections", "rebuild", "--partition", "2/2", "--database-url", database_url])
    assert stopped.value.code == 2


# -------------------------------------------------------------------------------- the runner
@pytest.mark.parametrize("count", range(1, MAX_PARTITIONS + 1))
def test_partitions_share_out_every_last_hex_digit_exactly_once(count):
    digits = [d for index in range(count) for d in Partition(index, count).digits]
    assert sorted(digits) == sorted("0123456789abcdef")


@pytest.mark.parametrize("text", ["0/0", "2/2", "-1/2", "0/17"])
def test_a_partition_out_of_range_is_refused(text):
    with pytest.raises(ValueError, match="no partition"):
        Partition.parse(text)


def test_partitions_replayed_in_any_order_with_events_between_join_to_a_plain_rebuild(
    story, runner
):
    stories(story)
    runner.split(None, 3)
    runner.catch_up_partition(None, Partition(2, 3))
    story.lead(4).then("assigned", 4, 10, owner="cy").then("attempted", 4, 11)
    runner.catch_up_partition(None, Partition(0, 3))
    assert runner.reached(list(runner.projections)) == 0  # partition 1 has not started

    runner.join()

    assert position_rows(runner) == {name: runner.head() for name in runner.projections}
    joined = every_row(runner)
    assert joined == rebuilt_in_one_process(runner)


def test_ordinary_batches_leave_a_split_projection_alone(story, runner):
    stories(story)
    runner.split("touches", 2)
    assert runner.run_batch(runner.projections["touches"]) == 0
    assert runner.run_batch(runner.projections["lead_facts"]) > 0
    assert every_row(runner)["touches"] == []
    assert runner.position("touches") == -2


def test_a_partition_catch_up_of_a_projection_not_split_does_nothing(story, runner):
    stories(story)
    runner.catch_up()
    before = (every_row(runner), position_rows(runner))
    assert runner.catch_up_partition(None, Partition(0, 2)) == 0
    assert (every_row(runner), position_rows(runner)) == before


def test_a_split_stopped_after_one_partition_is_finished_by_the_next_catch_up(story, runner):
    stories(story)
    expected = rebuilt_in_one_process(runner)
    runner.split(None, 2)
    runner.catch_up_partition(None, Partition(1, 2))  # then the process died

    applied = runner.catch_up()

    assert applied > 0
    assert every_row(runner) == expected
    assert position_rows(runner) == {name: runner.head() for name in runner.projections}


def test_a_reset_of_a_split_projection_forgets_its_partitions(story, runner):
    stories(story)
    runner.split("touches", 4)
    runner.reset("touches")
    assert position_rows(runner)["touches"] == 0
    assert not [name for name in position_rows(runner) if name.startswith("touches#")]
