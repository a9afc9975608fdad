"""A projection that cannot apply an event quarantines that event's lead and goes on.

Poisons: a stored event that no longer decodes (garbage written into its row), a NUL in a
text field (PostgreSQL text cannot hold it), and a projection that fails on one lead. The
other leads and the other projections go on; the lead is quarantined once, its rows stay as
they were before the failing event; reports say so; a rebuild after the repair counts it.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from helpers import every_row
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from structlog.testing import capture_logs

from lifecycle import logs
from lifecycle.app.activities import Created
from lifecycle.bootstrap import main
from lifecycle.cli.serve import CatchUpLoop
from lifecycle.projections.catalog import read_models
from lifecycle.projections.partitions import Partition
from lifecycle.projections.reports import build_report
from lifecycle.projections.runner import ProjectionRunner

READ_MODELS = ("lead_facts", "touches", "sla_clocks")


def three_leads(story):
    """Three leads of five events each (created, assigned, touched, attempted, touched)."""
    leads = []
    for number in range(3):
        lead = story.lead(2, source=f"s{number}").then("assigned", 2, 10, owner="ana")
        lead.then("touched", 2, 11, kind="webinar", content="e").then("attempted", 2, 12)
        leads.append(lead.then("touched", 2, 13, kind="page_view").id)
    return leads


def stored(runner, lead_id, version):
    """(where, the stored state) of one event row."""
    table = runner.ledger_table
    key = lead_id if runner.engine.dialect.name == "postgresql" else lead_id.replace("-", "")
    where = f"originator_id = '{key}' AND originator_version = {version}"
    with runner.engine.connect() as conn:
        state = conn.execute(text(f"SELECT state FROM {table} WHERE {where}")).scalar_one()
    return where, bytes(state)


def overwrite(runner, where, state):
    with runner.engine.begin() as conn:
        conn.execute(text(f"UPDATE {runner.ledger_table} SET state = :s WHERE {where}"),
                     {"s": state})  # fmt: skip


def corrupt(runner, lead_id, version):
    """Writes garbage into an event's stored state; returns what repairs it."""
    where, state = stored(runner, lead_id, version)
    overwrite(runner, where, b"\xff not an event")
    return lambda: overwrite(runner, where, state)


@pytest.fixture
def runner(runner, ledger):
    runner.ledger_table = ledger.recorder.events_table_name
    return runner


def held(runner):
    return {(e["projection"], e["lead_id"], e["event_type"]) for e in runner.quarantine()}


def quarantine_lines(logs):
    return [line for line in logs if line["event"] == "projection_quarantined"]


def test_an_event_that_no_longer_decodes_quarantines_its_lead_in_every_read_model(
    story, runner, report
):
    _, poisoned, _ = three_leads(story)
    corrupt(runner, poisoned, 3)  # its touch
    with capture_logs() as logs:
        runner.catch_up()
        runner.catch_up()  # once only: the lead is skipped from now on
    expected = {(name, poisoned, "touched") for name in READ_MODELS}
    assert held(runner) == expected
    assert sorted(line["projection"] for line in quarantine_lines(logs)) == sorted(
        name for name, _, _ in expected
    )
    line = quarantine_lines(logs)[0]
    assert set(line) >= {"projection", "lead_id", "position", "event_type", "error"}
    funnel = report("funnel")
    assert funnel["total"]["leads"] == 3  # created and assigned before the broken touch
    assert [(w["code"], w["projection"], w["leads"]) for w in funnel["warnings"]] == [
        ("projection_quarantine", "lead_facts", 1)
    ]
    assert {w["projection"] for w in report("attribution")["warnings"]} == {
        "lead_facts", "touches"
    }  # fmt: skip
    # Later events go on for every other lead, and stay out for the poisoned one.
    story.lead(3, source="late")
    runner.catch_up()
    assert report("funnel")["total"]["leads"] == 4
    status = {p["name"]: p for p in runner.status()["projections"]}
    assert all(
        status[name]["quarantined"] == 1 and status[name]["lag"] == 0 for name in READ_MODELS
    )


def test_a_quarantined_lead_keeps_the_rows_it_had_before_the_failing_event(story, ledger, runner):
    _, poisoned, _ = three_leads(story)
    corrupt(runner, poisoned, 3)
    runner.catch_up()
    quarantined = every_row(runner)
    # The same log without the lead's events from the broken one on, replayed from scratch.
    key = poisoned if runner.engine.dialect.name == "postgresql" else poisoned.replace("-", "")
    with runner.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {runner.ledger_table} WHERE originator_id = '{key}' "
                          "AND originator_version >= 3"))  # fmt: skip
    runner.rebuild()
    assert runner.quarantine() == []
    assert every_row(runner) == quarantined


