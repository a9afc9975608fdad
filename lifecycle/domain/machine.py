"""The lead status machine: which activity may move a lead from which status, and where to.

The transitions are exactly the table of docs/activities.md. Stage rules (`accepted` after
`passed`, `won` only for an open opportunity…) are checked by the aggregate, not here: this
machine knows statuses only. Replay never runs it: appliers copy the status carried by events.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from statemachine import Event, State, StateMachine
from statemachine.exceptions import TransitionNotAllowed as _NotAllowed

from .errors import TransitionNotAllowed
from .values import Status


def _stay(*states: State) -> Any:
    """Allowed in these states; the status does not change."""
    transitions: Any = states[0].to.itself(internal=True)
    for state in states[1:]:
        transitions |= state.to.itself(internal=True)
    return transitions


def _into(target: State, *sources: State) -> Any:
    transitions: Any = sources[0].to(target)
    for source in sources[1:]:
        transitions |= source.to(target)
    return transitions


class StatusMachine(StateMachine):
    raw = State(value=Status.RAW, initial=True)
    open = State(value=Status.OPEN)
    attempt_1 = State(value=Status.ATTEMPT_1)
    attempt_2 = State(value=Status.ATTEMPT_2)
    attempt_3 = State(value=Status.ATTEMPT_3)
    attempt_4 = State(value=Status.ATTEMPT_4)
    progressing = State(value=Status.PROGRESSING)
    qualified = State(value=Status.QUALIFIED)
    unqualified = State(value=Status.UNQUALIFIED)
    nurture = State(value=Status.NURTURE)
    bad_data = State(value=Status.BAD_DATA)

    _all = (
        raw,
        open,
        attempt_1,
        attempt_2,
        attempt_3,
        attempt_4,
        progressing,
        qualified,
        unqualified,
        nurture,
        bad_data,
    )
    _attempts = (attempt_1, attempt_2, attempt_3, attempt_4)

    assign = Event(
        raw.to(open) | _stay(open, *_attempts, progressing, qualified, unqualified, nurture),
        id="assigned",
    )
    attempt = Event(
        open.to(attempt_1)
        | nurture.to(attempt_1)
        | attempt_1.to(attempt_2)
        | attempt_2.to(attempt_3)
        | attempt_3.to(attempt_4)
        | attempt_4.to.itself(internal=True),
        id="attempted",
    )
    respond = Event(_into(progressing, open, *_attempts, nurture, unqualified), id="responded")
    qualify = Event(_into(qualified, open, *_attempts, progressing, nurture), id="qualified")
    disqualify = Event(
        _into(unqualified, open, *_attempts, progressing, nurture), id="disqualified"
    )
    nurture_ = Event(
        _into(nurture, open, *_attempts, progressing, unqualified, qualified), id="nurtured"
    )
    mark_bad_data = Event(_into(bad_data, raw, open, *_attempts), id="bad_data")
    reopen = Event(_into(open, unqualified, nurture, bad_data), id="reopened")
    pass_ = Event(_stay(qualified), id="passed")
    accept = Event(_stay(qualified), id="accepted")
    open_opportunity = Event(_stay(*_all), id="opportunity_created")
    win = Event(_stay(*_all), id="won")
    lose = Event(_into(nurture, *_all), id="lost")
    touch = Event(_stay(*_all), id="touched")
    update = Event(
        _stay(raw, open, *_attempts, progressing, qualified, unqualified, nurture), id="updated"
    )
    opt_out = Event(_stay(*_all), id="opted_out")
    opt_in = Event(_stay(*_all), id="opted_in")
    # Timer activities: recorded only by the scheduler.
    auto_nurture = Event(_into(nurture, *_attempts), id="auto_nurtured")
    breach = Event(_stay(*_all), id="sla_breached")
    escalate = Event(_stay(*_all), id="escalated")
    expire_opt_out = Event(_stay(*_all), id="opt_out_expired")

    del _all, _attempts


class _Holder:
    """The model the machine reads and writes its status on."""

    def __init__(self, status: Status) -> None:
        self.status = status


TIMER_ACTIVITIES = ("auto_nurtured", "sla_breached", "escalated", "opt_out_expired")


@cache
def _table() -> dict[tuple[Status, str], Status]:
    table: dict[tuple[Status, str], Status] = {}
    for state in StatusMachine.states:
        for transition in state.transitions:
            for event_id in str(transition.events).split():
                table[(transition.source.value, event_id)] = transition.target.value
    return table


def activities() -> tuple[str, ...]:
    """Every activity the machine knows, client and timer, in declaration order."""
    events: Iterable[Event] = getattr(StatusMachine, "events")  # noqa: B009 - untyped on the class
    return tuple(event.id for event in events)


def allowed_from(status: Status) -> tuple[str, ...]:
    """The activities the machine allows in `status`, in declaration order."""
    table = _table()
    return tuple(name for name in activities() if (status, name) in table)


def next_status(status: Status, activity: str) -> Status:
    """The status after `activity`, or `TransitionNotAllowed`."""
    result = _run_machine(status, activity)
    if result is None:
        raise TransitionNotAllowed(
            f"{activity} is not allowed when the lead is {status.value}",
            status=status.value,
        )
    return result


@cache
def _run_machine(status: Status, activity: str) -> Status | None:
    """Runs the machine from `status`. The machine has no guards or side effects, so each
    (status, activity) answer is computed once and remembered: constructing a machine costs
    ~0.5 ms, too much for bulk imports of tens of thousands of activities a second."""
    holder = _Holder(status)
    machine: Any = StatusMachine(holder, state_field="status")
    try:
        machine.send(activity)
    except _NotAllowed:
        return None
    result: Status = holder.status
    return result


def mermaid() -> str:
    """The status diagram, rendered by python-statemachine."""
    return f"{StatusMachine:mermaid}"
