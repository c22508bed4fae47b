"""A part's encryption framing: what was sealed opens; anything else is refused, naming the part."""

from __future__ import annotations

import os
import secrets
import struct
from pathlib import Path

import pytest

from qlcb_backup.protection.framing import CHUNK_BYTES, MAGIC, PartRefused, open_sealed, seal
from qlcb_backup.protection.keyring import KeyMissing, Keyring

LABEL = "sets/s1/personnel.part"


def _keyring(current: str = "k1", **keys: bytes) -> Keyring:
    return Keyring(keys or {"k1": secrets.token_bytes(32)}, current)


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """Incompressible, so the part spans three chunks."""
    path = tmp_path / "plain.dump"
    path.write_bytes(os.urandom(2 * CHUNK_BYTES + 4096))
    return path


def _sealed(plain: Path, keyring: Keyring, name: str = "part", set_id: str = "s1") -> Path:
    part = plain.with_name(name)
    seal(plain, part, keyring=keyring, set_id=set_id, part="personnel.part")
    return part


def _open(part: Path, keyring: Keyring, set_id: str = "s1") -> Path:
    out = part.with_name("opened")
    open_sealed(part, out, keyring=keyring, set_id=set_id, part="personnel.part", label=LABEL)
    return out


def _chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    """The part's header and its chunks, each with its length prefix and nonce."""
    (header_length,) = struct.unpack(">H", data[len(MAGIC) : len(MAGIC) + 2])
    offset = len(MAGIC) + 2 + header_length
    head, chunks = data[:offset], []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append(data[offset : offset + 4 + 12 + length])
        offset += 4 + 12 + length
    return head, chunks


def test_a_sealed_part_opens_to_what_was_sealed_and_is_not_plain(plain: Path) -> None:
    keyring = _keyring()
    sealed = seal(plain, plain.with_name("part"), keyring=keyring, set_id="s1", part="personnel.part")
    data = plain.with_name("part").read_bytes()
    assert sealed.size_bytes == len(data)
    assert sealed.plain_bytes == plain.stat().st_size
    assert plain.read_bytes()[:4096] not in data
    assert len(_chunks(data)[1]) == 3
    assert _open(plain.with_name("part"), keyring).read_bytes() == plain.read_bytes()


def test_compression_shrinks_a_repetitive_dump(tmp_path: Path) -> None:
    plain = tmp_path / "plain.dump"
    plain.write_bytes("Nguyễn Văn An;Hải quan Hà Nội\n".encode() * 100_000)
    keyring = _keyring()
    sealed = seal(plain, tmp_path / "part", keyring=keyring, set_id="s1", part="personnel.part")
    assert sealed.size_bytes < plain.stat().st_size / 20
    assert _open(tmp_path / "part", keyring).read_bytes() == plain.read_bytes()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda head, chunks: head + b"".join(chunks[:2]), "thiếu khối cuối (sau 2 khối)"),
        (lambda head, chunks: head + chunks[0] + chunks[2] + chunks[1], "khối 1 không xác thực"),
        (lambda head, chunks: head + b"".join(chunks) + b"\0", "dữ liệu lạ sau khối cuối"),
        (lambda head, chunks: head + chunks[0] + chunks[1][:100], "cắt ngắn giữa khối 1"),
        (
            lambda head, chunks: head + chunks[0] + chunks[1][:50] + bytes([chunks[1][50] ^ 1]) + chunks[1][51:],
            "khối 1 không xác thực",
        ),
    ],
    ids=["final chunk cut", "chunks reordered", "bytes appended", "cut mid-chunk", "one bit flipped"],
)
def test_a_damaged_part_is_refused_naming_it_and_leaves_no_output(plain: Path, damage: object, reason: str) -> None:
    keyring = _keyring()
    part = _sealed(plain, keyring)
    head, chunks = _chunks(part.read_bytes())
    part.write_bytes(damage(head, chunks))  # type: ignore[operator]
    with pytest.raises(PartRefused) as refused:
        _open(part, keyring)
    assert LABEL in str(refused.value)
    assert reason in str(refused.value)
    assert not part.with_name("opened").exists()


def test_a_chunk_from_another_sealing_of_the_same_part_is_refused(plain: Path) -> None:
    """Same key, same set, same part name, same content: each file's chunks are bound to its own
    header, which holds a random file id."""
    keyring = _keyring()
    ours = _sealed(plain, keyring, "ours", set_id="s1")
    theirs = _sealed(plain, keyring, "theirs", set_id="s1")
    head, chunks = _chunks(ours.read_bytes())
    ours.write_bytes(head + chunks[0] + _chunks(theirs.read_bytes())[1][1] + chunks[2])
    with pytest.raises(PartRefused, match="khối 1 không xác thực"):
        _open(ours, keyring)


def test_a_part_of_another_set_is_refused_as_swapped(plain: Path) -> None:
    keyring = _keyring()
    part = _sealed(plain, keyring, set_id="s2")
    with pytest.raises(PartRefused, match="của bộ 's2': bị tráo"):
        _open(part, keyring, set_id="s1")


def test_a_wrong_key_under_the_same_id_is_refused(plain: Path) -> None:
    part = _sealed(plain, _keyring())
    with pytest.raises(PartRefused, match="khối 0 không xác thực được bằng khóa 'k1' \\(sai khóa"):
        _open(part, _keyring())


def test_a_key_id_missing_from_the_keyring_is_refused_naming_it(plain: Path) -> None:
    part = _sealed(plain, _keyring())
    with pytest.raises(KeyMissing, match="Khóa 'k1' không có trong bộ khóa sao lưu \\(đang có: k2\\)"):
        _open(part, _keyring("k2", k2=secrets.token_bytes(32)))


def test_after_rotation_new_parts_use_the_new_key_and_old_ones_still_open(plain: Path) -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    before = _sealed(plain, Keyring({"k1": old}, "k1"), "before")
    rotated = Keyring({"k1": old, "k2": new}, "k2")
    after = _sealed(plain, rotated, "after")
    assert b'"key_id":"k2"' in after.read_bytes()[:200].replace(b" ", b"")
    assert _open(before, rotated).read_bytes() == plain.read_bytes()
    before.with_name("opened").unlink()
    with pytest.raises(PartRefused):
        _open(after, Keyring({"k1": old, "k2": secrets.token_bytes(32)}, "k1"))
