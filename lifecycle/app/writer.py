"""Group commit: writer threads that record many requests' activities in one atomic write.

Every write costs a transaction and a wait for the disk (half a millisecond here when the
disk is quiet; `LeadLedger.save`). Requests arriving together are therefore queued and
taken by a writer thread in groups: the group's activities run one after another in one
`Batch` — each sees the state the previous ones left — and are saved in one atomic write.

What each request gets is exactly what it would get alone:
- an activity the domain refuses is answered with its error and the group is run again from
  fresh state without it, so a refused activity records nothing (not even the timers it
  would have fired first), and no other activity saw its effects;
- a write conflict with another process re-runs the whole group from fresh state (the
  ledger's `in_batch`), so nothing is recorded twice;
- if the write itself fails (the database is down), every request of the group gets the error.

A job must return values that do not alias the batch's aggregates (a later job of the same
group may change them): copies, or answers already rendered.

SQLite takes one writer: it has one write lock anyway, and a single thread keeps the GIL
free for the event loop. PostgreSQL takes several, so one group's round trips overlap
another's; jobs naming the same lead go to the same writer (`shard`), so writers of one
process do not keep refusing each other's writes to a lead.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

from ..domain.requests import Answer
from ..logs import get_logger
from ..storage import outage
from .batch import Batch
from .ledger import LeadLedger
from .recording import Outcome, Submission, finish, prepare

T = TypeVar("T")
log = get_logger(__name__)
MAX_GROUP = 64


@dataclass(eq=False)
class _Job(Generic[T]):
    work: Callable[[Batch], T]
    future: Future[T] = field(default_factory=Future)


class _Refused(Exception):
    """Job `index` of a group raised `error`: the group is run again without it."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


class GroupWriter:
    """Runs `work(batch)` jobs on writer threads, grouping those queued together."""

    def __init__(self, ledger: LeadLedger, threads: int = 1, max_group: int = MAX_GROUP) -> None:
        self.ledger = ledger
        self.max_group = max_group
        self._queues: list[queue.SimpleQueue[_Job[Any] | None]] = [
            queue.SimpleQueue() for _ in range(threads)
        ]
        self._threads = [
            threading.Thread(target=self._serve, args=(q,), name=f"writer-{n}", daemon=True)
            for n, q in enumerate(self._queues)
        ]
        self._turn = itertools.count()
        self._closed = False
        for thread in self._threads:
            thread.start()

    def submit(self, work: Callable[[Batch], T], shard: str | None = None) -> Future[T]:
        """Queues `work`; the future holds its result once the group is saved, or its error.

        Jobs with the same `shard` (a lead reference) run on the same writer, in order.
        """
        if self._closed:
            msg = "the writer is closed"
            raise RuntimeError(msg)
        job: _Job[T] = _Job(work)
        index = hash(shard) if shard is not None else next(self._turn)
        self._queues[index % len(self._queues)].put(job)
        return job.future

    async def answer(self, work: Callable[[Batch], T], shard: str | None = None) -> T:
        """`submit` and wait, on an event loop, at most `outage.WRITE_TIMEOUT` seconds: then
        `DatabaseTimeout` (503). A job not yet started by then is dropped (cancelled); one
        being written may still commit, and a retry with its Idempotency-Key finds it."""
        future = self.submit(work, shard)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), outage.WRITE_TIMEOUT)
        except TimeoutError:
            msg = "the write did not finish in time"
            raise outage.DatabaseTimeout(msg) from None

    async def record(self, submission: Submission) -> Outcome:
        """`LeadLedger.record` on the writer: the submission is validated here (its error
        raised at once), recorded in a group, and a replayed answer read off the event loop."""
        result = await self.answer(prepare(self.ledger, submission), submission.ref)
        if isinstance(result, Answer) or result.duplicate is not None:  # read back
            return await asyncio.to_thread(finish, self.ledger, result)
        return finish(self.ledger, result)

    def run(self, work: Callable[[Batch], T], shard: str | None = None) -> T:
        """`submit` and wait: for callers on threads of their own."""
        return self.submit(work, shard).result()

    def close(self) -> None:
        """Finishes the queued jobs, then stops the threads."""
        if self._closed:
            return
        self._closed = True
        for each in self._queues:
            each.put(None)
        for thread in self._threads:
            thread.join()

    # ---------------------------------------------------------------- threads
    def _serve(self, jobs: queue.SimpleQueue[_Job[Any] | None]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            group = [job]
            stopping = False
            while len(group) < self.max_group:
                try:
                    more = jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
            self._record([job for job in group if job.future.set_running_or_notify_cancel()])
            if stopping:
                return

    def _record(self, jobs: list[_Job[Any]]) -> None:
        while jobs:
            try:
                results = self.ledger.in_batch(partial(_run_all, jobs=jobs))
            except _Refused as refused:
                jobs[refused.index].future.set_exception(refused.error)
                jobs = jobs[: refused.index] + jobs[refused.index + 1 :]
                continue
            except Exception as error:  # the write failed: every job of the group learns why
                log.warning("group_write_failed", error=type(error).__name__, jobs=len(jobs))
                for job in jobs:
                    job.future.set_exception(error)
                return
            for job, result in zip(jobs, results, strict=True):
                job.future.set_result(result)
            return


def _run_all(batch: Batch, *, jobs: list[_Job[Any]]) -> list[Any]:
    results = []
    for index, job in enumerate(jobs):
        try:
            results.append(job.work(batch))
        except Exception as error:  # refused (or failed): answered alone, never saved
            raise _Refused(index, error) from error
    return results
