"""Federation (R-ACC-10): a second realm plays another agency; its users log in through the
broker with a browser-style redirect flow and land with the tier and unit mapped from their
claims, or with nothing where no mapping matches. No partner is mapped to the system-admin tier or
a sector tier, whether through identity or by hand on Keycloak's admin API, and a partner's
issuer is https outside development."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from qlcb_common.tiers import TIER_NAMES
from tests.support import System, agency_realm, agency_registration, browser_login, eventually, unique_code

AGENCY_REALM = "bo-tai-chinh"
ALIAS = "botaichinh"
PASSWORD = "Cán bộ BTC 2026"
MAPPED_TIER = "unit-leader"
FORBIDDEN_TIERS = ["system-admin", "sector-hr", "sector-viewer"]
ALLOW_HTTP = "QLCB_IDENTITY_FEDERATION_ALLOW_HTTP_ISSUERS"


def _agency(system: System) -> str:
    """The agency's realm: a confidential client for the broker, two users, groups as claims."""
    users = {"mapped.btc": (PASSWORD, "Trịnh Văn Thuế", ["thue-hanoi"]), "unmapped.btc": (PASSWORD, "Mai Thị Lạ", [])}
    return agency_realm(system, AGENCY_REALM, ALIAS, users)


def _registration(issuer: str, alias: str, *tiers: str) -> dict[str, Any]:
    """The body registering the agency under `alias`, its `thue-hanoi` group mapped to each tier."""
    return agency_registration(issuer, alias, "Bộ Tài chính", "thue-hanoi", "/TCHQ/HQHN", *tiers)


def _identity(system: System) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=system.services.identity_url,
        headers={"Authorization": f"Bearer {system.token('quantri')}"},
        timeout=60,
    )


def _registered_aliases(system: System) -> set[str]:
    return {idp["alias"] for idp in system.infra.keycloak_admin("qlcb").get_idps()}


@pytest.fixture(scope="module")
def agency(system: System) -> str:
    """The agency's issuer."""
    return _agency(system)


@pytest.fixture(scope="module")
async def registered(system: System, agency: str) -> str:
    async with _identity(system) as identity:
        body = _registration(agency, ALIAS, MAPPED_TIER)
        refused = await identity.post(
            "/v1/federation/agencies", json=body, headers={"Authorization": f"Bearer {system.token('qthanoi')}"}
        )
        assert refused.status_code == 403
        created = await identity.post("/v1/federation/agencies", json=body)
        assert created.status_code == 201, created.text
        again = await identity.post("/v1/federation/agencies", json=body)
        assert again.status_code == 409
        bad = await identity.post(
            "/v1/federation/agencies", json=body | {"alias": "x2", "issuer": "http://127.0.0.1:9/nope"}
        )
        assert bad.status_code == 422
        assert ["body", "issuer"] in [e["loc"] for e in bad.json()["detail"]]
    return agency


