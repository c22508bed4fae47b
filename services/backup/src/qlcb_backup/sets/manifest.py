"""A set's manifest: what it holds, when, how big, each part's SHA-256 and content digest with the
algorithm of that digest, the tools and schema versions, the key id; signed with HMAC-SHA256 under
a key derived from that key (ADR 0021). Manifests of the first format name no digest algorithm:
theirs is the sorted md5 (ADR 0027)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from qlcb_backup.protection.keyring import Keyring
from qlcb_backup.stores.base import SORTED_MD5
from qlcb_common.errors import DataLoss

FORMAT: Final = "qlcb-backup-set/2"
FIRST_FORMAT: Final = "qlcb-backup-set/1"
ALGORITHM_FIELD: Final = "content_digest_algorithm"
MANIFEST_FILE: Final = "manifest.json"


@dataclass(frozen=True)
class PartEntry:
    store: str
    file: str
    size_bytes: int
    sha256: str
    plain_bytes: int
    content_digest: str
    tool: str
    schema_version: str
    content_digest_algorithm: str


@dataclass(frozen=True)
class Manifest:
    set_id: str
    created_at: str
    finished_at: str
    key_id: str
    parts: list[PartEntry] = field(default_factory=list)
    format: str = FORMAT

    def part(self, store: str) -> PartEntry:
        for entry in self.parts:
            if entry.store == store:
                return entry
        raise DataLoss(f"Bản kê của bộ sao lưu {self.set_id} không có phần {store!r}")

    def canonical(self) -> bytes:
        return json.dumps(self.document(), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def document(self) -> dict[str, Any]:
        """As written and signed: in the first format, without the parts' digest algorithm."""
        data = asdict(self)
        if self.format == FIRST_FORMAT:
            for entry in data["parts"]:
                del entry[ALGORITHM_FIELD]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        entries = data.pop("parts")
        if data.get("format") == FIRST_FORMAT:
            if any(ALGORITHM_FIELD in entry for entry in entries):
                raise ValueError(f"{FIRST_FORMAT} names no digest algorithm")
            entries = [{**entry, ALGORITHM_FIELD: SORTED_MD5} for entry in entries]
        return cls(parts=[PartEntry(**entry) for entry in entries], **data)


class ManifestRefused(DataLoss):
    def __init__(self, set_id: str, reason: str) -> None:
        super().__init__(f"Bản kê của bộ sao lưu {set_id}: {reason}")


def sign(manifest: Manifest, keyring: Keyring) -> str:
    return hmac.new(keyring.manifest_key(manifest.key_id), manifest.canonical(), hashlib.sha256).hexdigest()


def write(manifest: Manifest, folder: Path, keyring: Keyring) -> bytes:
    """Writes the signed manifest and flushes it to disk; returns its bytes."""
    body = json.dumps(
        {"manifest": manifest.document(), "signature": {"alg": "HMAC-SHA256", "value": sign(manifest, keyring)}},
        ensure_ascii=False,
        indent=2,
        sort_keys=True,
    ).encode()
    with (folder / MANIFEST_FILE).open("xb") as file:
        file.write(body)
        file.flush()
        os.fsync(file.fileno())
    return body


def read(folder: Path, set_id: str, keyring: Keyring) -> Manifest:
    """The manifest, once its signature checks out with the key it names."""
    try:
        document = json.loads((folder / MANIFEST_FILE).read_bytes())
        manifest = Manifest.from_dict(dict(document["manifest"]))
        signature = str(document["signature"]["value"])
    except FileNotFoundError:
        raise ManifestRefused(set_id, f"không có tệp {MANIFEST_FILE}") from None
    except (ValueError, KeyError, TypeError):
        raise ManifestRefused(set_id, "tệp hỏng, không đọc được") from None
    if manifest.set_id != set_id:
        raise ManifestRefused(set_id, f"thuộc bộ khác ({manifest.set_id}), bị tráo")
    if not hmac.compare_digest(sign(manifest, keyring), signature):
        raise ManifestRefused(set_id, f"chữ ký không khớp với khóa {manifest.key_id!r}: bản kê bị sửa hoặc khóa sai")
    return manifest
