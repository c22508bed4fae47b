"""Identity's Keycloak admin clients are shared: one per worker thread, for a bounded time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import cast

from keycloak import KeycloakAdmin

from qlcb_identity.realm.admin import AdminClients


class _Made:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> KeycloakAdmin:
        self.count += 1
        return cast(KeycloakAdmin, object())


def test_a_thread_reuses_its_client_until_the_lifetime_ends() -> None:
    now = [100.0]
    made = _Made()
    clients = AdminClients(made, lifetime=60, clock=lambda: now[0])
    first = clients()
    now[0] += 59.9
    assert clients() is first
    assert made.count == 1
    now[0] += 0.1
    renewed = clients()
    assert renewed is not first
    assert made.count == 2
    assert clients() is renewed


def test_threads_never_share_a_client() -> None:
    made = _Made()
    clients = AdminClients(made, lifetime=60)
    own = clients()
    with ThreadPoolExecutor(max_workers=1) as other:
        theirs = other.submit(clients).result()
        assert other.submit(clients).result() is theirs
    assert theirs is not own
    assert clients() is own
    assert made.count == 2
