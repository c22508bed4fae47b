from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path

from qlcb_backup.sets.writing import set_folder


class LocalStorage:
    """Sets kept where they were written: `<backup_dir>/sets/<set id>/` (a folder or a mounted volume)."""

    def __init__(self, backup_dir: Path) -> None:
        self._backup_dir = backup_dir

    def location(self, set_id: str) -> str:
        return str(set_folder(self._backup_dir, set_id))

    async def publish(self, folder: Path, set_id: str, files: Sequence[str]) -> None:
        """Nothing to do: the set was flushed, checked and renamed into place by its writing."""

    async def fetch(self, set_id: str, files: Sequence[str], work: Path) -> Path:
        return set_folder(self._backup_dir, set_id)

    async def remove(self, set_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, set_folder(self._backup_dir, set_id), ignore_errors=True)
