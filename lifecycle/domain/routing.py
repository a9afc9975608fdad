"""Assignment rules (seed 004, "Inbound Lead Flow"): who owns a lead assigned without an owner.

Rules are tried in order; the first that matches names a team (or an owner). Within a team
members take turns (round-robin), the turn counter being kept by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .values import Region


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple[str, ...]
    calendar: str = "default"


@dataclass(frozen=True)
class Prospect:
    """What routing reads of a lead."""

    company: str | None
    region: Region | None
    employees: int | None


@dataclass(frozen=True)
class Route:
    rule: str
    team: str | None = None
    owner: str | None = None


def _key(company: str | None) -> str:
    return (company or "").strip().lower()


@dataclass(frozen=True)
class RoutingRules:
    teams: tuple[Team, ...] = (
        Team("emea_bdr", ("emea-bdr-1", "emea-bdr-2"), calendar="emea"),
        Team("na_bdr", ("na-bdr-1", "na-bdr-2", "na-bdr-3"), calendar="na"),
        Team("enterprise", ("ent-ae-1", "ent-ae-2"), calendar="na"),
        Team("senior_am", ("senior-am-1",), calendar="na"),
    )
    # company (lower case) → its account owner
    account_owners: dict[str, str] = field(default_factory=dict)
    fortune_500: frozenset[str] = frozenset()
    named_brands: frozenset[str] = frozenset()
    large_account_employees: int = 5000
    emea_team: str = "emea_bdr"
    default_team: str = "na_bdr"
    enterprise_team: str = "enterprise"
    fortune_500_team: str = "senior_am"

    def route(self, prospect: Prospect) -> Route:
        company = _key(prospect.company)
        if company in self.account_owners:
            return Route("account_owner", owner=self.account_owners[company])
        if company in self.fortune_500:
            return Route("fortune_500", team=self.fortune_500_team)
        if prospect.region is Region.EMEA:
            return Route("region_emea", team=self.emea_team)
        if company in self.named_brands or self._is_large(prospect):
            return Route("enterprise", team=self.enterprise_team)
        return Route("default", team=self.default_team)

    def team(self, name: str) -> Team:
        for team in self.teams:
            if team.name == name:
                return team
        raise KeyError(name)

    def team_of(self, owner: str | None) -> Team | None:
        return next((team for team in self.teams if owner in team.members), None)

    def _is_large(self, prospect: Prospect) -> bool:
        return (prospect.employees or 0) >= self.large_account_employees
