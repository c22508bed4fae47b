from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class SetStorage(Protocol):
    """Where a set's files live once written and checked in the local folder."""

    def location(self, set_id: str) -> str:
        """Where the set is kept, as the catalogue shows it (a folder, or s3://bucket/prefix/sets/<id>)."""

    async def publish(self, folder: Path, set_id: str, files: Sequence[str]) -> None:
        """Makes the set written in `folder` kept; returns only once every file (`files`, the manifest
        last) is where it goes with its size and checksum confirmed."""

    async def fetch(self, set_id: str, files: Sequence[str], work: Path) -> Path:
        """A local folder holding `files` of the set, to be read by a restore (downloaded into `work`
        when the set is elsewhere); a file that is gone is refused naming it."""

    async def remove(self, set_id: str) -> None:
        """Deletes the set's files wherever they are (pruning, or a set that failed or was cut short)."""
