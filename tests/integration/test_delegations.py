"""Delegations as data (R-TIER-2): granted and revoked by a sector tier in identity, in force
in the enforcing services within seconds."""

from __future__ import annotations

import httpx

from tests.support import System, eventually, person_body


def _person(system: System, unit: str = "CDTCBL") -> dict[str, str]:
    return person_body(system.unit_ids[unit], "Hồ Văn Ủy")


async def test_a_delegation_is_in_force_within_seconds_and_revoked_as_fast(system: System) -> None:
    """The Anti-smuggling Dept (an HQ unit) may not create records, until it is delegated to."""
    grant = {
        "unit_path": "/TCHQ/CDTCBL",
        "section": "identity",
        "action": "create",
        "scope": "own_unit",
        "reason": "Quyết định ủy quyền số 01/QĐ-TCHQ",
    }
    hq_unit = {"Authorization": f"Bearer {system.token('cucdtcbl')}"}
    async with (
        httpx.AsyncClient(base_url=system.gateway_url, headers=hq_unit, timeout=30) as api,
        httpx.AsyncClient(base_url=system.services.identity_url, timeout=30) as identity,
    ):
        assert (await api.post("/v1/persons", json=_person(system))).status_code == 403
        refused = await identity.post("/v1/delegations", json=grant, headers=hq_unit)
        assert refused.status_code == 403, "an HQ unit cannot delegate to itself"
        hr = {"Authorization": f"Bearer {system.token('vutccb')}"}
        granted = await identity.post("/v1/delegations", json=grant, headers=hr)
        assert granted.status_code == 201, granted.text

        async def create() -> int:
            return (await api.post("/v1/persons", json=_person(system))).status_code

        await eventually(create, lambda code: code == 201, timeout=15, what="the delegation to take effect")
        outside = await api.post("/v1/persons", json=_person(system, "HQHN"))
        assert outside.status_code == 403, "the delegation covers its own unit only"
        revoked = await identity.delete(f"/v1/delegations/{granted.json()['id']}", headers=hr)
        assert revoked.status_code == 200
        await eventually(create, lambda code: code == 403, timeout=15, what="the revocation to take effect")


async def test_a_delegation_names_its_bad_fields(system: System) -> None:
    hr = {"Authorization": f"Bearer {system.token('vutccb')}"}
    async with httpx.AsyncClient(base_url=system.services.identity_url, headers=hr, timeout=30) as identity:
        response = await identity.post(
            "/v1/delegations",
            json={
                "unit_path": "/TCHQ/CDTCBL",
                "section": "payroll",
                "action": "create",
                "scope": "sector",
                "reason": "x",
            },
        )
    assert response.status_code == 422
    assert {("body", "section"), ("body", "scope")} <= {tuple(e["loc"][:2]) for e in response.json()["detail"]}
