from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from qlcb_common.settings import GrpcServiceSettings


class BackupSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_BACKUP_", extra="ignore")

    backup_dir: Path = Field(description="Where backup files are written")
    stores: dict[str, str] = Field(
        default_factory=dict,
        description='Store name → SQLAlchemy URL, as JSON: {"personnel": "postgresql+asyncpg://…"}',
    )
    pg_bin_dir: Path | None = Field(
        default=None, description="pg_dump/pg_restore of the server's version; default: PATH or /usr/lib/postgresql"
    )
