"""The group writer: requests queued together share one write, and each gets its own answer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from helpers import ACTOR, body, given_lead, types_of

from lifecycle.app import activities
from lifecycle.app.ledger import Batch, LeadLedger
from lifecycle.app.writer import GroupWriter
from lifecycle.domain.errors import LifecycleError
from lifecycle.domain.lead import Lead


@pytest.fixture
def writer(memory_ledger: LeadLedger) -> Iterator[GroupWriter]:
    started = GroupWriter(memory_ledger)
    yield started
    started.close()


def step(ref: str, activity_type: str, **fields: Any) -> Callable[[Batch], int]:
    """A job recording one activity; it answers the lead's version after it (a copy)."""
    activity = activities.parse_activity(body(activity_type, **fields))
    return lambda batch: batch.record(ref, activity, ACTOR).lead.version


def queued_together(writer: GroupWriter, jobs: list[Callable[[Batch], Any]]) -> list[Future[Any]]:
    """Submits `jobs` while the writer is held by a first job, so they form one group."""
    holding, release = threading.Event(), threading.Event()

    def hold(_batch: Batch) -> None:
        holding.set()
        release.wait(10)

    first = writer.submit(hold)
    holding.wait(10)
    futures = [writer.submit(job) for job in jobs]
    release.set()
    first.result(10)
    for future in futures:
        future.exception(10)  # wait for each, whatever its outcome
    return futures


def count_saves(ledger: LeadLedger, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the ledger's atomic writes (events per write)."""
    writes: list[int] = []
    save = ledger.save

    def counted(*aggregates: Any, **kwargs: Any) -> Any:
        writes.append(sum(len(a.pending_events) for a in aggregates))
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(ledger, "save", counted)
    return writes


def test_jobs_queued_together_are_saved_in_one_write(
    memory_ledger: LeadLedger, writer: GroupWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    leads = [given_lead(memory_ledger, "assigned") for _ in range(4)]
    writes = count_saves(memory_ledger, monkeypatch)

    futures = queued_together(writer, [step(lead, "touched") for lead in leads])

    assert [future.result() for future in futures] == [3, 3, 3, 3]
    assert writes == [4]
    assert all(memory_ledger.find(lead).version == 3 for lead in leads)


def test_each_job_sees_the_ones_before_it_and_answers_its_own_state(
    memory_ledger: LeadLedger, writer: GroupWriter
) -> None:
    lead = given_lead(memory_ledger, "assigned")

    futures = queued_together(writer, [step(lead, "touched") for _ in range(3)])

    assert [future.result() for future in futures] == [3, 4, 5]


def test_a_refused_job_is_answered_alone_and_records_nothing(
    memory_ledger: LeadLedger, writer: GroupWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad, after = (given_lead(memory_ledger, "assigned") for _ in range(3))
    writes = count_saves(memory_ledger, monkeypatch)

    futures = queued_together(
        writer,
        [step(good, "touched"), step(bad, "won", amount="10"), step(after, "touched")],
    )

    assert futures[0].result() == 3
    assert isinstance(futures[1].exception(), LifecycleError)
    assert futures[1].exception().code == "transition_not_allowed"  # type: ignore[union-attr]
    assert futures[2].result() == 3
    assert writes == [2]
    assert memory_ledger.find(bad).version == 2


def test_a_job_after_a_refused_one_on_the_same_lead_sees_no_trace_of_it(
    memory_ledger: LeadLedger, writer: GroupWriter
) -> None:
    lead = given_lead(memory_ledger, "assigned")

    def refused_after_a_touch(batch: Batch) -> None:
        step(lead, "touched")(batch)  # changes the lead in the batch, then fails
        raise LifecycleError("refused on purpose")

    futures = queued_together(writer, [refused_after_a_touch, step(lead, "touched")])

    assert isinstance(futures[0].exception(), LifecycleError)
    assert futures[1].result() == 3


def test_a_failed_write_fails_every_job_of_its_group(
    memory_ledger: LeadLedger, writer: GroupWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    leads = [given_lead(memory_ledger) for _ in range(2)]

    def down(*_aggregates: Any, **_kwargs: Any) -> None:
        raise OSError("the database went away")

    monkeypatch.setattr(memory_ledger, "save", down)
    futures = queued_together(writer, [step(lead, "touched") for lead in leads])

    assert all(isinstance(future.exception(), OSError) for future in futures)


def test_close_finishes_what_was_queued(memory_ledger: LeadLedger) -> None:
    lead = given_lead(memory_ledger)
    writer = GroupWriter(memory_ledger)
    futures = [writer.submit(step(lead, "touched")) for _ in range(20)]

    writer.close()

    versions = [future.result(0) for future in futures]
    assert versions == sorted(set(versions))  # each after the one before
    assert types_of(memory_ledger, lead).count("touched") == 20
    with pytest.raises(RuntimeError):
        writer.submit(step(lead, "touched"))


def test_writers_on_many_threads_lose_nothing(ledger: LeadLedger) -> None:
    leads = [given_lead(ledger) for _ in range(5)]
    writer = GroupWriter(ledger, threads=3)
    errors: list[BaseException] = []

    def client(number: int) -> None:
        for n in range(15):
            lead = leads[(number + n) % len(leads)]
            try:
                writer.run(step(lead, "touched"), shard=lead)
            except Exception as error:  # collected: the assertion below names it
                errors.append(error)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()

    assert errors == []
    seqs = [
        [event.originator_version for event in ledger.lead_events(ledger.find(lead).id)]
        for lead in leads
    ]
    assert sum(types_of(ledger, lead).count("touched") for lead in leads) == 8 * 15
    assert all(each == list(range(1, len(each) + 1)) for each in seqs)
    assert all(isinstance(ledger.find(lead), Lead) for lead in leads)
