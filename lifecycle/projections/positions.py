"""Where each projection stands in the log: one row a projection in `projection_positions`,
or while it is split for a rebuild, minus its number of partitions there and one row a
partition (`lead_facts#0/2`). Every batch moves its rows in the transaction that writes it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Integer, String, Table, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..storage.bulk import marker
from ..storage.log_reader import driver_cursor
from .partitions import SPLIT, Partition
from .protocol import Projection, metadata

positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)


def stored(conn: Connection) -> dict[str, int]:
    """Every position row, by name."""
    rows = conn.execute(select(positions.c.name, positions.c.position)).all()
    return {str(name): int(position) for name, position in rows}


def reached(found: dict[str, int], name: str) -> tuple[int, int]:
    """(position, partitions) of projection `name` among the rows `found`: a split one is as
    far as its slowest partition."""
    own = found.get(name, 0)
    if own >= 0:
        return own, 1
    return min(found.get(key, 0) for key in Partition.keys(name, -own)), -own


def locked(conn: Connection, key: str, create: bool = True) -> int | None:
    """A position row's value, locked for the transaction; a missing row is created at 0,
    or with `create=False` (a partition's row) None.

    On SQLite the transaction holds the write lock already, and the row is read through
    the driver: SQLAlchemy's statement costs 150 µs here, for each position of each batch
    of a live catch-up, while the service's appends wait for the lock.
    """
    if conn.dialect.name == "sqlite":
        value = read(conn, key)
    else:
        query = select(positions.c.position).where(positions.c.name == key)
        value = conn.scalar(query.with_for_update())
    if value is None:
        if not create:
            return None
        # Two runners may meet a projection that has no position yet: one inserts it, the
        # other's insert does nothing, and both then lock the one row.
        conn.execute(_insert_once(conn).values(name=key, position=0))
        return locked(conn, key, create=False) or 0
    return value


def read(conn: Connection, key: str) -> int | None:
    """A position row's value read through a driver cursor (None if it has none)."""
    with driver_cursor(conn) as cursor:
        cursor.execute("SELECT position FROM projection_positions WHERE name = ?", (key,))
        row = cursor.fetchone()
    return int(row[0]) if row else None


def move(conn: Connection, key: str, position: int) -> None:
    """Moves a position row, through the driver (see `locked`)."""
    mark = marker(conn)
    with driver_cursor(conn) as cursor:
        cursor.execute(
            f"UPDATE projection_positions SET position = {mark} WHERE name = {mark}",
            (position, key),
        )


def keyed(projections: Sequence[Projection], partition: Partition | None) -> list[tuple[str, Any]]:
    """(position key, projection) in key order, the order every runner locks them in."""
    keyed = [(partition.key(p.name) if partition else p.name, p) for p in projections]
    return sorted(keyed, key=lambda pair: pair[0])


def usable(found: dict[str, int | None], partition: Partition | None) -> dict[str, int]:
    """The positions a batch may move: a partition's existing rows; without a partition,
    projections that are not split (a missing row is position 0)."""
    if partition is not None:
        return {key: value for key, value in found.items() if value is not None}
    return {key: value or 0 for key, value in found.items() if value is None or value >= 0}


def partition_rows_of(name: str) -> Any:
    return positions.c.name.startswith(f"{name}{SPLIT}", autoescape=True)


def rows_of(name: str) -> Any:
    return (positions.c.name == name) | partition_rows_of(name)


def _insert_once(conn: Connection) -> Any:
    """INSERT … ON CONFLICT DO NOTHING into `positions`, in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql_insert(positions).on_conflict_do_nothing(index_elements=["name"])
    return sqlite_insert(positions).on_conflict_do_nothing(index_elements=["name"])
