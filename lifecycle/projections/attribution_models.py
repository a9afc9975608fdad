"""Attribution models: how one converting lead shares 1.0 of credit among its touches.

A lead reaches a goal (created, MQL, opportunity, customer) at `goal_at`. Only the touches at or
before `goal_at` are *eligible*; they are taken in chronological order, and touches at the same
instant keep the order in which they were given. `credit` returns one weight per eligible touch,
in that order; the weights are never negative and sum to 1.0. No eligible touch: no weights (`[]`).

### Models

- `first_touch`: 100% to the first eligible touch.
- `last_touch`: 100% to the last eligible touch (the conversion touch).
- `linear`: the same share to every eligible touch.
- `u_shaped`: 40% first touch, 40% conversion touch, 20% spread equally over the touches between.
- `w_shaped`: 30% first touch, 30% middle anchor, 30% conversion touch, 10% spread equally over
  the other touches.
- `full_path`: 22.5% to each of four anchors (first touch, lead creation, opportunity creation,
  conversion touch), 10% spread equally over the other touches ("22.5 x 4 + 10").
- `time_decay`: weight `2 ** (-age / half_life)` with `age = goal_at - occurred_at` (half-life
  7 days by default), normalized.

The *conversion touch* is the last eligible touch. The *lead-creation touch* is the last touch at
or before `milestones.created_at`; the *opportunity-creation touch* is the last touch at or before
`milestones.opportunity_at`. U-shaped anchors on the first and the conversion touch, so that five
touches give 40 / 6.67 / 6.67 / 6.67 / 40. The W-shaped *middle anchor* is the lead-creation touch
when it lies strictly between the first and the conversion touch; otherwise it is the chronological
middle touch, index `(n - 1) // 2` (the lower middle on even counts). Five touches give
30 / 5 / 30 / 5 / 30. Time decay: touches 14, 7 and 0 days before the goal with a 7-day half-life
give 14.29% / 28.57% / 57.14%.

### Edge cases

Every position model (all but time decay) is a set of *anchor* touches with a share each and a
share for the *other* touches, spread equally. One rule covers every edge case: **each distinct
anchor touch gets its anchor share once, the others split the rest, and the weights are then scaled
to sum to 1.0**, so the ratios the model states are kept.

- **No eligible touch**: `[]`. Touches after `goal_at` are ignored by every model.
- **One touch**: it is every anchor at once and gets 100% in every model.
- **Two touches**: U, W and full path all give 50 / 50. Both touches are anchors (first and
  conversion), no touch is left for the "rest" share, and anchors weigh the same.
- **Coinciding anchors** (e.g. the lead-creation touch is also the first touch): the roles merge.
  The touch gets one anchor share, not two, and the share left unassigned is spread by the scaling,
  in proportion. Full path over five touches with lead creation on the first touch and opportunity
  creation on the fourth: 29.03 / 6.45 / 6.45 / 29.03 / 29.03 (9/31 per anchor, 2/31 per other).
- **Fewer touches than anchor roles** (W or full path with three touches, full path with four):
  every touch is an anchor, so the touches share equally (1/3 each; 1/4 each).
- **A milestone with no touch at or before it** (or none recorded): that anchor role is vacant.
  Full path drops it; W-shaped falls back to the chronological middle touch.
- **Ties on `occurred_at`**: the given order decides, so of two touches at the same instant the
  later-listed is the "last" (conversion, lead creation).
- **Time decay** only depends on the gaps between touches: moving the goal later scales every
  weight by the same factor, which the normalization removes. `half_life` must be positive.

### Conversion assists

`assists` names the content items of the eligible touches other than the converting touch's own
content: content seen on the way to the goal. Touches without content are skipped, and a content
item that is also the converting touch's content is not its own assist.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


class Model(Enum):
    FIRST_TOUCH = "first_touch"
    LAST_TOUCH = "last_touch"
    LINEAR = "linear"
    U_SHAPED = "u_shaped"
    W_SHAPED = "w_shaped"
    FULL_PATH = "full_path"
    TIME_DECAY = "time_decay"


@dataclass(frozen=True)
class Touch:
    """One marketing interaction of a lead."""

    occurred_at: datetime
    source: str | None
    campaign: str | None
    content: str | None


@dataclass(frozen=True)
class Milestones:
    """When the lead reached each stage of the funnel (None: not yet)."""

    created_at: datetime
    mql_at: datetime | None = None
    opportunity_at: datetime | None = None
    customer_at: datetime | None = None


@dataclass(frozen=True)
class _Shape:
    """A position model: the share of each anchor touch and the share of all the other touches."""

    anchor_share: float
    rest_share: float


_SHAPES = {
    Model.FIRST_TOUCH: _Shape(anchor_share=1.0, rest_share=0.0),
    Model.LAST_TOUCH: _Shape(anchor_share=1.0, rest_share=0.0),
    Model.LINEAR: _Shape(anchor_share=0.0, rest_share=1.0),
    Model.U_SHAPED: _Shape(anchor_share=0.4, rest_share=0.2),
    Model.W_SHAPED: _Shape(anchor_share=0.3, rest_share=0.1),
    Model.FULL_PATH: _Shape(anchor_share=0.225, rest_share=0.1),
}

DEFAULT_HALF_LIFE = timedelta(days=7)


def eligible(touches: Sequence[Touch], goal_at: datetime) -> list[Touch]:
    """The touches at or before `goal_at`, oldest first; ties keep their given order."""
    return sorted((t for t in touches if t.occurred_at <= goal_at), key=_when)


def credit(
    model: Model,
    touches: Sequence[Touch],
    goal_at: datetime,
    milestones: Milestones,
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> list[float]:
    """One weight per touch of `eligible(touches, goal_at)`, summing to 1.0 (or `[]`)."""
    if half_life <= timedelta(0):
        raise ValueError(f"half_life must be positive, got {half_life}")
    path = eligible(touches, goal_at)
    if not path:
        return []
    if model is Model.TIME_DECAY:
        return _normalized(_decayed(path, half_life))
    anchors = _anchors(model, path, milestones)
    return _normalized(_shaped(_SHAPES[model], len(path), anchors))


def assists(touches: Sequence[Touch], goal_at: datetime) -> set[str]:
    """The content items seen before converting, other than the converting touch's content."""
    path = eligible(touches, goal_at)
    if not path:
        return set()
    seen = {t.content for t in path[:-1] if t.content is not None}
    return seen - {path[-1].content}


