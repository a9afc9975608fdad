"""Attribution models: how one converting lead shares 1.0 of credit among its touches.

A lead reaches a goal (created, MQL, opportunity, customer) at `goal_at`. Only the touches at or
before `goal_at` are *eligible*; they are taken in chronological order, and touches at the same
instant keep the order in which they were given. `credit` returns one weight per eligible touch,
in that order; the weights are never negative and sum to 1.0. No eligible touch: no weights (`[]`).

### Models (HubSpot's definitions)

- `first_touch`: 100% to the first eligible touch.
- `last_touch`: 100% to the last eligible touch (the conversion touch).
- `linear`: `1/n` to each of the `n` eligible touches.
- `u_shaped`: 40% first touch, 40% lead-creation touch, 20% spread equally over the other touches.
- `w_shaped`: 30% first touch, 30% lead-creation touch, 30% opportunity-creation touch, 10% spread
  equally over the other touches.
- `full_path`: 22.5% to each of four anchors (first touch, lead-creation touch, opportunity-creation
  touch, closing touch), 10% spread equally over the other touches ("22.5 x 4 + 10").
- `time_decay`: weight `2 ** (-age / half_life)` with `age = goal_at - occurred_at` (half-life
  7 days by default), normalized.

The *roles* (HubSpot's "key conversion points") are found among the eligible touches:

- *first touch*: the first eligible touch;
- *lead-creation touch*: the last touch at or before `milestones.created_at`. In the reports this
  is the lead's `created` inquiry, which is a touch at that very instant (HubSpot: "the last
  interaction before they were converted to a contact"); a touch at the same instant recorded
  after it would take the role (see ties);
- *opportunity-creation touch*: the last touch at or before `milestones.opportunity_at` (HubSpot:
  "the last interaction before a deal was associated");
- *closing touch* (full path only): the last eligible touch, i.e. the conversion touch.

A role whose milestone is not reached by `goal_at` (no opportunity yet, or the goal comes before
it, e.g. W-shaped for the `created` or `mql` goal) or that has no touch at or before its
milestone is *vacant*.

Worked example (the issue's): touches organic (first) -> webinar (the `created` inquiry) ->
content -> paid (the last touch before the opportunity was created) -> email, goal customer,
won 1000:

| model     | organic | webinar | content | paid   | email  |
|-----------|---------|---------|---------|--------|--------|
| W-shaped  | 300     | 300     | 50      | 300    | 50     |
| U-shaped  | 400     | 400     | 66.67   | 66.67  | 66.67  |
| full path | 225     | 225     | 100     | 225    | 225    |
| linear    | 200     | 200     | 200     | 200    | 200    |

Time decay: touches 14, 7 and 0 days before the goal with a 7-day half-life give
14.29% / 28.57% / 57.14%.

### Edge cases

Every position model (all but time decay) is a set of *anchor* touches (the touches holding a
role) with a share each and a share for the *other* touches, spread equally. HubSpot does not
publish what happens when roles coincide, are vacant or outnumber the touches, so one rule covers
every such case: **each distinct anchor touch gets its anchor share once, the others split the
rest share equally, and the weights are then scaled to sum to 1.0**, so the ratios the model
states are kept. In formula: with `a` distinct anchor touches of share `A` and `m` other touches
splitting `R`, an anchor weighs `A / (a*A + R)` and another touch `(R/m) / (a*A + R)` (`R` is
0 when `m` is 0).

- **No eligible touch**: `[]`. Touches after `goal_at` are ignored by every model.
- **One touch**: it is every anchor at once and gets 100% in every model.
- **Coinciding roles** (e.g. the `created` inquiry is also the first touch, the usual case): the
  roles merge. The touch gets one anchor share, not two, and the share left unassigned is spread
  by the scaling, in proportion. U-shaped over five touches with lead creation on the first:
  0.4 and 4 x 0.05, scaled by 1/0.6: 66.67 / 8.33 / 8.33 / 8.33 / 8.33. Full path over five
  touches with lead creation on the first touch and opportunity creation on the fourth:
  29.03 / 6.45 / 6.45 / 29.03 / 29.03 (9/31 per anchor, 2/31 per other).
- **Vacant roles**: the role is dropped and the rest is scaled the same way. W-shaped over five
  touches, lead creation on the second, no opportunity: 0.3, 0.3 and 3 x 1/30, scaled by 1/0.7:
  42.86 / 42.86 / 4.76 / 4.76 / 4.76.
- **Fewer touches than roles** (two touches in U-shaped, three in W-shaped, four in full path, when
  every touch holds a role): no touch is left for the rest share and the anchors weigh the same,
  so the touches share equally (50 / 50; 1/3 each; 1/4 each).
- **Ties on `occurred_at`**: the given order decides, so of two touches at the same instant the
  later-listed is the "last" (conversion, lead creation, opportunity creation).
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
    anchors = _anchors(model, path, goal_at, milestones)
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


def _anchors(
    model: Model, path: list[Touch], goal_at: datetime, milestones: Milestones
) -> set[int]:
    first, last = 0, len(path) - 1
    if model is Model.FIRST_TOUCH:
        return {first}
    if model is Model.LAST_TOUCH:
        return {last}
    if model is Model.LINEAR:
        return set()  # no anchors: every touch shares the rest
    creation = _role(path, milestones.created_at, goal_at)
    if model is Model.U_SHAPED:
        return {first} | creation
    opportunity = _role(path, milestones.opportunity_at, goal_at)
    if model is Model.W_SHAPED:
        return {first} | creation | opportunity
    return {first, last} | creation | opportunity  # full path


def _role(path: list[Touch], milestone: datetime | None, goal_at: datetime) -> set[int]:
    """The last touch at or before `milestone`; none if it is vacant (see the docstring)."""
    if milestone is None or milestone > goal_at:
        return set()
    index = _last_at_or_before(path, milestone)
    return set() if index is None else {index}


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
