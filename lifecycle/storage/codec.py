"""The stored form of events: compact JSON read by each class's annotations.

eventsourcing's JSON form marks every value JSON has no type for as `{"_type_": …, "_data_": …}`
and decodes by walking the whole document. For a lead event that is six small objects and a
Python call per marked value: decoding was most of the cost of replaying the log, and the
stored form 60% larger than the data.

`TypedMapper` stores the events of classes whose annotations it understands as plain JSON
(orjson: datetimes and dates as ISO-8601 text, enums by value, UUIDs as text, decimals as
text) and decodes them by the class's annotations: only the fields that need a conversion are
looked at, each with one direct call (`datetime.fromisoformat`, an enum's value map). The
annotations are the schema, so a field keeps its type across a round trip, and the JSON stays
readable by anyone with `jq`.

Events stored earlier in the marked form stay readable: in the compact form every event's
`timestamp` is text, in the marked form an object, and the mapper tells them apart by that
and decodes the marked ones with the transcoder as before. Classes with a field this module
does not understand (a list, `Any`, a dataclass) keep the marked form, as do all events when
the application encrypts or compresses (the compact form is then no faster to read). Events
of a `class_version` above 1 store it and are upcast as eventsourcing does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from types import UnionType
from typing import Any, ClassVar, Generic, Union, cast, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol, TAggregateID
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

Decode = Callable[[Any], Any]
State = dict[str, Any]

_PLAIN = frozenset({str, int, bool, float, type(None)})
_SCALARS: dict[Any, Decode] = {
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    Decimal: Decimal,
    UUID: UUID,
}
_OPTIONS = orjson.OPT_NON_STR_KEYS
_DISCRIMINATOR = "timestamp"  # text in the compact form, a marked object in the other


class Unsupported(TypeError):
    """An annotation this module has no compact form for."""


class Schema:
    """How to decode one event class's compact state: its fields that need a conversion."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.fields: tuple[tuple[str, Decode], ...] = tuple(_converters(cls))
        self._versioned = getattr(cls, "class_version", 1) > 1

    def decode(self, data: bytes) -> State | None:
        """The decoded state, or None when `data` is in the marked form."""
        state: State = orjson.loads(data)
        if type(state.get(_DISCRIMINATOR)) is not str:
            return None
        for name, convert in self.fields:
            value = state.get(name)
            if value is not None:
                state[name] = convert(value)
        return state

    def event(self, data: bytes, originator_id: Any, originator_version: int) -> Any:
        """The event stored as `data` (upcast if an older class version stored it), or None
        when `data` is in the marked form."""
        state = self.decode(data)
        if state is None:
            return None
        state["originator_id"] = originator_id
        state["originator_version"] = originator_version
        if self._versioned or "class_version" in state:
            upcast(self.cls, state)
        event: Any = object.__new__(self.cls)
        object.__setattr__(event, "__dict__", state)
        return event


def encode(state: State) -> bytes:
    """An event's state in the compact form."""
    return orjson.dumps(state, default=_default, option=_OPTIONS)


def schema_of(cls: type) -> Schema | None:
    """The compact schema of an event class, or None if a field's annotation has no compact
    form (or the class has no `timestamp`, which tells the two forms apart)."""
    try:
        schema = Schema(cls)
    except Unsupported:
        return None
    return schema if any(name == _DISCRIMINATOR for name, _ in schema.fields) else None


