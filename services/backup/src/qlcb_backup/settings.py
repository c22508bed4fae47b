from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AnyHttpUrl, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from qlcb_backup.protection.keyring import Keyring, decode_key
from qlcb_backup.stores.jetstream import STORE_NAME as EVENTS_STORE
from qlcb_common.settings import EnvironmentSettings, GrpcServiceSettings, given_together, setting_name

MIB = 1 << 20


class StorageKind(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class BackupSettings(GrpcServiceSettings, EnvironmentSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_BACKUP_", extra="ignore")

    backup_dir: Path = Field(description="Where backup sets are written")
    stores: dict[str, str] = Field(
        default_factory=dict,
        description='Store name → SQLAlchemy URL, as JSON: {"personnel": "postgresql+asyncpg://…"}',
    )
    streams_store: bool = Field(
        default=True,
        description="Back up the JetStream streams, with every message and durable consumer's position, as the "
        "part 'events' of every set (ADR 0026), through this service's NATS connection; false: sets hold "
        "the databases only",
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
    storage: StorageKind = Field(
        default=StorageKind.LOCAL,
        description="Where sets are kept: local (backup_dir, a folder or volume) or s3 (S3-compatible object "
        "storage; each set is written and checked in backup_dir first, then uploaded, and is good only once "
        "every object is confirmed)",
    )
    s3_bucket: str = Field(default="", max_length=63, description="The bucket sets go to (storage=s3)")
    s3_prefix: str = Field(
        default="", max_length=512, description="Key prefix of the sets in the bucket, e.g. qlcb/; empty: the root"
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="The S3-compatible server, e.g. https://s3.example.vn; default: AWS's own"
    )
    s3_region: str = Field(default="us-east-1", min_length=1)
    s3_access_key_id: SecretStr | None = Field(
        default=None, description="A secret; with s3_secret_access_key. Unset: boto3's own chain (a role, a file)"
    )
    s3_secret_access_key: SecretStr | None = Field(default=None, description="A secret")
    s3_addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto", description="path for most S3-compatible servers that are not AWS"
    )
    s3_multipart_threshold_bytes: int = Field(
        default=64 * MIB, ge=5 * MIB, description="Files at least this large are uploaded in parts"
    )
    s3_multipart_chunk_bytes: int = Field(
        default=16 * MIB,
        ge=5 * MIB,
        le=5 * 1024 * MIB,
        description="The size of each uploaded part (S3 allows 5 MiB to 5 GiB and at most 10 000 parts)",
    )
    s3_parts_in_flight: int = Field(
        default=4,
        ge=1,
        le=32,
        description="Parts of one file uploaded at once; each holds a part in memory (parts_in_flight × chunk size)",
    )
    s3_max_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="Attempts of each S3 call (first one included), with exponential backoff and jitter; then the "
        "set fails with the reason",
    )
    s3_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    s3_read_timeout_seconds: float = Field(default=60.0, gt=0)
    schedule: str | None = Field(
        default=None,
        description="When to take a set of every store, as a cron expression in schedule_timezone, e.g. "
        "'30 1 * * *' (01:30 each night); a sixth field is seconds. Unset: only on demand",
    )
    schedule_timezone: str = Field(default="Asia/Ho_Chi_Minh", description="The zone of the schedule and of days")
    keep_daily: int = Field(default=7, ge=0, description="Keep the newest good set of each of this many latest days")
    keep_weekly: int = Field(default=4, ge=0, description="… of each of this many latest ISO weeks")
    keep_monthly: int = Field(default=12, ge=0, description="… of each of this many latest months")
    restore_lease_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How long a restore's hold on its set lasts if the restore dies without releasing it; "
        "pruning skips a held set",
    )
    restore_request_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How long a requested restore waits for a second system admin to confirm it before it lapses",
    )
    drill_schedule: str | None = Field(
        default=None,
        description="When to run a restore drill (the newest good set restored into scratch databases, verified "
        "and dropped), as a cron expression in schedule_timezone, e.g. '0 4 * * 0' (04:00 each Sunday). Unset: "
        "only on demand",
    )

    keycloak_url: AnyHttpUrl | None = Field(
        default=None,
        description="Keycloak's base URL, e.g. https://login.example; with keycloak_client_secret the realm is "
        "the store 'keycloak' of every set, through the realm-backup extension (ADR 0025). Unset: no such "
        "store. http only in development",
    )
    keycloak_realm: str = Field(default="qlcb", min_length=1, description="The realm backed up")
    keycloak_client_id: str = Field(
        default="qlcb-backup", min_length=1, description="Backup's confidential client of that realm"
    )
    keycloak_client_secret: SecretStr | None = Field(
        default=None, description="A secret: that client's, which the installer reads from Keycloak"
    )
    keycloak_timeout_seconds: float = Field(
        default=300.0, gt=0, description="How long an export or an import of the realm may take"
    )

    @field_validator("schedule", "drill_schedule")
    @classmethod
    def _cron(cls, expression: str | None, info: ValidationInfo) -> str | None:
        if expression is not None and not croniter.is_valid(expression):
            name = setting_name(cls, str(info.field_name))
            raise ValueError(f"{name}: {expression!r} is not a cron expression")
        return expression

    @field_validator("schedule_timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{setting_name(cls, 'schedule_timezone')}: no time zone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _events_store_name_free(self) -> BackupSettings:
        if self.streams_store and EVENTS_STORE in self.stores:
            raise ValueError(
                f"{setting_name(type(self), 'stores')}: the name {EVENTS_STORE!r} is the streams' part; "
                f"rename that store or set {setting_name(type(self), 'streams_store')}=false"
            )
        return self

    @model_validator(mode="after")
    def _keyring_whole(self) -> BackupSettings:
        self.keyring()
        return self

    @model_validator(mode="after")
    def _s3_whole(self) -> BackupSettings:
        given_together(self, "s3_access_key_id", "s3_secret_access_key")
        if self.storage is StorageKind.S3 and not self.s3_bucket:
            raise ValueError(f"{setting_name(type(self), 's3_bucket')} is required with storage=s3")
        return self

    @model_validator(mode="after")
    def _keycloak_whole(self) -> BackupSettings:
        given_together(self, "keycloak_url", "keycloak_client_secret")
        self.refuse_plaintext(
            self.require_https(
                "keycloak_url",
                self.keycloak_url,
                "backup's client secret and the realm's password hashes would cross in clear",
            )
        )
        return self

    def keyring(self) -> Keyring:
        keys = {key_id: decode_key(key_id, key.get_secret_value()) for key_id, key in self.keys.items()}
        return Keyring(keys, self.current_key_id)
