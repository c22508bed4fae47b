"""Purpose accounts (R-ACC-2, R-ACC-3): issued to units within quotas, handed from holder to
holder with a history that answers "who held it on that day"."""

from __future__ import annotations

import asyncio

import httpx

from tests.support import System, unique_code


def _identity(system: System, username: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=system.services.identity_url,
        headers={"Authorization": f"Bearer {system.token(username)}"},
        timeout=60,
    )


async def _new_unit(system: System) -> str:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        response = await api.post(
            "/v1/units",
            json={
                "code": unique_code("Q"),
                "name": "Chi cục kiểm thử định mức",
                "kind": "sub_unit",
                "parent_id": system.unit_ids["HQHN"],
            },
        )
    assert response.status_code == 201, response.text
    path: str = response.json()["path"]
    return path


async def test_two_admins_racing_for_the_last_slot_get_one_account(system: System) -> None:
    unit = await _new_unit(system)
    async with _identity(system, "quantri") as sysadmin, _identity(system, "qthanoi") as local:
        refused = await local.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 2})
        assert refused.status_code == 403
        assert (
            await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 2})
        ).status_code == 200
        first = await local.post(
            "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Nhân sự 1", "tier": "local-officer"}
        )
        assert first.status_code == 201, first.text
        racing = await asyncio.gather(
            local.post(
                "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Nhân sự 2", "tier": "local-officer"}
            ),
            sysadmin.post(
                "/v1/purpose-accounts",
                json={"unit_path": unit, "purpose": "Chính sách cán bộ 1", "tier": "local-officer"},
            ),
        )
        no_admin_quota = await sysadmin.post(
            "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Quản trị", "tier": "local-admin"}
        )
    assert sorted(r.status_code for r in racing) == [201, 409]
    assert no_admin_quota.status_code == 409
    prefix = unit.rsplit("/", 1)[-1].lower()
    users = system.infra.keycloak_admin().get_users({"search": f"{prefix}."})
    assert len(users) == 2


async def test_who_held_the_account_on_a_given_day(system: System) -> None:
    unit = await _new_unit(system)
    async with _identity(system, "quantri") as sysadmin, _identity(system, "qthanoi") as local:
        await sysadmin.put("/v1/quotas", json={"unit_path": unit, "kind": "user", "limit": 1})
        account = (
            await local.post(
                "/v1/purpose-accounts", json={"unit_path": unit, "purpose": "Nhân sự 1", "tier": "local-officer"}
            )
        ).json()["account"]
        holders = f"/v1/purpose-accounts/{account['id']}/holders"
        assert (await local.post(holders, json={"holder_name": "Lê Thị Một", "since": "2026-01-05"})).status_code == 201
        assert (
            await local.post(holders, json={"holder_name": "Trần Văn Hai", "since": "2026-06-01"})
        ).status_code == 201
        backwards = await local.post(holders, json={"holder_name": "Sai Ngày", "since": "2026-03-01"})
        in_march = (await local.get(holders, params={"on": "2026-03-15"})).json()
        on_handover = (await local.get(holders, params={"on": "2026-06-01"})).json()
        before_any = (await local.get(holders, params={"on": "2025-12-31"})).json()
        history = (await local.get(holders)).json()
    async with _identity(system, "thutruong.hcm") as elsewhere:
        outside = await elsewhere.get(holders)
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["body", "since"]
    assert [h["holder_name"] for h in in_march] == ["Lê Thị Một"]
    assert [h["holder_name"] for h in on_handover] == ["Trần Văn Hai"]
    assert before_any == []
    assert [(h["holder_name"], h["valid_to"]) for h in history] == [
        ("Lê Thị Một", "2026-06-01"),
        ("Trần Văn Hai", None),
    ]
    assert outside.status_code == 403
