"""The stored form of events: compact JSON, decoded by msgspec into each class's annotations.

eventsourcing's JSON form marks every value JSON has no type for as `{"_type_": …, "_data_": …}`
and decodes by walking the whole document. For a lead event that is six small objects and a
Python call per marked value: decoding was most of the cost of replaying the log, and the
stored form 60% larger than the data.

`TypedMapper` stores the events of classes whose annotations it understands as plain JSON
(datetimes and dates as ISO-8601 text, enums by value, UUIDs as text, decimals as text) and
decodes them with a msgspec decoder typed by the class's annotations (one per class, made
once): parsing and every conversion (times, enums, decimals, the deadlines' keys) happen in
msgspec's C code, in one pass. The annotations are the schema, so a field keeps its type
across a round trip, and the JSON stays readable by anyone with `jq`. The decoder's type is a
`TypedDict` of the stored fields, not the event class: eventsourcing's events are frozen
dataclasses whose `originator_id` and `originator_version` are columns, not state, so the
event is made from the decoded state as eventsourcing's own mapper makes it (no `__init__`).

The bytes are written by orjson, as since 0.2: msgspec writes a UTC time as `…Z` where orjson
writes `…+00:00`, and the stored bytes of an event stay what they were (a later hash chain
hashes them). The decoder reads both.

Events stored earlier in the marked form stay readable: in the compact form every event's
`timestamp` is text, in the marked form an object, so the typed decoder refuses them, and
the mapper decodes those with the transcoder as before. Classes with a field this module
does not understand (a list, `Any`, a dataclass) keep the marked form, as do all events when
the application encrypts or compresses (the compact form is then no faster to read). Events
of a `class_version` above 1 store it and are upcast as eventsourcing does; the upcasts get
the fields the class still annotates typed, and those only older versions had as JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from types import UnionType
from typing import Any, ClassVar, Generic, TypedDict, Union, cast, get_args, get_origin
from typing import get_type_hints as type_hints
from uuid import UUID

import msgspec
import orjson
from eventsourcing.domain import DomainEventProtocol, TAggregateID
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

State = dict[str, Any]

_PLAIN = frozenset({str, int, bool, float, type(None)})
_SCALARS = frozenset({datetime, date, Decimal, UUID})
_OPTIONS = orjson.OPT_NON_STR_KEYS
_DISCRIMINATOR = "timestamp"  # text in the compact form, a marked object in the other
_ORIGINATOR = ("originator_id", "originator_version")  # the stored event's columns
_typed_dict: Any = TypedDict  # called with fields known only at run time
_untyped = msgspec.json.Decoder()


class Unsupported(TypeError):
    """An annotation this module has no compact form for."""


class Schema:
    """How to decode one event class's compact state: msgspec's decoder for its fields."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.fields: dict[str, Any] = _fields(cls)
        # Fields left out of the stored state when None, their default: added to a class
        # after events were stored, they cost nothing where unused (see `encode`).
        self.omitted = optional_fields(cls)
        # Every field may be absent: an absent one is reported by `TypedMapper` by name.
        self.type: Any = _typed_dict(f"{cls.__qualname__}State", self.fields, total=False)
        self._decoder = msgspec.json.Decoder(self.type)
        self._versioned = getattr(cls, "class_version", 1) > 1

    def decode(self, data: bytes) -> State | None:
        """The decoded state, or None when `data` is in the marked form."""
        if self._versioned:
            return self._decode_versioned(data)
        try:
            return cast(State, self._decoder.decode(data))
        except msgspec.ValidationError as error:
            if _compact(_untyped.decode(data)):
                raise ValueError(str(error)) from error  # compact, but not this class's state
            return None

    def event(self, data: bytes, originator_id: Any, originator_version: int) -> Any:
        """The event stored as `data` (upcast if an older class version stored it), or None
        when `data` is in the marked form."""
        state = self.decode(data)
        if state is None:
            return None
        state["originator_id"] = originator_id
        state["originator_version"] = originator_version
        event: Any = object.__new__(self.cls)
        object.__setattr__(event, "__dict__", state)
        return event

    def _decode_versioned(self, data: bytes) -> State | None:
        """A state stored by any version of the class, upcast: the fields the class annotates
        are typed first, those only an older version had are left as JSON for the upcasts."""
        state = _untyped.decode(data)
        if not _compact(state):
            return None
        try:
            state.update(msgspec.convert(state, self.type, str_keys=True))
        except msgspec.ValidationError as error:
            raise ValueError(str(error)) from error
        upcast(self.cls, state)
        return cast(State, state)


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
    return schema if schema.fields.get(_DISCRIMINATOR) is datetime else None


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
        schema = self.schema(cls)
        if schema is None:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        for name in schema.omitted:
            if state.get(name, 0) is None:
                del state[name]
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


@cache
def optional_fields(cls: type) -> frozenset[str]:
    """The keyword-only fields of `cls` whose default is None: not stored when None, and read
    back from the class's default (a decoded event's state holds only what was stored)."""
    if not dataclasses.is_dataclass(cls):
        return frozenset()
    return frozenset(
        each.name for each in dataclasses.fields(cls) if each.kw_only and each.default is None
    )


def upcast(cls: type, state: State) -> None:
    """Brings a state stored by an older `class_version` of `cls` up to date, in place."""
    class_version = getattr(cls, "class_version", 1)
    from_version = state.pop("class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1


def _compact(state: Any) -> bool:
    """Whether a decoded JSON state is in the compact form (its `timestamp` is text)."""
    return type(state) is dict and type(state.get(_DISCRIMINATOR)) is str


def _fields(cls: type) -> dict[str, Any]:
    """The annotations of the stored fields of `cls`: `Unsupported` if one has no compact form."""
    try:
        hints = type_hints(cls)
    except Exception as error:
        raise Unsupported(f"unresolvable annotations on {cls.__qualname__}") from error
    return {
        name: _check(hint)
        for name, hint in hints.items()
        if get_origin(hint) is not ClassVar
        and hint is not dataclasses.KW_ONLY
        and name not in _ORIGINATOR
    }


def _check(hint: Any) -> Any:
    """`hint`, if msgspec decodes its compact form to what was encoded (else `Unsupported`)."""
    if get_origin(hint) in (Union, UnionType):
        options = [option for option in get_args(hint) if option is not type(None)]
        if len(options) != 1 and not all(option in _PLAIN for option in options):
            raise Unsupported(f"a union of {options}")
        _check(options[0])  # an Optional: None stays None
        return hint
    if hint in _PLAIN or hint in _SCALARS:
        return hint
    if isinstance(hint, type) and issubclass(hint, Enum):
        if all(type(member.value) in (str, int) for member in hint):
            return hint
        raise Unsupported(f"{hint.__qualname__} has values JSON would change")
    if get_origin(hint) is dict:
        key, value = get_args(hint)
        if key is not str and not _text_enum(key):
            raise Unsupported(f"JSON keys are text, not {key!r}")
        _check(value)
        return hint
    raise Unsupported(f"no compact form for {hint!r}")


def _text_enum(hint: Any) -> bool:
    return (
        isinstance(hint, type)
        and issubclass(hint, Enum)
        and all(type(member.value) is str for member in hint)
    )


def _default(value: Any) -> Any:
    """What orjson does not write natively: decimals, as exact text."""
    if type(value) is Decimal:
        return str(value)
    msg = f"no compact form for {type(value).__qualname__}"
    raise TypeError(msg)
