"""The projection runner: shared batches, positions, decoding, and tables from older releases."""

from __future__ import annotations

import zlib

import pytest
from helpers import every_row
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text

from lifecycle.domain.values import Policy
from lifecycle.projections.catalog import read_models
from lifecycle.projections.runner import ProjectionRunner
from lifecycle.storage import bulk


class Recording:
    """A projection that only remembers what it was given."""

    def __init__(self, name: str) -> None:
        self.name, self.seen = name, []

    def tables(self):
        return []

    def apply(self, conn, batch):
        self.seen += [(e.position, e.lead_id, e.event.TYPE) for e in batch]


def history(story, leads=3):
    """Four events per lead: created, assigned, touched, attempted."""
    ids = []
    for number in range(leads):
        lead = story.lead(2, source=f"s{number}").then("assigned", 2, 10, owner="ana")
        lead.then("touched", 2, 11, kind="webinar", content="e").then("attempted", 2, 12)
        ids.append(lead.id)
    return ids


def test_projections_at_different_positions_each_get_every_event_once(story, ledger, runner):
    history(story, leads=2)
    early = Recording("early")
    plain = ProjectionRunner(
        ledger.recorder, ledger.mapper, runner.engine, [early], batch_size=3, clock=ledger.clock
    )
    assert plain.catch_up() == 8
    history(story, leads=2)
    late = Recording("late")
    both = ProjectionRunner(ledger.recorder, ledger.mapper, runner.engine, [early, late],
                            batch_size=3, clock=ledger.clock)  # fmt: skip
    assert both.catch_up() == 8 + 16  # the new events for one, all of them for the other
    assert early.seen == late.seen
    assert len({position for position, _, _ in late.seen}) == len(late.seen) == 16
    assert both.position("early") == both.position("late") == late.seen[-1][0]
    assert both.run_batch(early) == 0


def test_only_lead_events_reach_projections_with_their_lead_id(story, ledger, runner):
    (lead_id,) = history(story, leads=1)
    seen = Recording("seen")
    ProjectionRunner(
        ledger.recorder, ledger.mapper, runner.engine, [seen], clock=ledger.clock
    ).catch_up()
    assert [kind for _, _, kind in seen.seen] == ["created", "assigned", "touched", "attempted"]
    assert {lead for _, lead, _ in seen.seen} == {lead_id}
    assert ledger.recorder.max_notification_id() > seen.seen[-1][0] - 1  # email keys skipped


def test_rebuilding_one_projection_leaves_the_others_alone(story, runner):
    history(story)
    runner.catch_up()
    position = runner.position("touches")
    runner.rebuild("lead_facts")
    assert runner.position("touches") == position == runner.position("lead_facts")


def test_reading_the_log_directly_gives_the_events_the_recorder_gives(story, ledger, runner):
    history(story)
    direct = Recording("direct")
    ProjectionRunner(
        ledger.recorder, ledger.mapper, runner.engine, [direct], clock=ledger.clock
    ).catch_up()
    through = Recording("through")
    slow = ProjectionRunner(
        ledger.recorder, ledger.mapper, runner.engine, [through], clock=ledger.clock
    )
    slow._feed.log = None  # as for a recorder in another database
    slow.catch_up()
    assert runner._feed.log is not None
    assert direct.seen == through.seen


def test_the_fast_decoder_decodes_exactly_like_the_mapper(story, ledger, runner):
    history(story)
    story.lead(3).then("assigned", 3, 10, owner="bob").then("qualified", 3, 11)
    runner.catch_up()
    with runner.engine.connect() as conn:
        rows = runner._feed.read(conn, 0, 1000, None, None)[0]
    notifications = ledger.recorder.select_notifications(0, 1000)
    by_position = {n.id: ledger.mapper.to_domain_event(n) for n in notifications}
    for envelope in rows:
        assert vars(envelope.event) == vars(by_position[envelope.position])
        assert type(envelope.event) is type(by_position[envelope.position])


def test_a_mapper_that_compresses_stores_the_marked_form_and_the_runner_decodes_it(
    story, ledger, runner, monkeypatch
):
    monkeypatch.setattr(ledger.mapper, "compressor", zlib)
    history(story, leads=2)
    runner.catch_up()
    (first, *_) = ledger.recorder.select_notifications(0, 1)
    assert b"_type_" in zlib.decompress(first.state)
    with runner.engine.connect() as conn:
        envelopes = runner._feed.read(conn, 0, 1000, None, None)[0]
    notifications = ledger.recorder.select_notifications(0, 1000)
    by_position = {n.id: ledger.mapper.to_domain_event(n) for n in notifications}
    assert len(envelopes) == 8
    for envelope in envelopes:
        assert vars(envelope.event) == vars(by_position[envelope.position])


@pytest.mark.parametrize("engine", ["sqlite"])
def test_tables_of_an_older_release_are_replaced_and_rebuilt(story, ledger, runner, engine):
    history(story)
    runner.catch_up()
    with runner.engine.begin() as conn:
        conn.execute(text("DROP TABLE touches"))
        old = Table("touches", MetaData(), Column("lead_id", String(36)), Column("n", Integer))
        old.create(conn)
    again = ProjectionRunner(
        ledger.recorder, ledger.mapper, runner.engine, read_models(), clock=ledger.clock
    )
    again.create_tables()
    assert again.position("touches") == 0
    assert again.position("lead_facts") > 0
    again.catch_up()
    with runner.engine.connect() as conn:
        assert conn.scalar(select(text("count(*)")).select_from(text("touches"))) == 6


def test_bulk_writes_give_the_same_rows_as_small_ones(story, runner, monkeypatch):
    history(story)
    story.lead(3).then("assigned", 3, 9, owner="bob").fire(Policy.FIRST_ATTEMPT)
    runner.catch_up()
    small = every_row(runner)
    monkeypatch.setattr(bulk, "COPY_ROWS", 1)  # PostgreSQL: every write through COPY
    runner.rebuild()
    runner.rebuild()  # twice: the temporary tables are reused
    assert every_row(runner) == small


class Racing:
    """Wraps a projection: while it computes its first batch, another runner (another
    process, say) applies the same batch."""

    def __init__(self, inner, rival: ProjectionRunner) -> None:
        self.inner, self.name, self.rival, self.raced = inner, inner.name, rival, 0

    def tables(self):
        return self.inner.tables()

    def apply(self, conn, batch):
        self.inner.apply(conn, batch)

    def prepare(self, conn, batch):
        if not self.raced:
            self.raced = self.rival.catch_up()
        return self.inner.prepare(conn, batch)


# Only SQLite computes a batch before it locks; PostgreSQL locks the position rows first.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_batch_computed_while_another_runner_moved_is_redone_not_applied_twice(story, runner):
    history(story, leads=4)
    runner.catch_up()
    expected = every_row(runner)
    with runner.engine.begin() as conn:  # back to a clean start
        for projection in runner.projections.values():
            for table in projection.tables():
                conn.execute(table.delete())
        conn.execute(text("UPDATE projection_positions SET position = 0"))
    racing = [Racing(p, runner) for p in read_models()]
    racer = ProjectionRunner(
        runner.recorder, runner.mapper, runner.engine, racing, batch_size=5, clock=runner.clock
    )
    racer.catch_up()
    assert sum(p.raced for p in racing) > 0  # the rival did apply batches meanwhile
    assert every_row(runner) == expected
    assert {runner.position(name) for name in runner.projections} == {runner.head()}
