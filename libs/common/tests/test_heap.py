"""A service's start freezes its heap: what is alive is left out of later collections, what the start
left as garbage is collected first, not kept for the process's life."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from qlcb_common.heap import freeze_startup_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_what_is_alive_is_frozen_and_what_is_garbage_is_collected_first() -> None:
    kept = _Node()
    cycle = _Node()
    cycle.other = _Node()
    cycle.other.other = cycle
    gone = weakref.ref(cycle)
    del cycle
    frozen = freeze_startup_heap()
    assert gone() is None, "a cycle the start dropped is collected, not frozen"
    assert frozen == gc.get_freeze_count() > 0
    assert all(o is not kept for o in gc.get_objects()), "a live object is frozen: no collection traverses it"
    later = _Node()
    assert any(o is later for o in gc.get_objects()), "what comes after is collected as usual"
