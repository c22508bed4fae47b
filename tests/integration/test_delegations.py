"""Delegations as data (R-TIER-2, 001 Điều 6.1.d): granted and revoked by a sector tier in
identity, for named tiers of the grantee unit, over a unit subtree or listed people anywhere in
the sector, for a period; in force in the enforcing services within seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from qlcb_common.days import vietnam_today
from qlcb_devstack.accounts import Account, ensure_user, password_token
from tests.support import System, api_client, eventually, person_body, unique_code

GRANTEE = "/TCHQ/CDTCBL"
_IN_FORCE: set[str] = set()
"""Delegations a test granted and has not revoked yet."""


@pytest.fixture(autouse=True)
async def _nothing_left_in_force(system: System) -> AsyncIterator[None]:
    """A test that fails half-way must not leave its delegation to the tests that follow: the
    Anti-smuggling Dept would read Hồ Chí Minh City's records in all of them."""
    yield
    while _IN_FORCE:
        await _revoke(system, _IN_FORCE.pop())


def _grant(**changes: Any) -> dict[str, Any]:
    """The Director General lets the Anti-smuggling Dept's working accounts manage the records
    of Hồ Chí Minh City customs (a unit outside its own subtree)."""
    return {
        "unit_path": GRANTEE,
        "tiers": ["hq-unit"],
        "records": {"unit_path": "/TCHQ/HQHCM"},
        "sections": ["identity", "work_history"],
        "actions": ["read", "update"],
        "valid_from": vietnam_today().isoformat(),
        "reason": "Quyết định ủy quyền số 01/QĐ-TCHQ",
    } | changes


async def _person(system: System, unit: str, name: str) -> dict[str, Any]:
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        created = await api.post("/v1/persons", json=person_body(system.unit_ids[unit], name))
    assert created.status_code == 201, created.text
    person: dict[str, Any] = created.json()
    return person


async def _granted(system: System, body: dict[str, Any]) -> dict[str, Any]:
    async with api_client(system.services.identity_url, system.token("vutccb")) as identity:
        granted = await identity.post("/v1/delegations", json=body)
    assert granted.status_code == 201, granted.text
    result: dict[str, Any] = granted.json()
    _IN_FORCE.add(result["id"])
    return result


async def _revoke(system: System, delegation_id: str) -> None:
    _IN_FORCE.discard(delegation_id)
    async with api_client(system.services.identity_url, system.token("vutccb")) as identity:
        assert (await identity.delete(f"/v1/delegations/{delegation_id}")).status_code == 200


def _retire() -> dict[str, str]:
    return {"status": "retired", "effective_date": vietnam_today().isoformat(), "decision": "12/QĐ-HQHCM"}


async def test_a_delegation_over_another_subtree_is_in_force_within_seconds_and_revoked_as_fast(
    system: System,
) -> None:
    """An HQ unit reads and writes nothing outside its own unit, until it is delegated records
    of Hồ Chí Minh City; then those, and nothing else."""
    in_hcm = await _person(system, "HQHCM-TSN", "Hồ Văn Ủy")
    in_hanoi = await _person(system, "HQHN-NB", "Hà Văn Ngoài")
    async with api_client(system.gateway_url, system.token("cucdtcbl")) as api:

        async def read() -> int:
            return (await api.get(f"/v1/persons/{in_hcm['id']}")).status_code

        assert await read() == 404
        async with api_client(system.services.identity_url, system.token("cucdtcbl")) as identity:
            refused = await identity.post("/v1/delegations", json=_grant())
        assert refused.status_code == 403, "an HQ unit cannot delegate to itself"
        granted = await _granted(system, _grant())
        await eventually(read, lambda code: code == 200, timeout=15, what="the delegation to take effect")
        assert (await api.get(f"/v1/persons/{in_hanoi['id']}")).status_code == 404, "HQHN is not delegated"
        assert in_hcm["id"] in await _listed(api, system.unit_ids["HQHCM"])
        await _revoke(system, granted["id"])
        await eventually(read, lambda code: code == 404, timeout=15, what="the revocation to take effect")


