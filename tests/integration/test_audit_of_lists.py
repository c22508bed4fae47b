"""Lists of people in the audit trail (R-PER-7): paging through a search or a unit's list is a read of
those people, so each page is on record with who asked, the criteria as asked and the rows given,
in the unit searched, where its admins and those above see it and no other unit does. A refused
search leaves nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import System, api_client, person_body, unique_code


async def _unit(api: httpx.AsyncClient, parent_id: str) -> str:
    body = {"code": unique_code("DS"), "name": "Đội Danh sách", "kind": "sub_unit", "parent_id": parent_id}
    created = await api.post("/v1/units", json=body | {"effective_date": "2000-01-01", "decision": "2/QĐ-DS"})
    assert created.status_code == 201, created.text
    unit_id: str = created.json()["id"]
    return unit_id


async def _people(api: httpx.AsyncClient, unit_id: str, names: list[str]) -> None:
    for name in names:
        created = await api.post("/v1/persons", json=person_body(unit_id, name, born="1990-07-08"))
        assert created.status_code == 201, created.text


async def _listed(api: httpx.AsyncClient, unit_id: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/audit", params={"unit_id": unit_id, "action": "read", "page_size": 50})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return [e for e in entries if e["target"] == "persons"]


async def test_each_page_of_a_search_is_on_record_with_its_criteria_and_rows(system: System) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        unit = await _unit(admin, system.unit_ids["HQHN-NB"])
        await _people(admin, unit, ["Phan Văn Một", "Phan Văn Hai", "Phan Thị Ba"])
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        second = await hanoi.get("/v1/persons", params={"unit_id": unit, "page": 2, "page_size": 2})
        refused = await hanoi.get("/v1/persons", params={"unit_id": unit, "page_size": 100000})
        listed = await hanoi.get(f"/v1/units/{unit}/persons", params={"page_size": 2})
        noted = await _listed(hanoi, unit)
    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as elsewhere:
        seen_elsewhere = await elsewhere.get("/v1/audit", params={"action": "read", "page_size": 200})

    assert second.status_code == 200, second.text
    assert second.json()["total"] == 3
    assert refused.status_code == 422, refused.text
    assert listed.status_code == 200, listed.text
    search = [e for e in noted if "page" in e["details"]["criteria"]]
    assert len(search) == 1, "one page asked, one entry; the refused search left none"
    [page] = search
    assert page["account"] == "qthanoi"
    assert page["details"]["criteria"] == {"unit_id": unit, "page": 2, "page_size": 2}
    assert (page["details"]["rows"], page["details"]["total"]) == (1, 3)
    assert page["person_id"] is None
    [unit_list] = [e for e in noted if e not in search]
    assert unit_list["details"]["criteria"] == {"unit_id": unit, "page_size": 2}
    assert unit_list["details"]["rows"] == 2
    assert seen_elsewhere.status_code == 200, seen_elsewhere.text
    # Hồ Chí Minh's head sees none of Hà Nội's reads of its unit (another test's search by Hà Nội of a
    # unit of Hồ Chí Minh is filed there, where it was asked).
    of_this_unit = [
        e for e in seen_elsewhere.json()["entries"] if e["details"].get("criteria", {}).get("unit_id") == unit
    ]
    assert not of_this_unit


async def test_a_search_naming_no_unit_is_on_record_in_the_callers_own_unit(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        q = unique_code("Tìm")
        found = await hanoi.get("/v1/persons", params={"q": q})
        noted = await hanoi.get(
            "/v1/audit", params={"unit_id": system.unit_ids["HQHN"], "action": "read", "page_size": 50}
        )

    assert found.status_code == 200, found.text
    assert noted.status_code == 200, noted.text
    entries = noted.json()["entries"]
    [entry] = [e for e in entries if e["target"] == "persons" and e["details"]["criteria"].get("q") == q]
    assert entry["unit_path"] == "/TCHQ/HQHN"
    assert entry["details"]["rows"] == 0


async def test_the_lists_of_a_units_people_by_retirement_term_transfer_and_lateness_are_on_record(
    system: System,
) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        unit = await _unit(admin, system.unit_ids["HQHN-NB"])
        await _people(admin, unit, ["Hà Văn Hưu", "Hà Thị Nhiệm"])
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        asked = {
            "retirements_due": await hanoi.get(f"/v1/units/{unit}/retirements-due", params={"from": "2026-01-01"}),
            "terms_ending": await hanoi.get(f"/v1/units/{unit}/terms-ending", params={"from": "2026-01-01"}),
            "transfers": await hanoi.get(f"/v1/units/{unit}/transfers"),
            "late_entries": await hanoi.get(
                f"/v1/units/{unit}/late-entries", params={"from": "2026-01-01", "to": "2026-12-31"}
            ),
        }
        noted = await hanoi.get("/v1/audit", params={"unit_id": unit, "action": "read", "page_size": 50})
    assert {what: r.status_code for what, r in asked.items()} == dict.fromkeys(asked, 200)
    assert noted.status_code == 200, noted.text
    entries = {e["target"]: e for e in noted.json()["entries"] if e["target"] in asked}
    assert set(entries) == set(asked)
    for entry in entries.values():
        assert entry["account"] == "qthanoi"
        assert entry["details"]["criteria"]["unit_id"] == unit
        assert isinstance(entry["details"]["rows"], int)
    assert entries["retirements_due"]["details"]["criteria"]["from_date"] == "2026-01-01"
