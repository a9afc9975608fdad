"""Decodes stored lead events for projections, faster than the general mapper.

Replay speed is decoding speed: the mapper hands the whole state to the transcoder, whose
generic walk calls a Python function per marked value, and the `Enum` call it ends in is slow.
Lead events are flat dicts whose marked values (times, statuses, stages, money) sit at the top
level or one dict down (the deadlines), so this decoder walks exactly that shape with direct
lookups (`fromisoformat`, an enum's value map).

It only takes over when that is safe: no cipher or compressor on the mapper, and a transcoder
that, asked through its public `encode`, names each type the way this decoder expects (so a
changed registration falls back instead of misreading). Events of classes with a
`class_version` above 1 (upcasting), or with an unexpected marked value, go through the mapper.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from types import UnionType
from typing import Any, ClassVar, Union, cast, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import resolve_topic

from ..domain.lead import Lead
from ..domain.values import ALL_ENUMS

_TYPE, _DATA = "_type_", "_data_"
Decode = Callable[[Any], Any]


class _Unknown(Exception):
    """A marked value this decoder has no fast path for."""


class EventDecoder:
    """`decode(originator_id, version, topic, state) -> Lead.Event`."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self._decoders = _fast_decoders(mapper)
        self._classes: dict[str, type[Lead.Event] | None] = {}
        # Per topic: the fields that always hold JSON values (skipped), from the annotations.
        self._plain: dict[str, frozenset[str]] = {}

    def decode(self, originator_id: UUID, version: int, topic: str, state: bytes) -> Lead.Event:
        cls = self._classes[topic] if topic in self._classes else self._class(topic)
        if cls is not None:
            try:
                fields = self._fields(orjson.loads(state), self._plain[topic])
            except (_Unknown, KeyError, TypeError, ValueError):
                pass  # not the shape this decoder knows: the mapper decodes it
            else:
                fields["originator_id"] = originator_id
                fields["originator_version"] = version
                event = object.__new__(cls)
                object.__setattr__(event, "__dict__", fields)
                return event
        stored = StoredEvent(originator_id, version, topic, bytes(state))
        return cast(Lead.Event, self.mapper.to_domain_event(stored))

    def _class(self, topic: str) -> type[Lead.Event] | None:
        """The event class for a topic, or None when the mapper must decode it."""
        if topic not in self._classes:
            cls = resolve_topic(topic)
            fast = isinstance(cls, type) and issubclass(cls, Lead.Event) and bool(self._decoders)
            self._classes[topic] = cls if fast and getattr(cls, "class_version", 1) == 1 else None
            self._plain[topic] = _plain_fields(cls) if self._classes[topic] else frozenset()
        return self._classes[topic]

    def _fields(self, state: dict[str, Any], plain: frozenset[str]) -> dict[str, Any]:
        """Decodes marked values in place: top level, and one dict down (the deadlines).

        Fields annotated as plain JSON values (str, int, bool, float or None) are not looked
        at. A marked value this decoder does not know raises KeyError, a marked container
        TypeError or ValueError: the caller falls back to the mapper.
        """
        decoders = self._decoders
        if "class_version" in state:
            raise _Unknown("class_version")
        for key in state.keys() - plain:
            value = state[key]
            kind = type(value)
            if kind is dict:
                if _TYPE in value:
                    state[key] = decoders[value[_TYPE]](value[_DATA])
                else:
                    state[key] = {
                        k: decoders[v[_TYPE]](v[_DATA]) if type(v) is dict else _scalar(v)
                        for k, v in value.items()
                    }
            elif kind is list:
                raise _Unknown(key)
        return state


_JSON_TYPES = frozenset({str, int, bool, float, type(None)})


def _plain_fields(cls: type) -> frozenset[str]:
    """The instance fields of `cls` annotated with JSON types only (never marked)."""
    try:
        hints = get_type_hints(cls)
    except Exception:  # unresolvable annotations: look at every field
        return frozenset()
    plain = set()
    for name, hint in hints.items():
        if get_origin(hint) is ClassVar:
            continue
        options = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
        if all(option in _JSON_TYPES for option in options):
            plain.add(name)
    return frozenset(plain)


def _scalar(value: Any) -> Any:
    if type(value) is list:
        raise _Unknown("list")
    return value


def _fast_decoders(mapper: Mapper[Any]) -> dict[str, Decode]:
    """Type name -> fast decoder, for the types the transcoder marks as expected; {} if unsafe."""
    if mapper.cipher is not None or mapper.compressor is not None:
        return {}
    samples: list[tuple[Any, Decode]] = [
        (datetime(2026, 1, 5, 9, 30, 1, 5, tzinfo=UTC), datetime.fromisoformat),
        (date(2026, 1, 5), date.fromisoformat),
        (Decimal("12.50"), Decimal),
        (UUID(int=7), UUID),
        *((_member(enum), _by_value(enum)) for enum in ALL_ENUMS),
    ]
    decoders: dict[str, Decode] = {}
    for sample, decode in samples:
        try:
            marked = orjson.loads(mapper.transcoder.encode({"v": sample}))["v"]
        except Exception:  # any failure means: no fast path for this type
            continue
        if type(marked) is dict and set(marked) == {_TYPE, _DATA}:
            name, data = marked[_TYPE], marked[_DATA]
            if type(data) is not dict and decode(data) == sample:
                decoders[name] = decode
    return decoders


def _member(enum: type[Enum]) -> Enum:
    return next(iter(enum))


def _by_value(enum: type[Enum]) -> Decode:
    return enum._value2member_map_.__getitem__
