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

MAX_IMPORT_ROWS = 100_000
"""Rows one bulk import takes (issue 9.4 asks for 50,000): personnel holds the rows of a file while it
checks them, so that they can be grouped by person and checked against each other."""

IMPORT_CHUNK_ROWS = 1000
"""Rows per message of an import's stream: far under gRPC's 4 MB per message, whatever the section."""

MAX_REPORTED_ERRORS = 10_000
"""Faults one import's answer lists (the others are counted): about 1.5 MB, under gRPC's 4 MB."""

MAX_STATISTICS_PEOPLE_PAGE = 500
"""People one page of a statistics cell's drill-down lists: its audit event names each of them."""
