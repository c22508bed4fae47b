from __future__ import annotations

import threading
import time
from collections.abc import Callable

from keycloak import KeycloakAdmin

from qlcb_identity.realm.definition import load
from qlcb_identity.realm.sync import RealmSync
from qlcb_identity.settings import KeycloakAdminSettings


def keycloak_admin(settings: KeycloakAdminSettings, realm: str) -> KeycloakAdmin:
    """Keycloak's admin API for `realm`, as identity's own confidential client of that realm
    (client credentials grant): what its service account's admin roles allow there, and nothing
    in any other realm (ADR 0008)."""
    return KeycloakAdmin(
        server_url=str(settings.keycloak_url).rstrip("/"),
        client_id=settings.keycloak_client_id,
        client_secret_key=settings.keycloak_client_secret.get_secret_value(),
        grant_type="client_credentials",
        realm_name=realm,
        user_realm_name=realm,
    )


class AdminClients:
    """Keycloak admin clients to share: each worker thread keeps the one it made for `lifetime`
    seconds. Making one per call cost a client-credentials grant at Keycloak and a fresh TLS
    context (a third of identity's CPU under load); one per thread, because python-keycloak's
    client renews its token and holds its HTTP session without locks. The lifetime bounds how long
    a client made before a realm switch (ADR 0029) is used after it."""

    def __init__(
        self, make: Callable[[], KeycloakAdmin], lifetime: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._make = make
        self._lifetime = lifetime
        self._clock = clock
        self._held = threading.local()

    def __call__(self) -> KeycloakAdmin:
        now = self._clock()
        made: tuple[KeycloakAdmin, float] | None = getattr(self._held, "made", None)
        if made is None or now - made[1] >= self._lifetime:
            made = (self._make(), now)
            self._held.made = made
        return made[0]


def realm_sync(settings: KeycloakAdminSettings) -> RealmSync:
    definition = load(settings.realm_file, settings.realm_overlays)
    return RealmSync(lambda: keycloak_admin(settings, definition.name), definition)
