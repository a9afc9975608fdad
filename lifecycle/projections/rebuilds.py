"""Rebuilds: projections emptied back to position 0, or split into partitions by lead for
worker processes, and the partitions merged back into one position (`ProjectionRunner.join`).

While a projection is split its own position row holds minus the number of partitions, and
each partition has a row of its own (`positions.py`); ordinary batches leave it alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Engine, select

from ..storage.db import reading
from . import positions, quarantine
from .partitions import Partition
from .positions import partition_rows_of
from .protocol import Projection


def restart(engine: Engine, projections: Sequence[Projection], partitions: int) -> None:
    """Empties each projection, in a transaction of its own, at position 0 (or split)."""
    for projection in projections:
        with engine.begin() as conn:
            positions.locked(conn, projection.name)
            for table in reversed(projection.tables()):
                conn.execute(table.delete())
            conn.execute(positions.positions.delete().where(partition_rows_of(projection.name)))
            quarantine.clear(conn, projection.name)  # its leads are tried again
            split = partitions > 1
            positions.move(conn, projection.name, -partitions if split else 0)
            if split:
                keys = Partition.keys(projection.name, partitions)
                rows = [{"name": key, "position": 0} for key in keys]
                conn.execute(positions.positions.insert(), rows)


def splits(engine: Engine, projections: Sequence[Projection],
           by_name: Mapping[str, Projection]) -> dict[int, list[Projection]]:  # fmt: skip
    """The split projections among `projections`, by number of partitions."""
    table = positions.positions
    names = [projection.name for projection in projections]
    with reading(engine) as conn:
        rows = conn.execute(
            select(table.c.name, table.c.position).where(
                table.c.name.in_(names), table.c.position < 0
            )
        ).all()
    found: dict[int, list[Projection]] = {}
    for name, position in rows:
        found.setdefault(-int(position), []).append(by_name[str(name)])
    return found


def merge(engine: Engine, name: str, count: int) -> None:
    """Gives a split projection one position again if all its partitions reached the same
    one, in one transaction (else `join` goes round again; nothing to do if another runner
    merged it)."""
    keys = Partition.keys(name, count)
    with engine.begin() as conn:
        if positions.locked(conn, name) != -count:
            return
        reached = {positions.locked(conn, key, create=False) for key in keys}
        (position, *others) = reached
        if others or position is None:
            return
        conn.execute(positions.positions.delete().where(positions.positions.c.name.in_(keys)))
        positions.move(conn, name, position)