def test_a_rebuild_after_the_repair_clears_the_quarantine_and_counts_the_lead(
    story, runner, report, database_url, capsys, monkeypatch
):
    monkeypatch.setattr(logs, "_configured", True)  # main() leaves the test's logging alone
    _, poisoned, _ = three_leads(story)
    repair = corrupt(runner, poisoned, 1)  # its creation: the lead is missing
    cli = ["--database-url", database_url]
    assert main(["report", "funnel", *cli]) == 0
    err = capsys.readouterr().err
    assert "warning: 1 lead(s) could not be applied to the lead_facts read model" in err
    assert main(["report", "funnel", "--json", *cli]) == 0
    funnel = json.loads(capsys.readouterr().out)
    assert funnel["total"]["leads"] == 2 and funnel["warnings"][0]["leads"] == 1
    assert main(["projections", "rebuild", "--workers", "1", *cli]) == 0  # still works
    assert len(runner.quarantine()) == 4
    capsys.readouterr()
    assert main(["projections", "status", "--json", *cli]) == 0
    status = json.loads(capsys.readouterr().out)
    facts = next(p for p in status["projections"] if p["name"] == "lead_facts")
    assert facts["quarantined"] == 1
    (entry,) = facts["quarantine"]
    assert set(entry) == {"projection", "lead_id", "position", "event_type", "error", "message",
                          "recorded_at"}  # fmt: skip
    assert (entry["projection"], entry["lead_id"], entry["event_type"]) == (
        "lead_facts", poisoned, "created"
    )  # fmt: skip
    assert main(["projections", "status", *cli]) == 0
    assert poisoned in capsys.readouterr().out
    repair()
    assert main(["projections", "rebuild", "--workers", "1", *cli]) == 0
    assert runner.quarantine() == []
    funnel = report("funnel")
    assert funnel["total"]["leads"] == 3 and funnel["warnings"] == []


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
def test_a_nul_in_a_text_field_quarantines_the_lead_where_postgresql_refuses_it(
    story, ledger, runner, report
):
    three_leads(story)
    nul = Created.model_construct(type="created", email="nul@example.com", source="we\x00b",
                                  occurred_at=None, actor=None)  # fmt: skip
    poisoned = str(ledger.in_batch(lambda batch: batch.record(None, nul, "test")).lead.id)
    story.lead(3, source="after")
    with capture_logs() as logs:
        runner.catch_up()
        runner.catch_up()
    assert held(runner) == {("lead_facts", poisoned, "created"), ("touches", poisoned, "created")}
    assert len(quarantine_lines(logs)) == 2
    assert {e["error"] for e in runner.quarantine()} == {"DataError"}
    assert "\x00" not in json.dumps(runner.quarantine())
    assert report("funnel")["total"]["leads"] == 4  # the three and the one after
    assert report("funnel")["warnings"][0]["projection"] == "lead_facts"
    assert runner.position("sla_clocks") == runner.position("lead_facts")


def test_a_partitioned_rebuild_quarantines_the_same_leads(story, runner):
    three_leads(story)
    poisoned = three_leads(story)[1]
    corrupt(runner, poisoned, 4)
    runner.rebuild()
    whole, quarantined = every_row(runner), held(runner)
    runner.split(None, 2)
    for index in range(2):
        runner.catch_up_partition(None, Partition(index, 2))
    runner.join()
    assert held(runner) == quarantined
    assert every_row(runner) == whole


class Failing:
    """A projection that fails on the events of one lead, with `error`."""

    def __init__(self, name, lead_id, error):
        self.name, self.lead_id, self.error, self.seen = name, lead_id, error, []

    def tables(self):
        return []

    def apply(self, conn, batch):
        if any(envelope.lead_id == self.lead_id for envelope in batch):
            raise self.error
        self.seen += [envelope.lead_id for envelope in batch]


def test_a_failing_projection_quarantines_only_for_itself(story, ledger, runner):
    first, poisoned, last = three_leads(story)
    failing = Failing("failing", poisoned, KeyError("a bug"))
    both = ProjectionRunner(ledger.recorder, ledger.mapper, runner.engine,
                            [failing, *read_models(ledger.rules)], batch_size=4,
                            clock=ledger.clock)  # fmt: skip
    both.create_tables()
    both.catch_up()
    assert held(both) == {("failing", poisoned, "created")}
    assert set(failing.seen) == {first, last} and len(failing.seen) == 10
    assert both.position("failing") == both.position("lead_facts") == both.head()


def test_a_database_failure_quarantines_nothing_and_moves_no_position(story, ledger, runner):
    _, poisoned, _ = three_leads(story)
    down = OperationalError("SELECT 1", {}, Exception("connection refused"))
    failing = Failing("failing", poisoned, down)
    alone = ProjectionRunner(
        ledger.recorder, ledger.mapper, runner.engine, [failing], clock=ledger.clock
    )
    alone.create_tables()
    with pytest.raises(OperationalError):
        alone.catch_up()
    assert alone.quarantine() == [] and alone.position("failing") == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_catch_up_loop_logs_a_database_outage_once_and_its_end_once(ledger, runner):
    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none",
                                connect_args={"connect_timeout": 1})  # fmt: skip
    down = ProjectionRunner(
        ledger.recorder, ledger.mapper, unreachable, read_models(), clock=ledger.clock
    )
    loop = CatchUpLoop(down, interval=0.01, max_backoff=0.05)
    with capture_logs() as logs:
        loop.start()
        time.sleep(0.6)  # 60 passes without the back-off
        failures = [line for line in logs if line["event"] == "catch_up_failed"]
        loop.runner = runner  # the database is back
        deadline = time.monotonic() + 5
        while not any(line["event"] == "catch_up_recovered" for line in logs):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        loop.stop()
    assert len(failures) == 1
    assert failures[0]["error"] == "OperationalError"
    assert [line["event"] for line in logs] == ["catch_up_failed", "catch_up_recovered"]
    assert logs[1]["failed_passes"] < 20
    assert not threading.enumerate().count(loop._thread)
    unreachable.dispose()


def test_every_report_has_warnings_empty_when_healthy(story, runner, report):
    three_leads(story)
    for name in ("funnel", "status", "sla", "activity", "time-in-status", "attribution"):
        assert report(name)["warnings"] == []
    assert build_report("plan", runner.engine, report.ledger.rules, report.clock.now(),
                        revenue_goal="1000",
                        deal_size="10", conversion_rate="0.5")["warnings"] == []  # fmt: skip
