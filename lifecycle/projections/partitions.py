"""Partitions of the leads, for rebuilds in parallel worker processes (`lifecycle projections
rebuild --workers N`): a lead's events all fall in one partition, in log order."""

from __future__ import annotations

from dataclasses import dataclass

# A rebuild shares the leads among at most this many partitions (by their id's last hex digit).
MAX_PARTITIONS = 16
_HEX = "0123456789abcdef"


@dataclass(frozen=True, slots=True)
class Partition:
    """One of `count` shares of the leads: those whose id ends in a hex digit d with
    d % count == index. Every read model is keyed by lead (or by event), and a lead's events
    stay in log order within its partition, so partitions can be replayed independently."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not (1 <= self.count <= MAX_PARTITIONS and 0 <= self.index < self.count):
            msg = f"no partition {self.index}/{self.count} (at most {MAX_PARTITIONS})"
            raise ValueError(msg)

    @classmethod
    def parse(cls, text: str) -> Partition:
        """`K/N`, as `lifecycle projections rebuild --partition` takes it."""
        index, _, count = text.partition("/")
        return cls(int(index), int(count))

    def key(self, name: str) -> str:
        """The name of this partition's position row for projection `name`."""
        return f"{name}{SPLIT}{self.index}/{self.count}"

    @classmethod
    def keys(cls, name: str, count: int) -> list[str]:
        """The position rows of projection `name` split in `count` partitions, in key order."""
        return [cls(index, count).key(name) for index in range(count)]

    @property
    def digits(self) -> tuple[str, ...]:
        return tuple(digit for digit in _HEX if int(digit, 16) % self.count == self.index)


SPLIT = "#"  # in a position row's name: a partition's position, "lead_facts#0/2"
