"""The application: the event-sourced store of leads, its one write path and its queries.

Every write runs in a `Batch` (`in_batch`), saved in one atomic write; when another writer
got there first the store refuses the whole write (`IntegrityError`), and the batch is run
again from fresh state. `record` is the path of one submitted activity (`recording`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import structlog
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    Mapper,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import Environment

from ..domain.errors import Conflict, NotFound, Unavailable
from ..domain.lead import Lead
from ..domain.rules import Rulebook
from ..logs import get_logger
from ..storage.codec import TypedMapper
from ..storage.locks import sqlite_file_fault, write_gate
from ..storage.store import (
    bound_waits,
    create_probe,
    flush_after_commit,
    flush_log,
    transcoder,
    write_probe,
)
from .batch import Batch
from .history import fold_as_of, fold_events, intact
from .recording import Outcome, Submission, finish, prepare

T = TypeVar("T")
log = get_logger(__name__)
Clock = Callable[[], datetime]
MAX_ATTEMPTS = 12


class LeadLedger(Application[UUID]):
    """The event-sourced store of leads, with the commands and queries over it."""

    name = "LeadLedger"

    def __init__(self, env: dict[str, str], clock: Clock, rules: Rulebook | None = None) -> None:
        self._database: Path | None = None  # a SQLite file: set by construct_factory
        super().__init__(env)
        self.rules = rules or Rulebook()
        self.clock = clock
        self._gate = write_gate(str(self._database)) if self._database else None
        create_probe(self.recorder)  # the row `probe_write` writes, beside the events

    def construct_factory(self, env: Environment) -> InfrastructureFactory:
        """The store; on a SQLite file its commits leave the flush to `save`
        (`store.flush_after_commit`)."""
        factory = super().construct_factory(env)
        bound_waits(factory)
        self._database = flush_after_commit(factory)
        return factory

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Saves atomically and returns once the events are on the disk.

        On SQLite the write passes the file's write gate (`locks`) and commits without
        waiting for the disk; the flush comes after the gate is released
        (`store.flush_after_commit`), so other writers need not wait for this one's disk.
        """
        if self._gate is None:
            return super().save(*objs, **kwargs)
        with self._file_faults():
            with self._gate:
                result = super().save(*objs, **kwargs)
            self.flush()
        return result

    def probe_write(self) -> None:
        """Writes the store's probe row through the store's own connections (on SQLite
        through the write gate too), as a save would: `Unavailable` if that fails the way
        a save would fail. A readiness check (`api.health`)."""
        if self._gate is None:
            write_probe(self.recorder, self.clock())
            return
        with self._file_faults(), self._gate:
            write_probe(self.recorder, self.clock())

    @contextmanager
    def _file_faults(self) -> Iterator[None]:
        """A write to a SQLite file that fails because the file, its `-wal` or its `-shm`
        cannot be written (read-only, vanished, an I/O error, a full disk) is `Unavailable`:
        nothing was recorded and the client may retry. Every connection of this process to
        the file is closed, so that the next write opens the files again
        (`locks.WriteGate.faulted`) and succeeds once they are fixed."""
        try:
            yield
        except Unavailable:
            raise
        except Exception as error:
            fault = sqlite_file_fault(error)
            if fault is None or self._gate is None:
                raise
            log.warning("store_write_failed", fault=fault, action="reopening")
            self._gate.faulted()
            raise Unavailable("the database cannot be written now; try again") from error

    def flush(self) -> None:
        """Waits until everything committed to the store is on the disk (SQLite; on
        PostgreSQL every commit already has)."""
        if self._database is not None:
            flush_log(self._database)

    def construct_transcoder(self) -> Transcoder:
        return transcoder()

    def construct_mapper(self) -> Mapper[UUID]:
        """Events are stored in the compact form of `codec` (read by their annotations)."""
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=TypedMapper[UUID]
        )

    # ---------------------------------------------------------------- commands
    def record(self, submission: Submission) -> Outcome:
        """Validates and records one activity, or replays the answer remembered for its key."""
        outcome = finish(self, self.in_batch(prepare(self, submission, grouped=False)))
        with structlog.contextvars.bound_contextvars(lead_id=str(outcome.lead.id)):
            log.info(
                "activity_recorded",
                activity=submission.body.get("type"),
                events=[type(event).TYPE for event in outcome.events],
                version=outcome.lead.version,
                deduplicated=outcome.deduplicated,
                replayed=outcome.replayed,
            )
        return outcome

    def in_batch(self, work: Callable[[Batch], T]) -> T:
        """Runs `work` in a fresh batch and saves it, again from scratch on a write conflict."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            batch = Batch(self)
            result = work(batch)
            try:
                if not batch.save():
                    self.flush()  # an answer read from the store (a replay) is durable too
            except IntegrityError:
                if attempt == MAX_ATTEMPTS:
                    raise Conflict("the lead kept changing under this write; try again") from None
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
            else:
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    # ----------------------------------------------------------------- queries
    def find(self, ref: str) -> Lead:
        return Batch(self).resolve(ref)

    def lead_as_of(self, ref: str, moment: datetime) -> Lead:
        lead_id = self.find(ref).id
        lead = fold_as_of(self.lead_events(lead_id), moment)
        if lead is None:
            raise NotFound(f"lead {ref} did not exist at {moment.isoformat()}", ref=ref)
        return lead

    def load(self, aggregate_id: UUID, version: int | None = None) -> Aggregate:
        """An aggregate from the store (or the cache), `AggregateNotFoundError` if none; at
        `version`, which must be stored (else `IntegrityFailed`)."""
        fold = fold_events if version is None else partial(fold_events, until=version)
        aggregate: Aggregate = self.repository.get(
            aggregate_id, version=version, projector_func=fold
        )
        return aggregate

    def lead_events(
        self, lead_id: UUID, gt: int | None = None, lte: int | None = None
    ) -> list[Lead.Event]:
        """The lead's events (those after version `gt`, up to `lte`), checked (`intact`)."""
        stored = self.events.get(lead_id, gt=gt, lte=lte)
        return [event for event in intact(stored, after=gt or 0) if isinstance(event, Lead.Event)]

    def decode(self, stored: StoredEvent) -> Any:
        """One stored event (from the log); `IntegrityFailed` if it does not decode."""
        decoded = map(self.mapper.to_domain_event, [stored])
        return next(intact(decoded, after=stored.originator_version - 1))

    def lead_ids(self, page: int = 1000) -> Iterator[UUID]:
        """Every lead's id, in the order the leads were created."""
        position = 0
        while notifications := self.recorder.select_notifications(
            start=position, limit=page, topics=(Lead.Created.TOPIC,), inclusive_of_start=False
        ):
            yield from (UUID(str(n.originator_id)) for n in notifications)
            position = notifications[-1].id

    def all_leads(self) -> Iterator[Lead]:
        for lead_id in self.lead_ids():
            lead: Aggregate = self.load(lead_id)
            assert isinstance(lead, Lead)
            yield lead
