"""One thread through every service, on the real Keycloak, NATS and PostgreSQL."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.support import System, api_client, restore_by_two, unique_code, wait_for_headcount


async def test_unit_and_person_flow_through_every_service(system: System) -> None:
    token = system.token("quantri")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        me = (await api.get("/v1/me")).json()
        assert me["tiers"] == ["system-admin"]
        assert me["unit_path"] == "/TCHQ"

        root = (await api.get(f"/v1/units/{system.root_unit_id}")).json()
        code = unique_code("HQ")
        created = await api.post(
            "/v1/units",
            json={
                "code": code,
                "name": "Cục Hải quan tỉnh Quảng Ninh",
                "kind": "provincial_department",
                "parent_id": root["id"],
            },
        )
        assert created.status_code == 201, created.text
        unit = created.json()
        assert unit["path"] == f"/TCHQ/{code}"

        name = "Nguyễn Thị Thu Hà"
        person = await api.post(
            "/v1/persons",
            json={
                "personal_id": "022190000123",
                "staff_number": unique_code("S"),
                "full_name": name,
                "date_of_birth": "1990-05-17",
                "sex": "female",
                "unit_id": unit["id"],
            },
        )
        assert person.status_code == 201, person.text
        assert person.json()["full_name"] == name

        assert await wait_for_headcount(api, unit["id"], 1) == 1
        subtree = (await api.get(f"/v1/units/{root['id']}/headcount", params={"include_subtree": "true"})).json()
        assert subtree["headcount"] >= 1

        backup = await api.post("/v1/backups", json={"store": "personnel"})
        assert backup.status_code == 201, backup.text
    suffix = unique_code("restored").lower()
    restored = await restore_by_two(system, backup.json()["set_id"], suffix)
    assert restored.status_code == 200, restored.text
    (part,) = restored.json()["parts"]
    assert part["verified"] is True
    assert part["content_digest"] == backup.json()["content_digest"]
    target = part["target"]

    source = await asyncpg.connect(system.postgres_dsn("personnel"))
    copy = await asyncpg.connect(system.postgres_dsn(target))
    try:
        query = "SELECT id, personal_id, full_name, unit_id FROM persons ORDER BY id"
        source_rows = [tuple(r) for r in await source.fetch(query)]
        copy_rows = [tuple(r) for r in await copy.fetch(query)]
        assert (person.json()["id"], "022190000123", name, unit["id"]) in copy_rows
        # The restore is a snapshot: everything the copy holds was in the source at backup time.
        assert set(copy_rows) <= set(source_rows)
    finally:
        await source.close()
        await copy.close()


@pytest.mark.parametrize("store", ["identity", "reports", "backup"])
async def test_every_services_store_is_backed_up_and_restored_verified(system: System, store: str) -> None:
    """The demo and the tests back up every store, not personnel's alone."""
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        backup = await api.post("/v1/backups", json={"store": store})
        assert backup.status_code == 201, backup.text
    restored = await restore_by_two(system, backup.json()["set_id"], unique_code("restored").lower())
    assert restored.status_code == 200, restored.text
    (part,) = restored.json()["parts"]
    assert part["verified"] is True
    assert part["content_digest"] == backup.json()["content_digest"]


async def test_openapi_is_published(system: System) -> None:
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=30) as api:
        spec = (await api.get("/openapi.json")).json()
    assert {"/v1/units", "/v1/persons", "/v1/units/{unit_id}/headcount", "/v1/backups", "/v1/me"} <= set(spec["paths"])
    assert spec["paths"]["/v1/persons"]["post"]["requestBody"]
