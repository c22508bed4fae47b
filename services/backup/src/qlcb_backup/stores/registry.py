from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from qlcb_backup.stores.base import Store
from qlcb_backup.stores.jetstream import STORE_NAME, Connect, JetStreamStore
from qlcb_backup.stores.postgres import PostgresStore
from qlcb_backup.stores.sqlite import SqliteStore
from qlcb_common.errors import InvalidArgument

KEYCLOAK = "keycloak"


class StoreRegistry:
    """The stores this backup service may back up, by name."""

    def __init__(
        self,
        urls: dict[str, str],
        *,
        pg_bin_dir: Path | None,
        streams: Connect | None = None,
        realm: Store | None = None,
    ) -> None:
        """`streams` connects to NATS as backup's user; given, the streams are the store 'events'.
        `realm`: the Keycloak realm's store (ADR 0025), named `keycloak`, when backup may reach it."""
        self._stores: dict[str, Store] = {}
        if streams is not None:
            self._stores[STORE_NAME] = JetStreamStore(streams)
        if realm is not None:
            if KEYCLOAK in urls:
                raise ValueError(f"store {KEYCLOAK}: the name is the Keycloak realm's, not a database's")
            self._stores[KEYCLOAK] = realm
        for name, url in urls.items():
            backend = make_url(url).get_backend_name()
            if backend == "sqlite":
                self._stores[name] = SqliteStore(url)
            elif backend == "postgresql":
                self._stores[name] = PostgresStore(url, bin_dir=pg_bin_dir)
            else:
                raise ValueError(f"store {name}: unsupported database {backend}")

    def __contains__(self, name: str) -> bool:
        return name in self._stores

    @property
    def names(self) -> list[str]:
        return sorted(self._stores)

    def get(self, name: str) -> Store:
        store = self._stores.get(name)
        if store is None:
            raise InvalidArgument.single("store", f"Kho dữ liệu phải là một trong {sorted(self._stores)}")
        return store