async def _listed(api: httpx.AsyncClient, unit_id: str) -> set[str]:
    """The ids of everyone the caller may list in the unit's subtree, page after page (in the order
    of their ids, so one page may not hold the person looked for)."""
    ids: set[str] = set()
    params = {"include_subtree": "true", "page_size": "500"}
    while True:
        listed = await api.get(f"/v1/units/{unit_id}/persons", params=params)
        assert listed.status_code == 200, listed.text
        ids |= {p["id"] for p in listed.json()["items"]}
        if not listed.json()["next_page_token"]:
            return ids
        params["page_token"] = listed.json()["next_page_token"]


async def test_a_delegation_serves_only_the_tiers_it_names(system: System) -> None:
    """The attack of the review: with work history delegated to a department, a `self` clerk of
    that department must not retire colleagues elsewhere (and so disable their logins)."""
    clerk = Account("vanthu.cdtcbl", "Văn thư 2026!", "self", GRANTEE, "Phan Thị Văn")
    ensure_user(system.infra.keycloak_admin(), clerk)
    clerk_token = password_token(system.infra.keycloak.base_url, clerk.username, clerk.password)
    target = await _person(system, "HQHCM-SG1", "Lý Văn Đích")
    granted = await _granted(system, _grant())
    async with (
        api_client(system.gateway_url, system.token("cucdtcbl")) as grantee,
        api_client(system.gateway_url, clerk_token) as self_clerk,
    ):

        async def grantee_reads() -> int:
            return (await grantee.get(f"/v1/persons/{target['id']}")).status_code

        await eventually(grantee_reads, lambda code: code == 200, timeout=15, what="the delegation to take effect")
        assert (await self_clerk.get(f"/v1/persons/{target['id']}")).status_code == 404
        retired = await self_clerk.post(f"/v1/persons/{target['id']}/status", json=_retire())
        assert retired.status_code == 404, retired.text
        async with api_client(system.gateway_url, system.token("quantri")) as admin:
            still = (await admin.get(f"/v1/persons/{target['id']}")).json()
        assert still["status"] == "active", "the clerk's attempt changed nothing"
    await _revoke(system, granted["id"])


async def test_a_delegation_over_listed_people_covers_them_wherever_they_sit(system: System) -> None:
    listed = await _person(system, "HQHN-BHN", "Tạ Văn Danh")
    neighbour = await _person(system, "HQHN-BHN", "Tạ Văn Bên")
    granted = await _granted(system, _grant(records={"person_ids": [listed["id"]]}))
    async with api_client(system.gateway_url, system.token("cucdtcbl")) as api:

        async def read() -> int:
            return (await api.get(f"/v1/persons/{listed['id']}")).status_code

        await eventually(read, lambda code: code == 200, timeout=15, what="the delegation to take effect")
        assert (await api.get(f"/v1/persons/{neighbour['id']}")).status_code == 404
        # A search finds the listed person and not the neighbour: by name (among the people) and by
        # their unit (over the rows of the day, ADR 0051), the scope a condition of the query either way.
        by_name = await api.get("/v1/persons", params={"q": "Tạ Văn", "page_size": 500})
        by_unit = await api.get("/v1/persons", params={"unit_id": system.unit_ids["HQHN-BHN"], "page_size": 500})
    for found in (by_name, by_unit):
        assert found.status_code == 200, found.text
        names = [p["full_name"] for p in found.json()["items"]]
        assert "Tạ Văn Danh" in names, names
        assert "Tạ Văn Bên" not in names, names
        assert found.json()["total"] == len(names)
    await _revoke(system, granted["id"])


async def test_a_delegation_outside_its_period_gives_nothing(system: System) -> None:
    target = await _person(system, "HQHCM-TSN", "Kiều Văn Hạn")
    tomorrow = vietnam_today() + timedelta(days=1)
    later = await _granted(system, _grant(valid_from=tomorrow.isoformat()))
    now = await _granted(system, _grant(records={"person_ids": [target["id"]]}, sections=["family"]))
    async with api_client(system.gateway_url, system.token("cucdtcbl")) as api:
        # The second grant shows the copies are current; the first (from tomorrow) gives nothing yet.
        await eventually(
            lambda: api.get(f"/v1/persons/{target['id']}"),
            lambda r: r.status_code == 200,
            timeout=15,
            what="the grant in force to take effect",
        )
        other = await _person(system, "HQHCM-SG1", "Kiều Thị Sau")
        assert (await api.get(f"/v1/persons/{other['id']}")).status_code == 404
    await _revoke(system, later["id"])
    await _revoke(system, now["id"])


