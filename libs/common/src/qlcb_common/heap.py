"""What a service holds from its start to its end (modules, the ORM's and the schemas' models, the
routes, the servicers) kept out of the cyclic garbage collector's passes."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collects what the start left as garbage, then moves every object still alive into the
    collector's permanent generation, which no later collection traverses; returns how many.

    A full collection traverses every tracked object, and every request of the process waits for it.
    Over the record benchmark (2026-12-07, Python 3.11) a full collection of personnel's 185,000 or so
    objects took 130–180 ms, the gateway's about as long; nearly all of those objects were made at
    start and live as long as the process."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
