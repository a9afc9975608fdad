"""The start-up heap is frozen out of the garbage collector (`lifecycle.runtime.heap`)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from lifecycle.runtime.heap import freeze_startup_heap


@pytest.fixture
def frozen() -> Iterator[int]:
    try:
        yield freeze_startup_heap()
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_freezing_takes_every_live_object_out_of_the_collections(frozen: int):
    assert frozen > 0
    assert gc.get_objects(generation=2) == []


def test_garbage_made_after_the_freeze_is_still_collected(frozen: int):
    cycle = Node()
    gone = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert gone() is None
