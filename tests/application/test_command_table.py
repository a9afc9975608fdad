"""The command table (`app.activities`): every activity type clients send is one model with its
handler, and everything else (the names, the parser, the OpenAPI schemas) derives from it."""

from __future__ import annotations

import re
from pathlib import Path

from lifecycle.app import activities
from lifecycle.app.activities import CLIENT_ACTIVITIES, MODELS, LeadActivity, parse_activity
from lifecycle.domain.machine import TIMER_ACTIVITIES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "activities.md"


def test_every_activity_on_a_lead_has_its_own_handler():
    for model in MODELS:
        if model is activities.Created:
            assert not issubclass(model, LeadActivity)  # the batch creates (or deduplicates)
            continue
        assert issubclass(model, LeadActivity), model
        assert "apply" in vars(model), f"{model.__name__} has no handler"


def test_the_type_names_are_the_models_in_table_order():
    assert CLIENT_ACTIVITIES[0] == "created"
    assert len(set(CLIENT_ACTIVITIES)) == len(MODELS) == 18
    for name, model in zip(CLIENT_ACTIVITIES, MODELS, strict=True):
        assert parse_activity({"type": name, **_required(name)}).__class__ is model


def test_the_documented_activities_are_the_table_and_the_timers():
    documented = set(re.findall(r"^\| `(\w+)` \|", DOCS.read_text(), flags=re.M))
    assert set(CLIENT_ACTIVITIES) <= documented
    assert not (set(TIMER_ACTIVITIES) & set(CLIENT_ACTIVITIES))


def _required(name: str) -> dict[str, object]:
    return {
        "attempted": {"channel": "call"},
        "disqualified": {"reason": "no budget"},
        "passed": {"to_owner": "sam"},
        "opportunity_created": {"amount": "10"},
        "won": {"amount": "10"},
        "touched": {"kind": "page_view"},
    }.get(name, {})


def test_a_lead_activity_without_a_handler_cannot_be_made():
    class Handlerless(LeadActivity):
        pass

    try:
        Handlerless()
    except TypeError as error:
        assert "apply" in str(error)
    else:
        raise AssertionError("a lead activity without `apply` was made")
