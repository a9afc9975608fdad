"""The unit of work: aggregates loaded once, activities recorded against them, one atomic save.

A `Batch` caches the aggregates it loads, lets several commands run against them (each sees
what the previous ones left) and saves every pending event in one atomic write. A single
HTTP request is a batch of one; a bulk import is a batch of many lines; a tick is a batch of
due timers. `record` is the one way a command reaches a lead: it resolves the lead, gives
the command its context and returns what was recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ..domain.contact import UPDATABLE
from ..domain.decisions import can_update
from ..domain.directory import (
    LeadKey,
    TeamTurns,
    email_key,
    external_key,
    phone_key,
    team_key,
)
from ..domain.errors import Conflict, IntegrityFailed, NotFound, ValidationFailed
from ..domain.identity import recorded_span
from ..domain.inputs import check_text, normalize_email
from ..domain.lead import ContactDetails, Lead, Touch
from ..domain.phones import normalize_phone, phone_region
from ..domain.rules import Context, Rulebook
from ..domain.values import TouchKind
from ..storage.store import select_events_many
from .activities import Command, Created, TimerDue
from .history import fold_events

if TYPE_CHECKING:
    from .ledger import LeadLedger


@dataclass
class Recorded:
    """What one command did: the lead after it and the events it recorded. A `duplicate`
    (an activity already recorded on the lead) recorded nothing: it names the first and last
    seq of what the first delivery recorded."""

    lead: Lead
    events: list[Lead.Event]
    deduplicated: bool = False
    duplicate: tuple[int, int] | None = None


@dataclass
class Batch:
    """A unit of work over cached aggregates, saved in one atomic write."""

    ledger: LeadLedger
    _cache: dict[UUID, Aggregate | None] = field(default_factory=dict)

    @property
    def rules(self) -> Rulebook:
        return self.ledger.rules

    def record(
        self, ref: str | None, command: Command, actor: str, now: datetime | None = None
    ) -> Recorded:
        """Runs `command` on the lead `ref` names (a `created` one needs none) at `now` (by
        default the ledger's clock); its `occurred_at` and `actor`, when given, say when and who."""
        now = now or self.ledger.clock()
        ctx = Context(
            command.occurred_at or now, command.actor or actor, now, self.rules,
            activity_id=command.id, digest=command.digest(),
        )  # fmt: skip
        if isinstance(command, Created):
            return self._create(command, ctx)
        if isinstance(command, TimerDue):
            lead = self.lead(command.lead_id)
        elif not ref:
            raise ValidationFailed("a lead reference is required", fields={"lead": "required"})
        else:
            lead = self.resolve(ref)
        span = recorded_span(lead, ctx)
        if span is not None:  # delivered again: nothing to record
            return Recorded(lead, [], duplicate=span)
        before = len(lead.pending_events)
        command.apply(lead, ctx, self)
        return Recorded(lead, _lead_events(lead.pending_events[before:]))

    def save(self) -> bool:
        """Saves every pending event in one write; False if there was none."""
        pending = [agg for agg in self._cache.values() if agg is not None and agg.pending_events]
        if pending:
            self.ledger.save(*pending)
        return bool(pending)

    # ------------------------------------------------------------- aggregates
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
        keys = [key for details in created for key in _keys_of(self._normalized(details, True))]
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

    # ------------------------------------------- what commands need beyond the lead
    def route(self, lead: Lead, ctx: Context) -> None:
        """Assigns `lead` by the routing rules: to a rule's owner, or a team's next member."""
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

    def claiming(
        self,
        lead: Lead,
        command: Callable[[], None],
        email: str | None = None,
        phone: str | None = None,
        phone_only: bool = False,
    ) -> None:
        """Runs the lead's `command`, which may give it a new `email` or `phone` (normalized):
        `Conflict` first if another lead has it. A phone is claimed only by a lead known by its
        phone alone after the command (`phone_only`: no email, no external id; docs/activities.md,
        Deduplication). Claims are made only once the command has succeeded, so a refused
        activity (an import line) leaves none behind. Earlier values stay claimed by the lead:
        they still find it."""
        wanted = [
            (email_key(email), "email") if email and email != normalize_email(lead.email) else None,
            (phone_key(phone), "phone") if phone and phone != lead.phone and phone_only else None,
        ]
        keys = [self._claimable(lead, *each) for each in wanted if each is not None]
        command()
        for key in keys:
            if key is not None:
                self.add(LeadKey.claim(key, lead.id))

    def update(self, lead: Lead, changes: Mapping[str, Any], ctx: Context) -> None:
        """`updated`: the properties in their stored form, a new email or phone claimed."""
        changes = dict(changes)
        if "email" in changes:
            changes["email"] = normalize_email(changes["email"])
        if "phone" in changes:
            country = changes.get("country", lead.country)
            changes["phone"] = self.normalized_phone(changes["phone"], country)
        email = changes.get("email", lead.email)
        self.claiming(
            lead,
            lambda: lead.update(changes, ctx),
            email=changes.get("email"),
            phone=changes.get("phone"),
            phone_only=not (email or lead.external_id),
        )

    def normalized_phone(self, phone: str | None, country: str | None) -> str | None:
        """`phone` in E.164, read in `country` if that is an ISO 3166 code, else in the
        rulebook's default region; None if absent; `ValidationFailed` naming `phone` if it is
        not a valid number."""
        text = (phone or "").strip()
        if not text:
            return None
        return normalize_phone(text, phone_region(country, self.rules.phone_region))

    # ----------------------------------------------------------------- helpers
    def _claimable(self, lead: Lead, key: UUID, name: str) -> UUID | None:
        """`key`, if `lead` may claim it; None if it has it; `Conflict` if another lead has it."""
        owner = self._claimed_by(key)
        if owner is not None and owner != lead.id:
            raise Conflict(f"another lead already has this {name}", field=name)
        return key if owner is None else None

    def _claimed_by(self, key: UUID) -> UUID | None:
        claim = self.get(key)
        return claim.lead_id if isinstance(claim, LeadKey) else None

    def _create(self, activity: Created, ctx: Context) -> Recorded:
        details = ContactDetails(
            **activity.model_dump(include=set(ContactDetails.__dataclass_fields__))
        )
        details = self._normalized(details)
        keys = _keys_of(details)
        owners = {field: self._claimed_by(key) for field, key in _named_keys(details)}
        claimed = {field: owner for field, owner in owners.items() if owner is not None}
        if len(set(claimed.values())) > 1:
            leads = ", ".join(f"the {field} lead {owner}" for field, owner in claimed.items())
            message = f"these identifiers belong to different leads: {leads}"
            raise Conflict(message, fields={field: str(owner) for field, owner in claimed.items()})
        if claimed:  # a known lead asks again: a touch on it, unless it is this same inquiry
            (owner, *_) = claimed.values()
            known = self.lead(owner)
            span = recorded_span(known, ctx)
            if span is not None:
                return Recorded(known, [], deduplicated=True, duplicate=span)
            return self._inquiry(known, details, ctx)
        lead = Lead.create(details, ctx)
        self.add(lead)
        for key in keys:
            self.add(LeadKey.claim(key, lead.id))
        return Recorded(lead, _lead_events(lead.pending_events))

    def _normalized(self, details: ContactDetails, lenient: bool = False) -> ContactDetails:
        """The identifiers in their compared forms; a phone that is not a valid number is a
        `validation_error`, or — `lenient`, for a prefetch — left out."""
        try:
            phone = self.normalized_phone(details.phone, details.country)
        except ValidationFailed:
            if not lenient:
                raise
            phone = None
        return replace(
            details,
            email=normalize_email(details.email),
            phone=phone,
            external_id=_trimmed(details.external_id),
        )

    def _inquiry(self, lead: Lead, details: ContactDetails, ctx: Context) -> Recorded:
        """A repeated inquiry from a known lead is recorded as a touch on it, and the new
        values it gives (none is a clearing) as an update, when an update is allowed then."""
        before = len(lead.pending_events)
        given = {name: getattr(details, name) for name in UPDATABLE}
        changes = {name: value for name, value in given.items() if value is not None}
        if can_update(lead, ctx) and any(getattr(lead, n) != v for n, v in changes.items()):
            self.update(lead, changes, ctx)
        touch = Touch(TouchKind.FORM_SUBMISSION, details.source, details.campaign)
        lead.touch(touch, ctx)
        return Recorded(lead, _lead_events(lead.pending_events[before:]), deduplicated=True)


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


def _trimmed(text: str | None) -> str | None:
    return (text or "").strip() or None


def _keys_of(details: ContactDetails) -> list[UUID]:
    return [key for _, key in _named_keys(details)]


def _named_keys(details: ContactDetails) -> list[tuple[str, UUID]]:
    """The keys a new lead claims, by the field each comes from: its email, its external id;
    its phone only when it has neither (a phone-only lead is known by its phone; two leads
    with emails may share a phone, a switchboard's, without being one)."""
    keys = [("email", email_key(details.email))] if details.email else []
    if details.external_id:
        keys.append(("external_id", external_key(details.external_id)))
    if not keys and details.phone:
        keys.append(("phone", phone_key(details.phone)))
    return keys