class TypedMapper(Mapper[TAggregateID], Generic[TAggregateID]):
    """eventsourcing's `Mapper`, storing the compact form where the class allows it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[type, Schema | None] = {}

    @property
    def compact(self) -> bool:
        """Whether this mapper writes the compact form (not with a cipher or a compressor)."""
        return self.cipher is None and self.compressor is None

    def schema(self, cls: type) -> Schema | None:
        """The compact schema of `cls`, None if its events keep the marked form."""
        if not self.compact:
            return None
        if cls not in self._schemas:
            self._schemas[cls] = schema_of(cls)
        return self._schemas[cls]

    def to_stored_event(self, domain_event: DomainEventProtocol[TAggregateID]) -> StoredEvent:
        cls = type(domain_event)
        if self.schema(cls) is None:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(originator_id, originator_version, get_topic(cls), encode(state))

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[TAggregateID]:
        """The event `stored_event` holds; `UnreadableEvent` whatever the reason it cannot
        be read (its topic names no class, its state is not what the class stores)."""
        try:
            return self._decoded(stored_event)
        except Exception as error:
            raise UnreadableEvent(stored_event, error) from error

    def _decoded(self, stored_event: StoredEvent) -> DomainEventProtocol[TAggregateID]:
        cls = resolve_topic(stored_event.topic)
        schema = self.schema(cls)
        event = None
        if schema is not None:
            originator_id = stored_event.originator_id
            convert_id = find_id_convertor(cls, cast(Hashable, type(originator_id)))
            event = schema.event(
                stored_event.state, convert_id(originator_id), stored_event.originator_version
            )
        if event is None:  # stored in the marked form
            event = super().to_domain_event(stored_event)
        missing = required_fields(cls).difference(vars(event))
        if missing:  # valid JSON, but not the event: it would fail where it is applied
            msg = f"the stored state lacks {', '.join(sorted(missing))}"
            raise ValueError(msg)
        return cast(DomainEventProtocol[TAggregateID], event)


class UnreadableEvent(MapperDeserialisationError):
    """A stored event that does not decode: which one (`originator_id`, `originator_version`,
    `topic`) and why (`error`, also its `__cause__`)."""

    def __init__(self, stored_event: StoredEvent, error: BaseException) -> None:
        self.originator_id = stored_event.originator_id
        self.originator_version = stored_event.originator_version
        self.topic = stored_event.topic
        self.error = error
        super().__init__(
            f"the stored event with topic '{self.topic}', originator_id "
            f"'{self.originator_id}' and originator_version {self.originator_version} "
            f"does not decode: {type(error).__name__}: {error}"
        )


@cache
def required_fields(cls: type) -> frozenset[str]:
    """The fields every event of `cls` has once decoded (and upcast): those without a default."""
    if not dataclasses.is_dataclass(cls):
        return frozenset()
    return frozenset(
        each.name
        for each in dataclasses.fields(cls)
        if each.default is dataclasses.MISSING and each.default_factory is dataclasses.MISSING
    )


def upcast(cls: type, state: State) -> None:
    """Brings a state stored by an older `class_version` of `cls` up to date, in place."""
    class_version = getattr(cls, "class_version", 1)
    from_version = state.pop("class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1


def _converters(cls: type) -> list[tuple[str, Decode]]:
    try:
        hints = get_type_hints(cls)
    except Exception as error:
        raise Unsupported(f"unresolvable annotations on {cls.__qualname__}") from error
    found = []
    for name, hint in hints.items():
        if get_origin(hint) is ClassVar or name in ("originator_id", "originator_version"):
            continue
        convert = _converter(hint)
        if convert is not None:
            found.append((name, convert))
    return found


def _converter(hint: Any) -> Decode | None:
    """How to decode a value annotated `hint` (None: it is JSON as it is)."""
    if get_origin(hint) in (Union, UnionType):
        options = [option for option in get_args(hint) if option is not type(None)]
        if len(options) != 1:
            if all(option in _PLAIN for option in options):
                return None
            raise Unsupported(f"a union of {options}")
        hint = options[0]  # Optional: None stays None (`Schema.decode` skips it)
    if hint in _PLAIN:
        return None
    if hint in _SCALARS:
        return _SCALARS[hint]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _by_value(hint)
    if get_origin(hint) is dict:
        key, value = get_args(hint)
        if key is not str and not _text_enum(key):
            raise Unsupported(f"JSON keys are text, not {key!r}")
        convert_key = _converter(key) or _same
        convert_value = _converter(value) or _same
        if convert_key is _same and convert_value is _same:
            return None
        return lambda mapping: (
            {
                convert_key(k): convert_value(v) if v is not None else None
                for k, v in mapping.items()
            }
            if mapping
            else mapping
        )
    raise Unsupported(f"no compact form for {hint!r}")


def _by_value(enum: type[Enum]) -> Decode:
    members = enum._value2member_map_
    if all(type(member.value) in (str, int) for member in enum):
        return members.__getitem__
    raise Unsupported(f"{enum.__qualname__} has values JSON would change")


def _text_enum(hint: Any) -> bool:
    return (
        isinstance(hint, type)
        and issubclass(hint, Enum)
        and all(type(member.value) is str for member in hint)
    )


def _same(value: Any) -> Any:
    return value


def _default(value: Any) -> Any:
    """What orjson does not write natively: decimals, as exact text."""
    if type(value) is Decimal:
        return str(value)
    msg = f"no compact form for {type(value).__qualname__}"
    raise TypeError(msg)
