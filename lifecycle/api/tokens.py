"""API tokens: a random secret shown once, stored only as its SHA-256, with scopes.

A token is `secrets.token_urlsafe(32)` (256 bits): hashing it with plain SHA-256 is enough
(a slow password hash protects low-entropy secrets; nobody brute-forces 256 random bits), and
a fast hash keeps the check on every request cheap. Tokens live in their own table, beside
the read models but not one of them: rebuilding projections never touches them. A revoked
token stays in the table, so its name is never reused for a different caller: the name is the
`actor` recorded on the events it wrote.

A valid token is remembered in memory for `REMEMBER_SECONDS`, so a request costs no database
round trip for it (on SQLite every read-model transaction takes the write lock and would queue
behind event writes). A revocation therefore takes effect within that time in every process.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Engine, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError

from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..domain.inputs import check_text
from ..scheduler.deadlines import UtcDateTime
from ..storage.db import reading

REMEMBER_SECONDS = 2.0
_REMEMBERED_AT_MOST = 1000
SCOPES = ("events:write", "leads:read", "reports:read", "timeline:read", "admin")
ADMIN = "admin"

metadata = MetaData()
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(200), nullable=False),  # space-separated
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)


@dataclass(frozen=True)
class Caller:
    """Who holds a valid token: its name (the default actor) and what it may do."""

    name: str
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes


@dataclass(frozen=True)
class TokenInfo:
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, engine: Engine, remember_seconds: float = REMEMBER_SECONDS) -> None:
        self.engine = engine
        self.remember_seconds = remember_seconds
        self._valid: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def create_table(self) -> None:
        with self.engine.begin() as conn:
            api_tokens.create(conn, checkfirst=True)

    def create(self, name: str, scopes: list[str], now: datetime) -> str:
        """Stores a new token and returns it: the only time the secret is ever seen."""
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationFailed("a token name has 1 to 100 characters", fields={"name": name})
        try:
            check_text(name)  # the name becomes the actor of every event the token records
        except ValueError as error:
            raise ValidationFailed(f"name: {error}", fields={"name": str(error)}) from None
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValidationFailed(
                f"scopes are some of {', '.join(SCOPES)}", fields={"scope": unknown or "required"}
            )
        token = secrets.token_urlsafe(32)
        row = {
            "name": name,
            "token_hash": digest(token),
            "scopes": " ".join(sorted(set(scopes))),
            "created_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(api_tokens.insert().values(row))
        except IntegrityError:
            raise Conflict(f"a token named {name!r} exists (names are never reused)") from None
        return token

    def remembered(self, token: str) -> Caller | None:
        """The holder of `token` if it was found valid in the last `remember_seconds`."""
        remembered = self._valid.get(digest(token))
        if remembered is not None and remembered[1] > time.monotonic():
            return remembered[0]
        return None

    def caller(self, token: str) -> Caller | None:
        """The holder of `token`, or None when it is unknown or revoked."""
        if found := self.remembered(token):
            return found
        key = digest(token)
        query = select(api_tokens.c.name, api_tokens.c.scopes).where(
            api_tokens.c.token_hash == key, api_tokens.c.revoked_at.is_(None)
        )
        with reading(self.engine) as conn:
            row = conn.execute(query).first()
        if row is None:
            self._valid.pop(key, None)
            return None
        found = Caller(row.name, frozenset(row.scopes.split()))
        with self._lock:
            if len(self._valid) >= _REMEMBERED_AT_MOST:
                self._valid.clear()
            self._valid[key] = (found, time.monotonic() + self.remember_seconds)
        return found

    def list(self) -> list[TokenInfo]:
        query = select(api_tokens).order_by(api_tokens.c.name)
        with reading(self.engine) as conn:
            rows = conn.execute(query).all()
        return [
            TokenInfo(r.name, tuple(r.scopes.split()), r.created_at, r.revoked_at) for r in rows
        ]

    def revoke(self, name: str, now: datetime) -> None:
        update = (
            api_tokens.update()
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        with self._lock:  # at once in this process; others forget it within remember_seconds
            self._valid = {k: v for k, v in self._valid.items() if v[0].name != name}
        with self.engine.begin() as conn:
            if conn.execute(update).rowcount:
                return
            exists = conn.scalar(select(api_tokens.c.name).where(api_tokens.c.name == name))
        if exists is None:
            raise NotFound(f"no token named {name!r}", name=name)
