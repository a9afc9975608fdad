"""Lead score = demographic fit + behavioural engagement (seed 004: MQL at a score of 20)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .values import TouchKind

_DEFAULT_TOUCH_POINTS = MappingProxyType(
    {
        TouchKind.PAGE_VIEW: 1,
        TouchKind.AD_CLICK: 1,
        TouchKind.EMAIL_CLICK: 3,
        TouchKind.FORM_SUBMISSION: 5,
        TouchKind.CONTENT_DOWNLOAD: 5,
        TouchKind.PRICING_VIEW: 5,
        TouchKind.WEBINAR: 8,
        TouchKind.EVENT: 8,
        TouchKind.DEMO_REQUEST: 15,
    }
)
_DEFAULT_TITLE_POINTS = MappingProxyType(
    {"chief": 10, "vp": 10, "vice president": 10, "head": 8, "director": 8, "manager": 4}
)
_DEFAULT_SIZE_POINTS = ((1000, 10), (200, 6), (50, 3))


@dataclass(frozen=True)
class Profile:
    """The demographic facts the fit score reads."""

    title: str | None = None
    employees: int | None = None
    industry: str | None = None

    @classmethod
    def of(cls, holder: object) -> Profile:
        """The profile of a lead or its contact details (title, employees, industry)."""
        return cls(*(getattr(holder, name) for name in ("title", "employees", "industry")))


@dataclass(frozen=True)
class ScoringPolicy:
    mql_threshold: int = 20
    touch_points: Mapping[TouchKind, int] = field(
        default_factory=lambda: dict(_DEFAULT_TOUCH_POINTS)
    )
    title_points: Mapping[str, int] = field(default_factory=lambda: dict(_DEFAULT_TITLE_POINTS))
    # (minimum employees, points), largest first: the first that matches counts.
    size_points: tuple[tuple[int, int], ...] = _DEFAULT_SIZE_POINTS
    industry_points: Mapping[str, int] = field(default_factory=dict)
    # The inquiry that creates a lead counts as this kind of touch.
    creation_touch: TouchKind = TouchKind.FORM_SUBMISSION

    def fit(self, profile: Profile) -> int:
        return (
            self._title_fit(profile.title)
            + self._size_fit(profile.employees)
            + self.industry_points.get((profile.industry or "").strip().lower(), 0)
        )

    def points(self, kind: TouchKind) -> int:
        return self.touch_points.get(kind, 0)

    def _title_fit(self, title: str | None) -> int:
        words = (title or "").lower()
        matches = [points for key, points in self.title_points.items() if key in words]
        return max(matches, default=0)

    def _size_fit(self, employees: int | None) -> int:
        if employees is None:
            return 0
        return next((points for least, points in self.size_points if employees >= least), 0)
