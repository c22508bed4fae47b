"""Changes made through Keycloak's own admin API reach the audit log under the account that made
them (not the account they changed), copied from a cursor that Keycloak's event listing serves."""

from __future__ import annotations

import time

from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.support import System, api_client, eventually, keycloak_admin_api, unique_code

PASSWORD = "Quản lý người dùng 2026"


def _user_manager(system: System) -> str:
    """A realm account allowed to manage users through Keycloak's admin API (as a help-desk may be)."""
    keycloak = system.infra.keycloak_admin()
    username = unique_code("usermgr").lower()
    user_id = ensure_user(keycloak, Account(username, PASSWORD, "sector-viewer", None, "Lê Văn Quản"))
    management = keycloak.get_client_id("realm-management")
    assert management is not None
    roles = [keycloak.get_client_role(management, name) for name in ("manage-users", "view-users")]
    keycloak.assign_client_role(user_id, management, roles)
    return username


async def test_a_change_made_on_keycloaks_admin_api_names_the_admin_who_made_it(system: System) -> None:
    manager = _user_manager(system)
    keycloak = system.infra.keycloak_admin()
    member = unique_code("member").lower()
    member_id = ensure_user(keycloak, Account(member, PASSWORD, "self", None, "Phan Thị Thành"))
    group = keycloak.get_group_by_path("/TCHQ/HQHN")
    token = password_token(system.infra.keycloak.base_url, manager, PASSWORD)
    async with keycloak_admin_api(system, token) as direct:
        joined = await direct.put(f"/users/{member_id}/groups/{group['id']}")
    assert joined.status_code == 204, joined.text

    async with api_client(system.services.identity_url, system.token("quantri")) as identity:

        async def entries() -> list[dict[str, str]]:
            found: list[dict[str, str]] = (
                await identity.get("/v1/audit", params={"target": f"users/{member_id}/groups/{group['id']}"})
            ).json()
            return found

        log = await eventually(entries, lambda e: len(e) > 0, timeout=60, what="the membership in the audit log")
    assert log[0]["action"] == "keycloak.CREATE.GROUP_MEMBERSHIP"
    assert log[0]["actor_username"] == manager, "the admin who called, not the member it added"


def test_keycloak_lists_admin_events_oldest_first_from_a_millisecond(system: System) -> None:
    """What the audit copy's cursor relies on (`direction=asc`, `dateFrom` in epoch ms)."""
    keycloak = system.infra.keycloak_admin()
    since = int(time.time() * 1000)
    for n in range(3):
        keycloak.create_user({"username": unique_code(f"cursor{n}").lower(), "enabled": True})
    listed = keycloak.get_admin_events({"dateFrom": str(since), "direction": "asc", "max": 100})
    times = [event["time"] for event in listed]
    assert len(times) >= 3
    assert times == sorted(times)
    assert min(times) >= since


async def test_a_flood_of_refused_admin_calls_stores_a_bounded_number_of_events(system: System) -> None:
    """A script hammering Keycloak's admin API with a valid token: its first 20 refusals in a minute
    are kept (and audited), the rest only counted, so the event store and the audit copy hold."""
    keycloak = system.infra.keycloak_admin()
    username = unique_code("hammer").lower()
    user_id = ensure_user(keycloak, Account(username, PASSWORD, "local-officer", "/TCHQ/HQHN", "Đỗ Văn Gõ"))
    token = password_token(system.infra.keycloak.base_url, username, PASSWORD)
    async with keycloak_admin_api(system, token) as direct:
        statuses = {(await direct.get("/users")).status_code for _ in range(50)}
    assert statuses == {403}
    stored = keycloak.get_admin_events({"authUser": user_id, "max": 1000})
    assert len([e for e in stored if e.get("error") == "forbidden"]) == 20

    async with api_client(system.services.identity_url, system.token("quantri")) as identity:

        async def refusals() -> int:
            found = (await identity.get("/v1/audit", params={"username": username, "outcome": "refused"})).json()
            return len(found)

        await eventually(refusals, lambda n: n == 20, timeout=60, what="the kept refusals in the audit log")
