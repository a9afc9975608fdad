"""Commands and queries: resolve the lead, call the domain, save atomically, retry on conflict.

A `Batch` is the unit of work: it caches the aggregates it loads, lets several activities run
against them, and saves every pending event in one atomic write. A single HTTP request is a
batch of one; a bulk import is a batch of many lines. When another writer got there first the
store refuses the whole write (`IntegrityError`), and the batch is run again from fresh state.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    Mapper,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import Environment

from ..domain.directory import LeadKey, TeamTurns, email_key, external_key, team_key
from ..domain.errors import Conflict, IntegrityFailed, NotFound, Unavailable, ValidationFailed
from ..domain.inputs import check_text, normalize_email
from ..domain.lead import ContactDetails, Lead, Touch
from ..domain.rules import Context, Rulebook
from ..domain.values import Policy, TouchKind
from ..logs import get_logger
from ..storage.codec import TypedMapper
from ..storage.locks import sqlite_file_fault, write_gate
from ..storage.store import (
    bound_waits,
    create_probe,
    flush_after_commit,
    flush_log,
    select_events_many,
    transcoder,
    write_probe,
)
from . import activities as act
from .history import fold_as_of, fold_events, intact

T = TypeVar("T")
log = get_logger(__name__)
Clock = Callable[[], datetime]
MAX_ATTEMPTS = 12


@dataclass
class Recorded:
    """What one activity did: the lead after it and the events it recorded."""

    lead: Lead
    events: list[Lead.Event]
    deduplicated: bool = False


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
    def submit(self, ref: str | None, body: Any, actor: str) -> Recorded:
        """Validates and records one activity (a `created` one needs no reference)."""
        activity = act.parse_activity(body)
        recorded = self.in_batch(lambda batch: batch.perform(ref, activity, actor))
        with structlog.contextvars.bound_contextvars(lead_id=str(recorded.lead.id)):
            log.info(
                "activity_recorded",
                activity=activity.type,
                events=[type(event).TYPE for event in recorded.events],
                version=recorded.lead.version,
                deduplicated=recorded.deduplicated,
            )
        return recorded

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

    def fire(self, lead_id: UUID, policy: Policy, due_at: datetime, now: datetime) -> bool:
        """Records a due timer event on a lead; False if the deadline is gone or not due."""

        def work(batch: Batch) -> bool:
            return batch.lead(lead_id).fire(policy, due_at, now)

        return self.in_batch(work)

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


@dataclass
class Batch:
    """A unit of work over cached aggregates, saved in one atomic write."""

    ledger: LeadLedger
    _cache: dict[UUID, Aggregate | None] = field(default_factory=dict)

    @property
    def rules(self) -> Rulebook:
        return self.ledger.rules

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id not in self._cache:
            try:
                self._cache[aggregate_id] = self.ledger.load(aggregate_id)
            except AggregateNotFoundError:
                self._cache[aggregate_id] = None
        return self._cache[aggregate_id]

    def prefetch(self, ids: Iterable[UUID]) -> None:
        """Loads many aggregates in one read; ids with nothing stored are remembered as absent."""
        wanted = [each for each in dict.fromkeys(ids) if each not in self._cache]
        stored = select_events_many(self.ledger.recorder, wanted)
        decode = self.ledger.mapper.to_domain_event
        for aggregate_id in wanted:
            try:
                aggregate = fold_events(None, map(decode, stored.get(aggregate_id, ())))
            except IntegrityFailed:
                continue  # not cached: `get` reads it again, and fails where it is needed
            self._cache[aggregate_id] = aggregate

    def prefetch_refs(self, refs: Iterable[str], created: Iterable[ContactDetails]) -> None:
        """Prefetches what `resolve` and `created` will look up: keys, then their leads."""
        keys = [key for details in created for key in _keys_of(_normalized(details))]
        ids = [_as_uuid(ref.strip()) or _key_of(ref.strip()) for ref in refs if ref]
        self.prefetch([*keys, *ids])
        claimed = (self._cache.get(each) for each in [*keys, *ids])
        self.prefetch(claim.lead_id for claim in claimed if isinstance(claim, LeadKey))

    def add(self, aggregate: Aggregate) -> None:
        self._cache[aggregate.id] = aggregate

    def lead(self, lead_id: UUID) -> Lead:
        lead = self.get(lead_id)
        if not isinstance(lead, Lead):
            raise NotFound(f"no lead with id {lead_id}", ref=str(lead_id))
        return lead

    def resolve(self, ref: str) -> Lead:
        """A lead by id, external id or email (trimmed, case-insensitive); a reference that
        holds a control or invisible character is a `validation_error`, from any entry point."""
        cleaned = (ref or "").strip()
        try:
            check_text(cleaned)
        except ValueError as error:
            message = f"invalid lead reference: {error}"
            raise ValidationFailed(message, fields={"ref": str(error)}) from None
        candidates: tuple[Callable[[], UUID | None], ...] = (
            lambda: _as_uuid(cleaned),
            lambda: self._claimed_by(_key_of(cleaned)),
            lambda: self._claimed_by(external_key(cleaned)),  # it may look like an email
        )
        for candidate in candidates:  # in order, reading no more than needed
            lead_id = candidate()
            if lead_id is not None and isinstance(self.get(lead_id), Lead):
                return self.lead(lead_id)
        raise NotFound(f"no lead matches {cleaned!r}", ref=cleaned)

    def perform(self, ref: str | None, activity: act.Activity, actor: str) -> Recorded:
        now = self.ledger.clock()
        ctx = Context(activity.occurred_at or now, activity.actor or actor, now, self.rules)
        if isinstance(activity, act.Created):
            return self._create(activity, ctx)
        if not ref:
            raise ValidationFailed("a lead reference is required", fields={"lead": "required"})
        lead = self.resolve(ref)
        before = len(lead.pending_events)
        self._dispatch(lead, activity, ctx)
        return Recorded(lead, _lead_events(lead.pending_events[before:]))

    def save(self) -> bool:
        """Saves every pending event in one write; False if there was none."""
        pending = [agg for agg in self._cache.values() if agg is not None and agg.pending_events]
        if pending:
            self.ledger.save(*pending)
        return bool(pending)

    # ----------------------------------------------------------------- helpers
    def _claimed_by(self, key: UUID) -> UUID | None:
        claim = self.get(key)
        return claim.lead_id if isinstance(claim, LeadKey) else None

    def _create(self, activity: act.Created, ctx: Context) -> Recorded:
        details = ContactDetails(
            **activity.model_dump(include=set(ContactDetails.__dataclass_fields__))
        )
        details = _normalized(details)
        keys = _keys_of(details)
        for key in keys:
            existing = self._claimed_by(key)
            if existing is not None:
                return self._inquiry(self.lead(existing), details, ctx)
        lead = Lead.create(details, ctx)
        self.add(lead)
        for key in keys:
            self.add(LeadKey.claim(key, lead.id))
        return Recorded(lead, _lead_events(lead.pending_events))

    def _inquiry(self, lead: Lead, details: ContactDetails, ctx: Context) -> Recorded:
        """A repeated inquiry from a known lead is recorded as a touch on it."""
        before = len(lead.pending_events)
        touch = Touch(TouchKind.FORM_SUBMISSION, details.source, details.campaign)
        lead.touch(touch, ctx)
        return Recorded(lead, _lead_events(lead.pending_events[before:]), deduplicated=True)

    def _dispatch(self, lead: Lead, activity: act.Activity, ctx: Context) -> None:
        match activity:
            case act.Assigned(owner=None):
                self._route(lead, ctx)
            case act.Assigned(owner=owner):
                lead.assign(owner, ctx)
            case act.Attempted(channel=channel):
                lead.attempt(channel.value, ctx)
            case act.Responded(channel=channel):
                lead.respond(channel.value if channel else None, ctx)
            case act.Qualified():
                bant = {
                    k: getattr(activity, k) for k in ("budget", "authority", "need", "timeline")
                }
                lead.qualify(bant, activity.note, ctx)
            case act.Disqualified(reason=reason):
                lead.disqualify(reason, ctx)
            case act.Nurtured(reason=reason):
                lead.nurture(reason, ctx)
            case act.BadData(channel=channel, reason=reason):
                lead.mark_bad_data(channel, reason, ctx)
            case act.Reopened():
                self._reopen(lead, activity, ctx)
            case act.Passed(to_owner=to_owner):
                lead.pass_to(to_owner, ctx)
            case act.Accepted():
                lead.accept(ctx)
            case act.OpportunityCreated(amount=amount, opportunity_id=opportunity_id):
                lead.open_opportunity(amount, opportunity_id, ctx)
            case act.Won(amount=amount):
                lead.win(amount, ctx)
            case act.Lost(reason=reason):
                lead.lose(reason, ctx)
            case act.Touched():
                touch = Touch(
                    activity.kind,
                    activity.source,
                    activity.campaign,
                    activity.content,
                    activity.url,
                )
                lead.touch(touch, ctx)
            case act.OptedOut(days=days):
                lead.opt_out(days, ctx)
            case act.OptedIn():
                lead.opt_in(ctx)
            case _:  # pragma: no cover - parse_activity admits nothing else
                raise ValidationFailed(f"unsupported activity {activity!r}")

    def _route(self, lead: Lead, ctx: Context) -> None:
        routing = self.rules.routing
        route = routing.route(lead.prospect())
        if route.owner:
            team = routing.team_of(route.owner)
            lead.assign_routed(route.owner, route.rule, team.name if team else None, ctx)
            return
        assert route.team is not None
        members = routing.team(route.team).members
        turns = self.get(team_key(route.team))
        if not isinstance(turns, TeamTurns):
            turns = TeamTurns.start(route.team)
            self.add(turns)
        member = turns.whose_turn(members)
        lead.assign_routed(member, route.rule, route.team, ctx)
        turns.take(member)

    def _reopen(self, lead: Lead, activity: act.Reopened, ctx: Context) -> None:
        email = normalize_email(activity.email) if activity.email else None
        if email and email != normalize_email(lead.email):
            key = email_key(email)
            owner = self._claimed_by(key)
            if owner is not None and owner != lead.id:
                raise Conflict("another lead already has this email", field="email")
            if owner is None:
                self.add(LeadKey.claim(key, lead.id))
        lead.reopen(activity.reason, email, _trimmed(activity.phone), ctx)


def _lead_events(events: Sequence[object]) -> list[Lead.Event]:
    return [event for event in events if isinstance(event, Lead.Event)]


def _as_uuid(ref: str) -> UUID | None:
    try:
        return UUID(ref)
    except ValueError:
        return None


def _key_of(ref: str) -> UUID:
    email = normalize_email(ref) if "@" in ref else None
    return email_key(email) if email else external_key(ref)


def _normalized(details: ContactDetails) -> ContactDetails:
    return replace(
        details,
        email=normalize_email(details.email),
        phone=_trimmed(details.phone),
        external_id=_trimmed(details.external_id),
    )


def _trimmed(text: str | None) -> str | None:
    return (text or "").strip() or None


def _keys_of(details: ContactDetails) -> list[UUID]:
    keys = [email_key(details.email)] if details.email else []
    if details.external_id:
        keys.append(external_key(details.external_id))
    return keys