async def test_a_mapped_agency_user_lands_with_its_tier_and_unit(system: System, registered: str) -> None:
    token = browser_login(system, "mapped.btc", PASSWORD, idp_hint=ALIAS)
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        me = (await api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
        units = await api.get("/v1/units", headers={"Authorization": f"Bearer {token}"})
    assert me["tiers"] == [MAPPED_TIER]
    assert me["unit_path"] == "/TCHQ/HQHN"
    assert units.status_code == 200


async def test_an_unmapped_agency_user_is_refused(system: System, registered: str) -> None:
    token = browser_login(system, "unmapped.btc", PASSWORD, idp_hint=ALIAS)
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        me = (await api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
        units = await api.get("/v1/units", headers={"Authorization": f"Bearer {token}"})
    assert me["tiers"] == []
    assert me["unit_path"] is None
    assert units.status_code == 403


@pytest.mark.parametrize("tier", FORBIDDEN_TIERS)
async def test_no_partner_claim_is_mapped_to_the_system_admin_or_a_sector_tier(
    system: System, agency: str, tier: str
) -> None:
    alias = unique_code("x").lower()
    async with _identity(system) as identity:
        refused = await identity.post("/v1/federation/agencies", json=_registration(agency, alias, MAPPED_TIER, tier))
    assert refused.status_code == 422, refused.text
    (fault,) = refused.json()["detail"]
    assert fault["loc"] == ["body", "mappings", 1, "tier"]
    assert tier in fault["msg"]
    assert "toàn ngành" in fault["msg"]
    assert alias not in _registered_aliases(system)


@pytest.fixture
async def identity_outside_development(system: System) -> AsyncIterator[None]:
    """Identity restarted without devstack's development setting, as production runs it; then as before."""
    process = system.services.processes["identity"]
    development = process.env
    assert development is not None
    assert development[ALLOW_HTTP] == "true"
    process.stop()
    process.env = {name: value for name, value in development.items() if name != ALLOW_HTTP}
    try:
        system.services.start("identity")
        await system.services.wait_ready("identity")
        yield
    finally:
        process.stop()
        process.env = development
        system.services.start("identity")
        await system.services.wait_ready("identity")


@pytest.mark.usefixtures("identity_outside_development")
async def test_a_partner_issuer_over_plain_http_is_refused_outside_development(system: System, agency: str) -> None:
    assert agency.startswith("http://")
    alias = unique_code("http").lower()
    async with _identity(system) as identity:
        refused = await identity.post("/v1/federation/agencies", json=_registration(agency, alias, MAPPED_TIER))
    assert refused.status_code == 422, refused.text
    (fault,) = refused.json()["detail"]
    assert fault["loc"] == ["body", "issuer"]
    assert "https" in fault["msg"]
    assert alias not in _registered_aliases(system)


def _tiers_in(token: str) -> set[str]:
    roles: list[str] = jwt.decode(token, options={"verify_signature": False})["realm_access"]["roles"]
    return set(roles) & TIER_NAMES


async def test_a_forbidden_mapper_added_on_keycloaks_admin_api_is_removed_with_what_it_gave(
    system: System, registered: str
) -> None:
    """Keycloak's master admin (beyond identity's rights) gives every user of the agency the
    system-admin tier and turns a unit mapper into a sector one, and the agency's user logs in
    meanwhile; identity removes both mappers, takes both tiers back and ends that user's sessions."""
    admin = system.infra.keycloak_admin("qlcb")
    own = {m["id"] for m in admin.get_idp_mappers(ALIAS)}
    # Identity down, so the login below lands while the mappers are in place.
    system.services.stop("identity")
    try:
        admin.add_mapper_to_idp(
            ALIAS,
            {
                "name": "tay quan tri he thong",
                "identityProviderAlias": ALIAS,
                "identityProviderMapper": "oidc-hardcoded-role-idp-mapper",
                "config": {"role": "system-admin", "syncMode": "FORCE"},
            },
        )
        claim_mapper = {
            "name": "tay nhan su",
            "identityProviderAlias": ALIAS,
            "identityProviderMapper": "oidc-role-idp-mapper",
            "config": {
                "claim": "agency_groups",
                "claim.value": "thue-hanoi",
                "role": "local-officer",
                "syncMode": "FORCE",
            },
        }
        admin.add_mapper_to_idp(ALIAS, claim_mapper)
        (added,) = [m for m in admin.get_idp_mappers(ALIAS) if m["name"] == claim_mapper["name"]]
        admin.update_mapper_in_idp(ALIAS, added["id"], {**added, "config": {**added["config"], "role": "sector-hr"}})
        given = browser_login(system, "mapped.btc", PASSWORD, idp_hint=ALIAS)
        assert _tiers_in(given) == {MAPPED_TIER, "system-admin", "sector-hr"}
    finally:
        system.services.start("identity")
        await system.services.wait_ready("identity")
    (user,) = [u for u in admin.get_users({"idpAlias": ALIAS}) if u["username"] == "mapped.btc"]

    async def left() -> tuple[set[str], int]:
        """The forbidden tiers a mapper still gives or the user still holds, and the user's sessions."""
        given = {str(m["config"].get("role")) for m in admin.get_idp_mappers(ALIAS)}
        held = {r["name"] for r in admin.get_realm_roles_of_user(user["id"])}
        return (given | held) & set(FORBIDDEN_TIERS), len(admin.get_sessions(user["id"]))

    await eventually(
        left,
        lambda found: found == (set(), 0),
        timeout=60,
        what="identity to remove the forbidden mappers, take back what they gave and end the sessions",
    )
    assert {m["id"] for m in admin.get_idp_mappers(ALIAS)} == own
    assert MAPPED_TIER in {r["name"] for r in admin.get_realm_roles_of_user(user["id"])}
    token = browser_login(system, "mapped.btc", PASSWORD, idp_hint=ALIAS)
    assert _tiers_in(token) == {MAPPED_TIER}
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        me = (await api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["tiers"] == [MAPPED_TIER]
