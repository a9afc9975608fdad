"""Any sequence of activities keeps the lead consistent, and replay gives back the same lead.

Each example runs on its own SQLite file: random activities (many refused for the state the
lead is in, some late, some in the future), the scheduler firing due deadlines now and then,
and a final touch whose result is the live lead that a fresh ledger must reproduce exactly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from helpers import ManualClock, created, fire
from hypothesis import event, given, settings
from hypothesis import strategies as st

from lifecycle.app.history import fold_as_of
from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.domain.errors import LifecycleError
from lifecycle.domain.lead import Lead
from lifecycle.domain.rules import Rulebook
from lifecycle.domain.values import Outcome, Stage
from lifecycle.storage.store import persistence_env

START = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
TIMER_TYPES = {"auto_nurtured", "sla_breached", "escalated", "opt_out_expired"}
# Activities that never change the status (docs/activities.md).
KEEP_STATUS = {
    "touched",
    "scored",
    "opted_out",
    "opted_in",
    "passed",
    "accepted",
    "opportunity_created",
    "won",
    "sla_breached",
    "escalated",
    "opt_out_expired",
}


def some(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(fields)


def maybe(value: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from([None, value])


channels = st.sampled_from(["email", "call", "linkedin", "sms", "other"])
touch_kinds = st.sampled_from(["page_view", "form_submission", "content_download",
                               "email_click", "webinar", "event", "ad_click", "demo_request",
                               "pricing_view"])  # fmt: skip
amounts = st.sampled_from(["1", "2500.50", "48000"])

BODIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "assigned": some(owner=maybe("alex")),
    "attempted": some(channel=channels),
    "responded": some(channel=channels),
    "qualified": some(
        budget=st.booleans(), authority=st.booleans(), need=st.booleans(), timeline=st.booleans()
    ),
    "disqualified": some(reason=st.just("no fit")),
    "nurtured": some(reason=st.just("later")),
    "bad_data": some(channel=st.sampled_from(["email", "phone", "all"])),
    "reopened": some(email=maybe("corrected@example.com"), phone=maybe("+1 415 555 0199")),
    "passed": some(to_owner=st.sampled_from(["sam", "ent-ae-1"])),
    "accepted": some(),
    "opportunity_created": some(amount=amounts, opportunity_id=maybe("opp-1")),
    "won": some(amount=amounts),
    "lost": some(reason=maybe("price")),
    "touched": some(kind=touch_kinds, campaign=maybe("spring")),
    "opted_out": some(days=maybe(7)),
    "opted_in": some(),
}


def body_of(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    def without_absent(fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": kind, **{key: value for key, value in fields.items() if value}}

    return BODIES[kind].map(without_absent)


# The way a lead usually goes; scenarios mix its next step with random activities, so that
# examples reach the later stages as well as being refused all along the way.
HAPPY_PATH = ("assigned", "attempted", "attempted", "responded", "qualified", "passed",
              "accepted", "opportunity_created", "won")  # fmt: skip
QUALIFYING = {"type": "qualified", "budget": True, "need": True}

Step = tuple[int, Any, str, int]
# Minutes between steps: mostly hours or days, sometimes long enough for auto-nurture.
pauses = st.one_of(st.integers(min_value=0, max_value=6 * 24 * 60), st.just(22 * 24 * 60))


@st.composite
def scenario(draw: st.DrawFn) -> list[Step]:
    """Up to 25 steps: time passes, then an activity arrives (on time, late, from the
    future) or the scheduler fires the deadlines that are due."""
    result: list[Step] = []
    path = iter(HAPPY_PATH)
    for _ in range(draw(st.integers(min_value=1, max_value=25))):
        choice = draw(st.sampled_from(["path", "path", "random", "random", "tick"]))
        kind = next(path, None) if choice == "path" else None
        if choice == "tick":
            step: Any = "tick"
        elif kind == "qualified":
            step = QUALIFYING
        else:
            step = draw(body_of(kind or draw(st.sampled_from(sorted(BODIES)))))
        result.append((
            draw(pauses),  # minutes that pass first
            step,
            draw(st.sampled_from(["now", "now", "now", "unset", "late", "future"])),
            draw(st.integers(min_value=1, max_value=10 * 24 * 60)),  # how late or early
        ))  # fmt: skip
    return result


contacts = st.fixed_dictionaries(
    {
        "email": st.just("lead@example.com"),
        "phone": maybe("+49 30 123456"),
        "title": maybe("Head of Sales"),
        "region": st.sampled_from(["emea", "na", "apac"]),
        "employees": st.sampled_from([None, 30, 6000]),
        "company": maybe("Acme"),
    }
)


def occurred_at(clock: ManualClock, when: str, minutes: int) -> str | None:
    shift = {"now": 0, "unset": 0, "late": -minutes, "future": 5 + minutes % 600}[when]
    return None if when == "unset" else (clock.now() + timedelta(minutes=shift)).isoformat()


def fire_due_deadlines(ledger: LeadLedger, lead_id: Any, now: datetime) -> None:
    for _ in range(10):
        due = sorted((at, policy) for policy, at in ledger.find(str(lead_id)).deadlines.items())
        due = [(at, policy) for at, policy in due if at <= now]
        if not due:
            return
        at, policy = due[0]
        assert fire(ledger, lead_id, policy, at, now)
        event(f"fired: {policy.value}")


def state(lead: Lead) -> dict[str, Any]:
    return {key: value for key, value in vars(lead).items() if key != "_pending_events"}


def assert_consistent(lead: Lead, events: list[Lead.Event]) -> None:
    types = [each.TYPE for each in events]
    assert [each.originator_version for each in events] == list(range(1, len(events) + 1))
    assert types[0] == "created"
    assert "created" not in types[1:]
    ranks = [each.stage.rank for each in events]
    assert ranks == sorted(ranks), "the stage moved backward"
    assert lead.stage == events[-1].stage
    assert lead.status == events[-1].status
    assert lead.attempts >= 0
    assert lead.attempts == types.count("attempted")
    if lead.status.is_attempt:
        assert lead.attempts >= int(lead.status.value[-1])
    assert lead.score == sum(getattr(each, "points", 0) for each in events)
    assert types.count("scored") <= 1
    assert (Stage.MQL in lead.stage_entered) == ("scored" in types)
    assert max(lead.stage_entered, key=lambda stage: stage.rank) == lead.stage
    if lead.stage >= Stage.SQL:
        assert lead.passed_to is not None
        assert "accepted" in types
    if lead.stage >= Stage.OPPORTUNITY:
        assert lead.amount is not None
        assert lead.amount > 0
    assert (lead.stage == Stage.CUSTOMER) == (lead.outcome is Outcome.WON)
    if lead.outcome is Outcome.LOST:
        assert lead.stage == Stage.OPPORTUNITY
    for before, after in pairwise(events):
        if after.TYPE in KEEP_STATUS:
            assert after.status == before.status, f"{after.TYPE} changed the status"
    watermark = events[0].occurred_at
    for recorded in events:
        assert recorded.occurred_at <= recorded.timestamp + timedelta(minutes=5), "in the future"
        if recorded.ORDERED and recorded.TYPE not in TIMER_TYPES:
            assert recorded.occurred_at >= watermark, f"{recorded.TYPE} recorded out of order"
        if recorded.ORDERED:
            watermark = max(watermark, recorded.occurred_at)


def run_example(url: str, example_steps: list[Step], contact: dict[str, Any]) -> None:
    """Plays the steps on a new ledger, checks the lead, then replays it on a fresh ledger."""
    clock = ManualClock(START)
    live = LeadLedger(persistence_env(url), rules=Rulebook(), clock=clock.now)
    fresh = None
    try:
        lead_id = live.record(Submission(None, created(**contact), "prop")).lead.id
        for minutes, step, when, shift in example_steps:
            clock.advance(minutes=minutes)
            if step == "tick":
                fire_due_deadlines(live, lead_id, clock.now())
                continue
            at = occurred_at(clock, when, shift)
            recorded_before = len(live.lead_events(lead_id))
            try:
                live.record(
                    Submission(str(lead_id), step | ({"occurred_at": at} if at else {}), "prop")
                )
            except LifecycleError as error:
                event(f"refused: {error.code}")  # expected for many states
                assert len(live.lead_events(lead_id)) == recorded_before, "a refusal recorded"
            else:
                event(f"recorded: {step['type']}")
        lead = live.record(
            Submission(str(lead_id), {"type": "touched", "kind": "page_view"}, "prop")
        ).lead
        events = live.lead_events(lead_id)
        event(f"final stage: {lead.stage.value}")
        assert_consistent(lead, events)

        fresh = LeadLedger(persistence_env(url), rules=Rulebook(), clock=clock.now)
        assert state(fresh.find(str(lead_id))) == state(lead)
        latest = max(each.occurred_at for each in events)
        assert state(fold_as_of(fresh.lead_events(lead_id), latest)) == state(lead)
    finally:
        live.close()
        if fresh is not None:
            fresh.close()


@settings(max_examples=60, deadline=None)
@given(example_steps=scenario(), contact=contacts)
def test_any_sequence_of_activities_keeps_the_lead_consistent_and_replays_to_the_same_state(
    tmp_path_factory: pytest.TempPathFactory, example_steps: list[Step], contact: dict[str, Any]
) -> None:
    database = tmp_path_factory.mktemp("example") / "lifecycle.db"
    run_example(f"sqlite:///{database}", example_steps, contact)
