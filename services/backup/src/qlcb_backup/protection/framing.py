"""A part on disk: zstd-compressed, then AES-256-GCM in chunks (ADR 0021).

    magic "QLCBPART1\\n" | u16 header length | header (JSON: key id, set, part, a random file id, …)
    then chunks: u32 ciphertext length | 12-byte nonce | ciphertext with its 16-byte tag

Each chunk's associated data is SHA-256(magic + header) | u64 chunk index | u8 final flag, so a
chunk moved to another place or into another file (another part, another set, or the same part
taken again: the random file id tells them apart) fails authentication, and a part cut
after any chunk lacks its final one. Only the last chunk is final; bytes after it are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qlcb_backup.protection.keyring import Keyring
from qlcb_common.errors import DataLoss

MAGIC: Final = b"QLCBPART1\n"
CHUNK_BYTES: Final = 1 << 20
READ_BYTES: Final = 1 << 20
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
ZSTD_LEVEL: Final = 3
_LENGTH = struct.Struct(">I")
_HEADER_LENGTH = struct.Struct(">H")
_POSITION = struct.Struct(">QB")


class PartRefused(DataLoss):
    """A part that is not what was sealed: corrupted, cut, reordered, swapped or opened with the wrong key."""

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(f"Phần sao lưu {part}: {reason}")
        self.part = part


@dataclass(frozen=True)
class Sealed:
    size_bytes: int
    sha256: str
    plain_bytes: int


def _associated(header_digest: bytes, index: int, final: bool) -> bytes:
    return header_digest + _POSITION.pack(index, 1 if final else 0)


class _HashingWriter:
    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.sha256.update(data)
        self.size += len(data)


def seal(source: Path, destination: Path, *, keyring: Keyring, set_id: str, part: str) -> Sealed:
    """Compresses and encrypts `source` into `destination` with the keyring's current key, then
    flushes it to disk; returns the part's size and SHA-256 as written."""
    key_id = keyring.current_id
    aead = AESGCM(keyring.key(key_id))
    header = json.dumps(
        {
            "key_id": key_id,
            "set_id": set_id,
            "part": part,
            "file_id": secrets.token_hex(16),
            "compression": "zstd",
            "cipher": "AES-256-GCM",
        },
        sort_keys=True,
    ).encode()
    header_digest = hashlib.sha256(MAGIC + header).digest()
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj()
    with source.open("rb") as plain, destination.open("xb") as file:
        out = _HashingWriter(file)
        out.write(MAGIC + _HEADER_LENGTH.pack(len(header)) + header)
        index, pending, plain_bytes = 0, bytearray(), 0

        def emit(data: bytes, final: bool) -> None:
            nonce = secrets.token_bytes(NONCE_BYTES)
            ciphertext = aead.encrypt(nonce, data, _associated(header_digest, index, final))
            out.write(_LENGTH.pack(len(ciphertext)) + nonce + ciphertext)

        while block := plain.read(READ_BYTES):
            plain_bytes += len(block)
            pending += compressor.compress(block)
            while len(pending) > CHUNK_BYTES:
                emit(bytes(pending[:CHUNK_BYTES]), final=False)
                del pending[:CHUNK_BYTES]
                index += 1
        pending += compressor.flush()
        while len(pending) > CHUNK_BYTES:
            emit(bytes(pending[:CHUNK_BYTES]), final=False)
            del pending[:CHUNK_BYTES]
            index += 1
        emit(bytes(pending), final=True)
        file.flush()
        os.fsync(file.fileno())
    return Sealed(out.size, out.sha256.hexdigest(), plain_bytes)


def read_header(file: BinaryIO, part: str) -> tuple[dict[str, Any], bytes]:
    """The part's header and the digest its chunks are bound to."""
    magic = file.read(len(MAGIC))
    if magic != MAGIC:
        raise PartRefused(part, "không phải tệp sao lưu QLCB (sai phần đầu tệp)")
    length_bytes = file.read(_HEADER_LENGTH.size)
    if len(length_bytes) < _HEADER_LENGTH.size:
        raise PartRefused(part, "tệp bị cắt ngắn ở phần đầu")
    header_bytes = file.read(_HEADER_LENGTH.unpack(length_bytes)[0])
    try:
        header: dict[str, Any] = json.loads(header_bytes)
    except ValueError:
        raise PartRefused(part, "phần đầu tệp bị hỏng") from None
    return header, hashlib.sha256(MAGIC + header_bytes).digest()


def open_sealed(source: Path, destination: Path, *, keyring: Keyring, set_id: str, part: str, label: str) -> int:
    """Decrypts and decompresses `source` into `destination`, refusing (and removing what was
    written) unless every chunk authenticates in its place and the final chunk ends the file.
    Returns the plain size. `label` names the part in refusals."""
    try:
        with source.open("rb") as file, destination.open("xb") as plain:
            header, header_digest = read_header(file, label)
            if header.get("set_id") != set_id or header.get("part") != part:
                raise PartRefused(label, f"tệp là phần {header.get('part')!r} của bộ {header.get('set_id')!r}: bị tráo")
            key_id = str(header.get("key_id"))
            aead = AESGCM(keyring.key(key_id))
            decompressor = zstandard.ZstdDecompressor().decompressobj()
            index, final, plain_bytes = 0, False, 0
            while not final:
                prefix = file.read(_LENGTH.size + NONCE_BYTES)
                if len(prefix) < _LENGTH.size + NONCE_BYTES:
                    raise PartRefused(label, f"tệp bị cắt ngắn: thiếu khối cuối (sau {index} khối)")
                length = _LENGTH.unpack(prefix[: _LENGTH.size])[0]
                if length < TAG_BYTES or length > CHUNK_BYTES + TAG_BYTES:
                    raise PartRefused(label, f"khối {index} có độ dài không hợp lệ ({length} byte)")
                ciphertext = file.read(length)
                if len(ciphertext) < length:
                    raise PartRefused(label, f"tệp bị cắt ngắn giữa khối {index}")
                nonce = prefix[_LENGTH.size :]
                data = None
                for candidate in (False, True):
                    try:
                        data = aead.decrypt(nonce, ciphertext, _associated(header_digest, index, candidate))
                    except InvalidTag:
                        continue
                    final = candidate
                    break
                if data is None:
                    reason = (
                        "sai khóa hoặc khối bị sửa" if index == 0 else "khối bị sửa, tráo chỗ hoặc không thuộc tệp này"
                    )
                    raise PartRefused(label, f"khối {index} không xác thực được bằng khóa {key_id!r} ({reason})")
                out = decompressor.decompress(data)
                plain.write(out)
                plain_bytes += len(out)
                index += 1
            if file.read(1):
                raise PartRefused(label, "có dữ liệu lạ sau khối cuối")
            plain.flush()
        return plain_bytes
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
