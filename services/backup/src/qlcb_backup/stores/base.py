from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

SORTED_MD5: Final = "sorted-md5"
"""The first content digest, which names no algorithm: an md5 over each table's rows sorted (SQLite's still)."""


@dataclass(frozen=True)
class StoreVersions:
    tool: str
    schema: str
    """The store's Alembic revision (ADR 0022) and a digest of its tables and columns."""
    digest_algorithm: str
    """How the store's content digest is computed, named in the manifest (ADR 0027)."""


class Store(Protocol):
    """A service's database, as backup sees it."""

    @property
    def switches_online(self) -> bool:
        """Whether `switch` can put a restored copy in place while the services run."""

    async def dump(self, destination: Path) -> str:
        """Writes a backup to `destination`; returns the content digest of exactly what was dumped."""

    async def versions(self) -> StoreVersions:
        """The dump tool's version and a digest of the schema, for the set's manifest."""

    async def target_exists(self, name: str) -> bool: ...

    async def restore(self, source: Path, name: str) -> str:
        """Restores into a new database `name`; returns its content digest. Leaves nothing on failure."""

    async def discard(self, name: str) -> None:
        """Drops the restored copy `name` (a drill's scratch copy, a failed restore's); never the live store."""

    async def switch(self, restored: str, *, keep_as: str) -> None:
        """Makes the verified copy `restored` the live store; the live one is renamed `keep_as`,
        never dropped."""


@runtime_checkable
class SwitchesOffline(Protocol):
    """A store an operator's command switches with the services stopped (the event streams)."""

    async def switched_offline(self, restored: str, *, keep_as: str) -> bool:
        """Whether the command has made the copy `restored` the live store, keeping the former as `keep_as`."""

    def how_to_switch(self, restored: str, *, keep_as: str) -> str:
        """What the operator does to switch it."""


@runtime_checkable
class KeepsOutbox(Protocol):
    """A store that may hold a service's outbox (ADR 0026, "What a part captures")."""

    async def resend_published_since(self, name: str, since: datetime) -> int:
        """In the restored copy `name`, marks the outbox rows published at or after `since` as not
        published, so that the service's relay sends them again; returns how many. Every consumer
        inbox of the copy starts its marks again from now (ADR 0056): it keeps for good the ids it
        holds, by which the consumers drop what any outbox sends again."""


def combine(table_digests: Iterable[tuple[str, str]]) -> str:
    """One digest over (table, digest of its rows) pairs, in table-name order."""
    outer = hashlib.sha256()
    for table, digest in sorted(table_digests):
        outer.update(f"{table}:{digest}\n".encode())
    return outer.hexdigest()
