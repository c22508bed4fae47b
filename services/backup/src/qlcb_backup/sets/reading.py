"""Opening one part of a set for a restore, refusing anything that is not what was sealed: the
manifest's signature first, then the part's SHA-256 and size against it, then every chunk's
authentication while it is decrypted into a private working file. A part whose content digest
the restore could not compute again is refused before anything is written (ADR 0027)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from qlcb_backup.protection.framing import PartRefused, open_sealed
from qlcb_backup.protection.keyring import Keyring
from qlcb_backup.sets import manifest as manifests
from qlcb_backup.sets.manifest import PartEntry
from qlcb_backup.sets.writing import SETS_DIR, file_sha256
from qlcb_backup.stores import postgres
from qlcb_common.errors import FailedPrecondition


async def open_part(folder: Path, *, set_id: str, store: str, keyring: Keyring, plain: Path) -> PartEntry:
    """Decrypts `store`'s part of the set in `folder` into `plain`; returns its manifest entry."""
    manifest = await asyncio.to_thread(manifests.read, folder, set_id, keyring)
    entry = manifest.part(store)
    label = f"{SETS_DIR}/{set_id}/{entry.file}"
    path = folder / entry.file
    if not postgres.verifies(entry.tool, entry.content_digest_algorithm):
        raise FailedPrecondition(
            f"Phần sao lưu {label}: mã kiểm nội dung theo cách cũ ({entry.content_digest_algorithm}) mà phiên bản "
            "dịch vụ sao lưu này không còn tính, nên không kiểm được bản phục hồi; hãy phục hồi bằng phiên bản "
            "đã tạo bộ này, hoặc dùng một bộ sao lưu mới hơn"
        )
    if not await asyncio.to_thread(path.is_file):
        raise PartRefused(label, "không còn trên đĩa")
    if await asyncio.to_thread(file_sha256, path) != entry.sha256:
        size = (await asyncio.to_thread(path.stat)).st_size
        shape = "bị cắt ngắn" if size < entry.size_bytes else "bị hỏng, bị sửa hoặc bị tráo"
        raise PartRefused(
            label, f"SHA-256 không khớp với bản kê đã ký ({shape}; {size} byte, bản kê ghi {entry.size_bytes})"
        )
    await asyncio.to_thread(open_sealed, path, plain, keyring=keyring, set_id=set_id, part=entry.file, label=label)
    return entry
