from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from qlcb_backup.protection.keyring import Keyring, decode_key
from qlcb_common.settings import GrpcServiceSettings


class BackupSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_BACKUP_", extra="ignore")

    backup_dir: Path = Field(description="Where backup sets are written")
    stores: dict[str, str] = Field(
        default_factory=dict,
        description='Store name → SQLAlchemy URL, as JSON: {"personnel": "postgresql+asyncpg://…"}',
    )
    pg_bin_dir: Path | None = Field(
        default=None, description="pg_dump/pg_restore of the server's version; default: PATH or /usr/lib/postgresql"
    )
    keys: dict[str, SecretStr] = Field(
        min_length=1,
        description='The backup keyring, as JSON: key id → 32 random bytes in base64, {"k2026": "…"}. Parts are '
        "encrypted (AES-256-GCM) with the current key; a set restores while the key its manifest names is here. "
        "To rotate, add a new key and make it current; drop an old one only once no set needs it",
    )
    current_key_id: str = Field(min_length=1, description="The id of the keyring's key that seals new sets")

    @model_validator(mode="after")
    def _keyring_whole(self) -> BackupSettings:
        self.keyring()
        return self

    def keyring(self) -> Keyring:
        keys = {key_id: decode_key(key_id, key.get_secret_value()) for key_id, key in self.keys.items()}
        return Keyring(keys, self.current_key_id)
