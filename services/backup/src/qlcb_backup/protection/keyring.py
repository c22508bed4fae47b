"""The backup keyring: key id → AES-256 key, one of them current (ADR 0021).

New sets are sealed with the current key; a set is opened with the key its manifest names, so
after a rotation the older sets restore as long as their key stays in the keyring. The manifest
is signed with a key derived from the part key (HKDF), never with the part key itself.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from qlcb_common.errors import FailedPrecondition

KEY_BYTES: Final = 32
KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MANIFEST_INFO: Final = b"qlcb-backup manifest signature v1"


def decode_key(key_id: str, encoded: str) -> bytes:
    """A key as the settings give it: 32 bytes in standard or url-safe base64."""
    try:
        key = base64.b64decode(encoded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"key {key_id}: not base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"key {key_id}: {len(key)} bytes, AES-256 needs {KEY_BYTES}")
    return key


class KeyMissing(FailedPrecondition):
    """A set sealed with a key the keyring no longer (or never) held."""


class Keyring:
    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"current key {current!r} is not in the keyring {sorted(keys)}")
        for key_id, key in keys.items():
            if not KEY_ID.fullmatch(key_id) or len(key) != KEY_BYTES:
                raise ValueError(f"key {key_id!r}: an id of letters, digits, '.', '_', '-' and {KEY_BYTES} bytes")
        self._keys = dict(keys)
        self.current_id = current

    @property
    def ids(self) -> list[str]:
        return sorted(self._keys)

    def key(self, key_id: str) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            raise KeyMissing(
                f"Khóa {key_id!r} không có trong bộ khóa sao lưu (đang có: {', '.join(self.ids)}): "
                "không mở được bộ sao lưu đã mã hóa bằng khóa này"
            )
        return key

    def manifest_key(self, key_id: str) -> bytes:
        """The HMAC key signing manifests of sets sealed with `key_id`."""
        return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_MANIFEST_INFO).derive(
            self.key(key_id)
        )
