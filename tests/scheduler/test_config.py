"""The rulebook from TOML: the example loads, defaults apply, and every mistake names its key."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from helpers import ManualClock, given_lead, when

from lifecycle.bootstrap import Settings, load_rules
from lifecycle.config import ConfigError, load_rulebook, rulebook_from_toml
from lifecycle.domain.rules import Rulebook
from lifecycle.domain.values import TouchKind

if TYPE_CHECKING:
    from conftest import Timers  # tests/scheduler/conftest.py

EXAMPLE = Path(__file__).parents[2] / "config" / "example.toml"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def example() -> Rulebook:
    return load_rulebook(EXAMPLE)


def test_the_example_configuration_loads(example: Rulebook) -> None:
    assert example.version == "2026-03-example"
    assert example.sla.first_attempt_business_hours == 4
    assert example.sla.mql_follow_up == timedelta(hours=24)
    assert (example.sla.cadence_attempts, example.sla.cadence_window) == (5, timedelta(days=14))
    assert example.sla.auto_nurture == timedelta(days=21)
    assert example.sla.passed_follow_up == timedelta(days=3)
    assert example.sla.opt_out_expiry == timedelta(days=30)
    assert example.future_tolerance == timedelta(minutes=5)


def test_the_example_defines_team_calendars_with_regional_holidays(example: Rulebook) -> None:
    emea = example.sla.calendars["emea"]
    assert (emea.timezone, emea.country, emea.subdivision) == ("Europe/Berlin", "DE", "BY")
    assert example.sla.calendars["na"].opens == time(8, 30)
    assert example.routing.team("emea_bdr").calendar == "emea"


def test_the_example_routing_and_scoring_are_read(example: Rulebook) -> None:
    assert example.routing.account_owners == {"initech": "senior-am-1"}
    assert "walmart" in example.routing.fortune_500
    assert example.scoring.mql_threshold == 20
    assert example.scoring.touch_points[TouchKind.DEMO_REQUEST] == 15
    assert example.scoring.size_points == ((1000, 10), (200, 6), (50, 3))
    assert example.scoring.industry_points["financial services"] == 3


def test_without_a_file_the_built_in_defaults_apply() -> None:
    assert load_rules(Settings(config_path=None)) == Rulebook()


def test_a_file_with_only_a_version_keeps_every_default() -> None:
    rules = rulebook_from_toml('version = "v2"')

    assert rules == Rulebook(version="v2")


def test_the_default_phone_region_is_us_and_may_be_set_in_any_case(example: Rulebook) -> None:
    assert Rulebook().phone_region == "US"
    assert example.phone_region == "US"
    assert rulebook_from_toml(V + '[contact]\ndefault_phone_region = "gb"').phone_region == "GB"


def test_a_touch_kind_left_out_keeps_its_default_points() -> None:
    rules = rulebook_from_toml('version = "v2"\n[scoring.touch_points]\ndemo_request = 30\n')

    assert rules.scoring.touch_points[TouchKind.DEMO_REQUEST] == 30
    assert rules.scoring.touch_points[TouchKind.WEBINAR] == 8


def test_durations_may_be_given_in_days_hours_or_minutes() -> None:
    rules = rulebook_from_toml(
        'version = "v2"\n[sla.mql_follow_up]\nminutes = 90\n[sla.auto_nurture]\nhours = 36.5\n'
    )

    assert rules.sla.mql_follow_up == timedelta(minutes=90)
    assert rules.sla.auto_nurture == timedelta(hours=36.5)


# --------------------------------------------------------------------- bad configuration
V = 'version = "v1"\n'
BAD = {
    "no version": ("[sla.auto_nurture]\ndays = 21", "version: required"),
    "negative business hours": (
        V + "[sla.first_attempt]\nbusiness_hours = -4",
        "sla.first_attempt.business_hours: must be a positive number",
    ),
    "business hours as text": (
        V + '[sla.first_attempt]\nbusiness_hours = "4"',
        "sla.first_attempt.business_hours: must be a positive number",
    ),
    "unknown policy": (
        V + "[sla.first_atempt]\nbusiness_hours = 4",
        "sla.first_atempt: unknown policy",
    ),
    "typo in a key": (V + "[sla.auto_nurture]\ndayz = 21", "sla.auto_nurture.dayz: unknown key"),
    "two units": (
        V + "[sla.auto_nurture]\ndays = 21\nhours = 3",
        "sla.auto_nurture.hours: give one",
    ),
    "zero attempts": (
        V + "[sla.cadence]\nattempts = 0",
        "sla.cadence.attempts: must be at least 1",
    ),
    "unknown time zone": (
        V + '[calendars.emea]\ntimezone = "Europe/Atlantis"',
        "calendars.emea.timezone: 'Europe/Atlantis' is not a known IANA time zone",
    ),
    "no time zone": (V + '[calendars.emea]\nopens = "09:00"', "calendars.emea.timezone: required"),
    "closing before opening": (
        V + '[calendars.emea]\ntimezone = "UTC"\nopens = "18:00"\ncloses = "09:00"',
        "calendars.emea.opens (18:00:00) must be before closes",
    ),
    "bad opening time": (
        V + '[calendars.emea]\ntimezone = "UTC"\nopens = "nine"',
        "calendars.emea.opens: must be a wall-clock time",
    ),
    "unknown weekday": (
        V + '[calendars.emea]\ntimezone = "UTC"\nworking_days = ["mon", "funday"]',
        "calendars.emea.working_days: 'funday' is not a weekday",
    ),
    "unknown country": (
        V + '[calendars.emea]\ntimezone = "UTC"\ncountry = "XX"',
        "calendars.emea.country: no public holidays known for 'XX'",
    ),
    "unknown subdivision": (
        V + '[calendars.emea]\ntimezone = "UTC"\ncountry = "DE"\nsubdivision = "ZZ"',
        "calendars.emea.subdivision: DE has no subdivision 'ZZ'",
    ),
    "team without members": (
        V + '[[routing.teams]]\nname = "na_bdr"\nmembers = []',
        "routing.teams[0].members: a team needs at least one member",
    ),
    "team on an unknown calendar": (
        V + '[[routing.teams]]\nname = "na_bdr"\nmembers = ["a"]\ncalendar = "mars"',
        "routing.teams[0].calendar: no calendar 'mars'",
    ),
    "routing to a missing team": (
        V + '[routing]\nemea_team = "emea_sdr"',
        "routing.emea_team: no team named 'emea_sdr'",
    ),
    "threshold as a boolean": (
        V + "[scoring]\nmql_threshold = true",
        "scoring.mql_threshold: must be a whole number",
    ),
    "unknown touch kind": (
        V + "[scoring.touch_points]\ntweet = 3",
        "scoring.touch_points.tweet: 'tweet' is not a touch kind",
    ),
    "bad size points": (
        V + "[scoring]\nsize_points = [[1000]]",
        "scoring.size_points: must be a list",
    ),
    "unknown section": (V + "[alerts]\nemail = true", "alerts: unknown key"),
    "unknown phone region": (
        V + '[contact]\ndefault_phone_region = "XX"',
        "contact.default_phone_region: must be an ISO 3166-1 region code such as",
    ),
    "phone region as a country name": (
        V + '[contact]\ndefault_phone_region = "Germany"',
        "contact.default_phone_region: must be an ISO 3166-1 region code",
    ),
    "phone region as a number": (
        V + "[contact]\ndefault_phone_region = 44",
        "contact.default_phone_region: must be an ISO 3166-1 region code",
    ),
}


@pytest.mark.parametrize("toml, message", BAD.values(), ids=BAD.keys())
def test_bad_configuration_fails_with_a_message_naming_the_key(toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        rulebook_from_toml(toml)

    assert str(error.value).startswith(message)


def test_invalid_toml_fails_with_the_position_of_the_mistake() -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 2"):
        rulebook_from_toml('version = "v1"\n[sla\n')


def test_a_missing_file_fails_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read"):
        load_rulebook(tmp_path / "missing.toml")


def test_errors_from_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('version = "v1"\n[sla.first_attempt]\nbusiness_hours = 0\n')

    with pytest.raises(
        ConfigError, match=r"^sla\.first_attempt\.business_hours: .* \(in .*rules\.toml\)$"
    ):
        load_rulebook(path)


# ------------------------------------------------------------------------- in the ledger
def test_events_record_the_configuration_version_that_computed_them(
    timers: Timers, example: Rulebook
) -> None:
    timers.ledger.rules = example
    lead = given_lead(timers.ledger)

    recorded = when(timers.ledger, lead, "assigned", owner="emea-bdr-1")

    assert recorded.events[0].rules_version == "2026-03-example"  # type: ignore[attr-defined]


def test_the_first_attempt_deadline_follows_the_owners_team_calendar(
    timers: Timers, clock: ManualClock, example: Rulebook
) -> None:
    """Friday 22 May 2026, 16:00 in Berlin + 4 business hours: Monday is Whit Monday."""
    timers.ledger.rules = example
    clock.current = datetime(2026, 5, 22, 16, tzinfo=BERLIN)
    lead = given_lead(timers.ledger)
    when(timers.ledger, lead, "assigned", owner="emea-bdr-1")
    due = datetime(2026, 5, 26, 12, tzinfo=BERLIN)

    clock.current = due - timedelta(minutes=1)
    assert timers.tick() == 0
    clock.current = due
    assert timers.tick() == 1
    assert timers.ledger.find(lead).deadlines == {}
    breach = timers.ledger.lead_events(timers.ledger.find(lead).id)[-1]
    assert breach.occurred_at == due.astimezone(UTC)