def _when(touch: Touch) -> datetime:
    return touch.occurred_at


def _anchors(model: Model, path: list[Touch], milestones: Milestones) -> set[int]:
    first, last = 0, len(path) - 1
    if model is Model.FIRST_TOUCH:
        return {first}
    if model is Model.LAST_TOUCH:
        return {last}
    if model is Model.U_SHAPED:
        return {first, last}
    if model is Model.W_SHAPED:
        return {first, _middle_anchor(path, milestones.created_at), last}
    if model is Model.FULL_PATH:
        return {first, last} | _touches_before(
            path, milestones.created_at, milestones.opportunity_at
        )
    return set()  # linear: no anchors, every touch shares the rest


def _middle_anchor(path: list[Touch], created_at: datetime) -> int:
    creation = _last_at_or_before(path, created_at)
    if creation is not None and 0 < creation < len(path) - 1:
        return creation
    return (len(path) - 1) // 2


def _touches_before(path: list[Touch], *milestones: datetime | None) -> set[int]:
    """The last touch at or before each milestone that has one."""
    found = (_last_at_or_before(path, at) for at in milestones if at is not None)
    return {index for index in found if index is not None}


def _last_at_or_before(path: list[Touch], moment: datetime) -> int | None:
    index = bisect_right(path, moment, key=_when) - 1
    return index if index >= 0 else None


def _shaped(shape: _Shape, count: int, anchors: set[int]) -> list[float]:
    others = count - len(anchors)
    each_other = shape.rest_share / others if others else 0.0
    return [shape.anchor_share if i in anchors else each_other for i in range(count)]


def _decayed(path: list[Touch], half_life: timedelta) -> list[float]:
    # Ages count from the newest touch, not from goal_at: the normalization makes it the same,
    # and the newest touch weighs 1.0, so old paths cannot underflow to an all-zero sum.
    newest = path[-1].occurred_at
    return [2.0 ** -((newest - t.occurred_at) / half_life) for t in path]


def _normalized(weights: list[float]) -> list[float]:
    total = math.fsum(weights)
    return [w / total for w in weights]
