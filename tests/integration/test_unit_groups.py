"""Keycloak groups mirror the unit tree: a unit established in personnel becomes a group,
and an account placed in it carries the unit in its token."""

from __future__ import annotations

import asyncio

import httpx

from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.support import System, eventually, unique_code


async def test_an_established_unit_becomes_a_group_and_a_token_unit(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    code = unique_code("G")
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        parent = await api.post(
            "/v1/units",
            json={
                "code": code,
                "name": "Cục Hải quan tỉnh Lạng Sơn",
                "kind": "provincial_department",
                "parent_id": system.root_unit_id,
            },
        )
        child = await api.post(
            "/v1/units",
            json={
                "code": f"{code}-CC",
                "name": "Chi cục Hải quan cửa khẩu Hữu Nghị",
                "kind": "sub_unit",
                "parent_id": parent.json()["id"],
            },
        )
    assert child.status_code == 201, child.text
    path = child.json()["path"]
    admin = system.infra.keycloak_admin()

    async def group_id() -> str | None:
        try:
            group = await asyncio.to_thread(admin.get_group_by_path, path)
        except Exception:
            return None
        return group.get("id") if isinstance(group, dict) else None

    found = await eventually(group_id, lambda g: g is not None, timeout=60, what=f"group {path}")
    assert found is not None
    username = unique_code("u").lower()
    ensure_user(admin, Account(username, "Mật khẩu 2026", "local-officer", path, "Lò Văn Nghị"))
    token = password_token(system.infra.keycloak.base_url, username, "Mật khẩu 2026")
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        me = (await api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["unit_path"] == path
    assert me["unit_code"] == f"{code}-CC"
    groups = await asyncio.to_thread(admin.get_group_by_path, f"/TCHQ/{code}")
    assert groups["name"] == code
