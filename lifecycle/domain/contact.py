"""What a lead is told when it is created (`ContactDetails`) and what a touch carries (`Touch`)."""

from __future__ import annotations

from dataclasses import dataclass

from .values import Region, TouchKind


@dataclass(frozen=True)
class ContactDetails:
    """The fields of a `created` activity."""

    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    country: str | None = None
    region: Region | None = None
    employees: int | None = None
    industry: str | None = None
    source: str | None = None
    campaign: str | None = None
    channel: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class Touch:
    kind: TouchKind
    source: str | None = None
    campaign: str | None = None
    content: str | None = None
    url: str | None = None
