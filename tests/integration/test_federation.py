"""Federation (R-ACC-10): a second realm plays another agency; its users log in through the
broker with a browser-style redirect flow and land with the tier and unit mapped from their
claims, or with nothing where no mapping matches."""

from __future__ import annotations

import httpx
import pytest

from qlcb_devstack.accounts import Account, ensure_user
from tests.support import System, browser_login

AGENCY_REALM = "bo-tai-chinh"
ALIAS = "botaichinh"
PASSWORD = "Cán bộ BTC 2026"


def _agency(system: System) -> str:
    """The agency's realm: a confidential client for the broker, two users, groups as claims."""
    master = system.infra.keycloak_admin("master")
    master.create_realm({"realm": AGENCY_REALM, "enabled": True}, skip_exists=True)
    agency = system.infra.keycloak_admin(AGENCY_REALM)
    broker = f"{system.infra.issuer}/broker/{ALIAS}/endpoint"
    agency.create_client(
        {
            "clientId": "qlcb-broker",
            "publicClient": False,
            "secret": "broker-secret-for-tests",
            "standardFlowEnabled": True,
            "redirectUris": [broker],
            "protocolMappers": [
                {
                    "name": "agency groups",
                    "protocol": "openid-connect",
                    "protocolMapper": "oidc-group-membership-mapper",
                    "config": {
                        "claim.name": "agency_groups",
                        "full.path": "false",
                        "id.token.claim": "true",
                        "access.token.claim": "true",
                        "userinfo.token.claim": "true",
                    },
                }
            ],
        },
        skip_exists=True,
    )
    agency.create_group({"name": "thue-hanoi"}, skip_exists=True)
    ensure_user(agency, Account("mapped.btc", PASSWORD, "offline_access", None, "Trịnh Văn Thuế"))
    ensure_user(agency, Account("unmapped.btc", PASSWORD, "offline_access", None, "Mai Thị Lạ"))
    mapped = agency.get_user_id("mapped.btc")
    assert mapped is not None
    agency.group_user_add(mapped, agency.get_group_by_path("/thue-hanoi")["id"])
    return f"{system.infra.keycloak.base_url}/realms/{AGENCY_REALM}"


@pytest.fixture(scope="module")
async def registered(system: System) -> str:
    issuer = _agency(system)
    async with httpx.AsyncClient(
        base_url=system.services.identity_url,
        headers={"Authorization": f"Bearer {system.token('quantri')}"},
        timeout=60,
    ) as identity:
        body = {
            "alias": ALIAS,
            "display_name": "Bộ Tài chính",
            "issuer": issuer,
            "client_id": "qlcb-broker",
            "client_secret": "broker-secret-for-tests",
            "mappings": [
                {"claim": "agency_groups", "value": "thue-hanoi", "tier": "sector-viewer", "unit_path": "/TCHQ/HQHN"}
            ],
        }
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
    return issuer


async def test_a_mapped_agency_user_lands_with_its_tier_and_unit(system: System, registered: str) -> None:
    token = browser_login(system, "mapped.btc", PASSWORD, idp_hint=ALIAS)
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        me = (await api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
        units = await api.get("/v1/units", headers={"Authorization": f"Bearer {token}"})
    assert me["tiers"] == ["sector-viewer"]
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
