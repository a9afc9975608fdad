"""What a lead is told when it is created (`ContactDetails`), what `updated` may change
(`UPDATABLE`) and what a touch carries (`Touch`)."""

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

    @classmethod
    def of(cls, lead: object) -> ContactDetails:
        """The details a lead (or anything with these attributes) holds now."""
        return cls(**{name: getattr(lead, name) for name in cls.__dataclass_fields__})


# What an `updated` activity may change: everything but where the lead came from (source,
# campaign, channel: its first touch) and the sender's id for it.
UPDATABLE = tuple(
    name
    for name in ContactDetails.__dataclass_fields__
    if name not in ("source", "campaign", "channel", "external_id")
)


@dataclass(frozen=True)
class Touch:
    kind: TouchKind
    source: str | None = None
    campaign: str | None = None
    content: str | None = None
    url: str | None = None