async def test_a_delegation_names_its_bad_fields_and_grants_no_more_than_the_grantor_holds(system: System) -> None:
    async with api_client(system.services.identity_url, system.token("vutccb")) as identity:
        response = await identity.post(
            "/v1/delegations",
            json=_grant(sections=["payroll"], tiers=["self"], valid_to="2020-01-01", records={}),
        )
        assert response.status_code == 422
        named = {tuple(e["loc"][:2]) for e in response.json()["detail"]}
        assert {("body", "sections"), ("body", "tiers")} <= named
        no_target = await identity.post("/v1/delegations", json=_grant(records={}))
        assert no_target.status_code == 422
        assert "records" in no_target.text
        backwards = await identity.post("/v1/delegations", json=_grant(valid_to="2020-01-01"))
        assert backwards.status_code == 422
        assert "valid_to" in backwards.text
        # The Personnel Dept reads reports but may not write them: it cannot delegate that.
        beyond = await identity.post("/v1/delegations", json=_grant(sections=["reports"], actions=["update"]))
        assert beyond.status_code == 403


async def test_a_delegation_of_the_unit_tree_alone_moves_nobody(system: System) -> None:
    """16 (Low): merging or splitting units moves their staff, a movement at both ends. An HQ unit
    delegated only the unit tree of Hồ Chí Minh City may not merge or split a unit with staff
    there; with movements delegated too, it may."""
    async with api_client(system.gateway_url, system.token("quantri")) as sector:

        async def unit(code: str) -> dict[str, Any]:
            body = {"code": unique_code(code), "name": f"Đội {code}", "kind": "sub_unit"}
            created = await sector.post("/v1/units", json=body | {"parent_id": system.unit_ids["HQHCM"]})
            assert created.status_code == 201, created.text
            result: dict[str, Any] = created.json()
            return result

        source, target, split = await unit("NGUON"), await unit("DICH"), await unit("TACH")
        for where, name in ((source, "Lâm Văn Gộp"), (split, "Lâm Thị Tách")):
            assert (await sector.post("/v1/persons", json=person_body(where["id"], name))).status_code == 201
        staff = (await sector.get(f"/v1/units/{split['id']}/persons")).json()["items"]
    decided = {"effective_date": vietnam_today().isoformat(), "decision": "15/QĐ-TCHQ"}
    merger = {"source_unit_ids": [source["id"]], "target_unit_id": target["id"]} | decided
    successors = [{"code": unique_code("TA"), "name": "Đội A", "kind": "sub_unit"} for _ in range(2)]
    division = {
        "successors": successors,
        "persons": [{"id": staff[0]["id"], "successor_code": successors[0]["code"]}],
        "sub_units": [],
    } | decided
    tree_only = await _granted(system, _grant(sections=["unit"], actions=["read", "create", "update"]))
    async with api_client(system.gateway_url, system.token("cucdtcbl")) as api:

        async def merge() -> int:
            return (await api.post("/v1/unit-mergers", json=merger)).status_code

        await eventually(merge, lambda code: code == 403, timeout=15, what="the unit tree delegated alone")
        assert (await api.post(f"/v1/units/{split['id']}/split", json=division)).status_code == 403
        await _revoke(system, tree_only["id"])
        both = await _granted(system, _grant(sections=["unit", "movement"], actions=["read", "create", "update"]))
        merged = await eventually(merge, lambda code: code != 403, timeout=15, what="movements delegated too")
        assert merged == 200
        split_done = await api.post(f"/v1/units/{split['id']}/split", json=division)
        assert split_done.status_code == 200, split_done.text
        await _revoke(system, both["id"])
