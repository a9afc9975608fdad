"""The read models behind the reports, as the projections the runner keeps up to date."""

from __future__ import annotations

from ..domain.rules import Rulebook
from .clocks import SlaClocks
from .facts import LeadFacts
from .protocol import Projection
from .touches import Touches


def read_models(rules: Rulebook | None = None) -> list[Projection]:
    """Every projection the reports read (the cadence rule decides late SLA corrections)."""
    cadence = (rules or Rulebook()).sla.cadence_attempts
    return [LeadFacts(), Touches(), SlaClocks(cadence_attempts=cadence)]
