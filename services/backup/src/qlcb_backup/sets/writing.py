"""Writing a set: every part into a `<set>.partial` folder, each compressed, encrypted, flushed
and read back against the SHA-256 it was written with; then the signed manifest; then the folder
renamed to its final name. Anything that stops before the rename leaves no set behind but a
partial folder, which the service removes at its next start."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from qlcb_backup.protection.framing import seal
from qlcb_backup.protection.keyring import Keyring
from qlcb_backup.sets import manifest as manifests
from qlcb_backup.sets.manifest import Manifest, PartEntry
from qlcb_backup.stores.base import Store
from qlcb_common.errors import DataLoss
from qlcb_common.faults import FaultPoints

SETS_DIR: Final = "sets"
PARTIAL_SUFFIX: Final = ".partial"
PART_WRITTEN: Final = "backup.part.written"
"""Fault point (ADR 0011): a part is written and checked, the set is not sealed yet."""


@dataclass(frozen=True)
class WrittenSet:
    manifest: Manifest
    folder: Path
    manifest_sha256: str

    @property
    def size_bytes(self) -> int:
        return sum(part.size_bytes for part in self.manifest.parts)


def set_folder(backup_dir: Path, set_id: str) -> Path:
    return backup_dir / SETS_DIR / set_id


def part_file(store: str) -> str:
    return f"{store}.part"


async def write_set(
    stores: Mapping[str, Store],
    *,
    set_id: str,
    created_at: datetime,
    backup_dir: Path,
    keyring: Keyring,
    faults: FaultPoints,
) -> WrittenSet:
    final = set_folder(backup_dir, set_id)
    partial = final.with_name(set_id + PARTIAL_SUFFIX)
    await asyncio.to_thread(partial.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(partial.mkdir, mode=0o700)
    try:
        parts = []
        for name in sorted(stores):
            parts.append(await _write_part(name, stores[name], partial, set_id=set_id, keyring=keyring))
            await faults.hold(PART_WRITTEN, {"set_id": set_id, "store": name})
        manifest = Manifest(
            set_id=set_id,
            created_at=created_at.isoformat(),
            finished_at=datetime.now(UTC).isoformat(),
            key_id=keyring.current_id,
            parts=parts,
        )
        body = await asyncio.to_thread(manifests.write, manifest, partial, keyring)
        await asyncio.to_thread(_publish, partial, final)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, partial, ignore_errors=True)
        raise
    return WrittenSet(manifest, final, hashlib.sha256(body).hexdigest())


async def _write_part(name: str, store: Store, folder: Path, *, set_id: str, keyring: Keyring) -> PartEntry:
    plain = folder / f"{name}.dump"
    part = folder / part_file(name)
    try:
        versions = await store.versions()
        digest = await store.dump(plain)
        sealed = await asyncio.to_thread(seal, plain, part, keyring=keyring, set_id=set_id, part=part.name)
    finally:
        await asyncio.to_thread(plain.unlink, missing_ok=True)
    if await asyncio.to_thread(file_sha256, part) != sealed.sha256:
        raise DataLoss(f"Phần sao lưu {part.name}: đọc lại sau khi ghi không khớp SHA-256, đĩa có lỗi")
    return PartEntry(
        store=name,
        file=part.name,
        size_bytes=sealed.size_bytes,
        sha256=sealed.sha256,
        plain_bytes=sealed.plain_bytes,
        content_digest=digest,
        tool=versions.tool,
        schema_version=versions.schema,
        content_digest_algorithm=versions.digest_algorithm,
    )


def _publish(partial: Path, final: Path) -> None:
    """The rename that makes the set whole, flushed with the folder entries it changes."""
    _fsync_dir(partial)
    partial.rename(final)
    _fsync_dir(final.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_partial_sets(backup_dir: Path) -> list[str]:
    """At start: the folders of sets whose writing was cut short (they may hold a plain dump)."""
    removed = []
    for folder in sorted((backup_dir / SETS_DIR).glob("*" + PARTIAL_SUFFIX)):
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
