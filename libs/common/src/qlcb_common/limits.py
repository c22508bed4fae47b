"""Caps on the lists one reorganisation decision may carry: the gateway's schemas refuse longer
ones with 422, and personnel refuses them before loading anything, so a direct gRPC call is
capped too."""

from __future__ import annotations

MAX_MERGE_SOURCES = 50
"""Units merged into one target by one decision."""

MAX_SPLIT_SUCCESSORS = 50
"""New units one split creates."""

MAX_SPLIT_PERSONS = 5000
"""Active staff one split assigns to the new units."""

MAX_SPLIT_SUB_UNITS = 500
"""Sub-units one split assigns to the new units."""
