"""The sections no other test uses for what they hold (issue 8.1, 8.2, 8.7): military service, health,
policy status, personal history, rotations, secondments and labour contracts. Each is recorded,
read back in its section and in the whole record, corrected at its version (the wrong value kept as
superseded), and retracted; each refuses its own bad input naming the field, writing nothing; two
labour contracts may not run at once, and the refusal names the contract in the way."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import System, api_client, person_body

DECISION = {"number": "31/QĐ-HQHN", "date": "2018-12-20", "body": "Cục Hải quan TP Hà Nội"}

SECTIONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # section: (the entry as first recorded, the values its correction changes)
    "military_service": (
        {"values": {"highest_rank": "Thượng úy", "unit_name": "Sư đoàn 312"}, "valid_from": "2003-02-01"}
        | {"valid_to": "2005-02-01"},
        {"highest_rank": "Đại úy"},
    ),
    "health": (
        {
            "values": {"status": "Tốt", "height_cm": 168, "weight_kg": 62, "blood_group": "O"},
            "valid_from": "2024-05-10",
        },
        {"weight_kg": 64},
    ),
    "policy_status": (
        {"values": {"kind": "Con thương binh", "note": "Thương binh hạng 3/4"}, "valid_from": "2010-01-01"},
        {"kind": "Con liệt sĩ"},
    ),
    "personal_history": (
        {"values": {"detention": "Không", "foreign_organisations": "Không", "relatives_abroad": "Em gái ở Nhật Bản"}},
        {"relatives_abroad": "Em gái ở Hàn Quốc"},
    ),
    "rotations": (
        {"values": {"unit_name": "Chi cục Hải quan Bắc Ninh", "post": "Phó Chi cục trưởng", "term_months": 36}}
        | {"valid_from": "2019-01-01", "decision": DECISION},
        {"term_months": 24},
    ),
    "secondments": (
        {"values": {"host_unit": "UBND tỉnh Lào Cai", "post": "Chuyên viên"}, "valid_from": "2019-01-01"}
        | {"valid_to": "2020-12-31", "decision": DECISION},
        {"host_unit": "UBND tỉnh Lạng Sơn"},
    ),
    "labour_contracts": (
        {
            "values": {"contract_type": "XAC_DINH", "job": "Lái xe"},
            "valid_from": "2008-01-01",
            "valid_to": "2010-12-31",
        },
        {"job": "Lái xe cơ quan"},
    ),
}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    # section: (a bad entry, the field refused)
    "military_service": ({"values": {"highest_rank": "Đ" * 51}, "valid_from": "2003-02-01"}, "values.highest_rank"),
    "health": ({"values": {"status": "Tốt", "height_cm": 300}, "valid_from": "2024-05-10"}, "values.height_cm"),
    "policy_status": ({"values": {"note": "Không có loại"}, "valid_from": "2010-01-01"}, "values.kind"),
    "personal_history": ({"values": {"detention": "Không", "hobbies": "Đọc sách"}}, "values.hobbies"),
    "rotations": (
        {"values": {"unit_name": "Chi cục", "post": "Phó", "term_months": 121}, "valid_from": "2019-01-01"}
        | {"decision": DECISION},
        "values.term_months",
    ),
    "secondments": ({"values": {"host_unit": "UBND tỉnh Lào Cai"}, "valid_from": "2019-01-01"}, "decision.number"),
    "labour_contracts": (
        {"values": {"contract_type": "VINH_VIEN", "job": "Lái xe"}, "valid_from": "2008-01-01"},
        "values.contract_type",
    ),
}


async def _person(api: httpx.AsyncClient, system: System, name: str) -> str:
    created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], name, born="1980-06-06"))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    return person_id


@pytest.mark.parametrize("section", list(SECTIONS))
async def test_a_section_is_recorded_read_corrected_and_retracted(system: System, section: str) -> None:
    first, correction = SECTIONS[section]
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, f"Kiều Văn Mục {section}")
        url = f"/v1/persons/{person}/{section}"
        added = await api.post(url, json=first)
        assert added.status_code == 201, added.text
        entry = added.json()
        assert ({k: entry["values"][k] for k in first["values"]}, entry["version"]) == (first["values"], 1)
        assert (entry["valid_from"], entry["valid_to"]) == (first.get("valid_from"), first.get("valid_to"))
        whole = (await api.get(f"/v1/persons/{person}/record")).json()["sections"][section]
        assert [e["entry_id"] for e in whole] == [entry["entry_id"]]

        fixed = first | {"values": first["values"] | correction}
        corrected = await api.put(f"{url}/{entry['entry_id']}", json=fixed, headers={"If-Match": '"1"'})
        assert corrected.status_code == 200, corrected.text
        shown = corrected.json()
        assert ({k: shown["values"][k] for k in fixed["values"]}, shown["change"]) == (fixed["values"], "corrected")
        stale = await api.put(f"{url}/{entry['entry_id']}", json=first, headers={"If-Match": '"1"'})
        assert stale.status_code == 412, stale.text
        versions = (await api.get(f"{url}/{entry['entry_id']}/versions")).json()
        given = {v["version"]: {k: v["values"][k] for k in first["values"]} for v in versions}
        assert given == {1: first["values"], 2: fixed["values"]}

        retracted = await api.delete(f"{url}/{entry['entry_id']}", headers={"If-Match": '"2"'})
        assert retracted.status_code == 200, retracted.text
        assert (await api.get(url)).json() == []


@pytest.mark.parametrize("section", list(BAD))
async def test_a_sections_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    system: System, section: str
) -> None:
    body, field = BAD[section]
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, f"Kiều Thị Sai {section}")
        refused = await api.post(f"/v1/persons/{person}/{section}", json=body)
        assert refused.status_code == 422, refused.text
        named = {".".join(map(str, item["loc"][1:])) for item in refused.json()["detail"]}
        assert field in named, refused.text
        assert (await api.get(f"/v1/persons/{person}/{section}")).json() == []


async def test_two_labour_contracts_may_not_run_at_once_and_the_refusal_names_the_one_in_the_way(
    system: System,
) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Kiều Văn Hợp Đồng")
        url = f"/v1/persons/{person}/labour_contracts"
        first = await api.post(url, json=SECTIONS["labour_contracts"][0])
        assert first.status_code == 201, first.text
        overlapping = {"values": {"contract_type": "MUA_VU", "job": "Bảo vệ"}, "valid_from": "2010-06-01"}
        refused = await api.post(url, json=overlapping | {"valid_to": "2011-05-31"})
        assert refused.status_code == 409, refused.text
        assert first.json()["entry_id"] in refused.json()["detail"]["message"], refused.text
        after = await api.post(url, json=overlapping | {"valid_from": "2011-01-01", "valid_to": "2011-12-31"})
        assert after.status_code == 201, after.text
        assert [e["valid_from"] for e in (await api.get(url)).json()] == ["2008-01-01", "2011-01-01"]


async def test_the_whole_record_says_when_each_current_term_of_office_ends(system: System) -> None:
    """An appointment for five years from 1 March 2025 ends on 28 February 2030, a rotation for two
    years from 1 January 2026 on 31 December 2027: the whole record lists them soonest first, and as
    of a day before either began, none."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Kiều Văn Nhiệm Kỳ")
        appointment = {
            "values": {"kind": "BO_NHIEM", "post": "Đội trưởng", "post_code": "DOI_TRUONG", "unit_name": "Đội 1"}
            | {"term_months": 60},
            "valid_from": "2025-03-01",
            "decision": DECISION,
        }
        rotation = SECTIONS["rotations"][0] | {"valid_from": "2026-01-01"}
        rotation["values"] = rotation["values"] | {"term_months": 24}
        made = {}
        for section, body in (("appointments", appointment), ("rotations", rotation)):
            added = await api.post(f"/v1/persons/{person}/{section}", json=body)
            assert added.status_code == 201, added.text
            made[section] = added.json()["entry_id"]
        terms = (await api.get(f"/v1/persons/{person}/record", params={"as_of": "2026-06-30"})).json()["terms"]
        assert terms == [
            {
                "entry_id": made["rotations"],
                "section": "rotations",
                "post": "Phó Chi cục trưởng",
                "ends_on": "2027-12-31",
            },
            {
                "entry_id": made["appointments"],
                "section": "appointments",
                "post": "Đội trưởng",
                "ends_on": "2030-02-28",
            },
        ]
        before = (await api.get(f"/v1/persons/{person}/record", params={"as_of": "2024-12-31"})).json()
        assert before["terms"] == []


async def test_a_units_terms_ending_in_a_period_are_listed_soonest_first_inside_the_callers_scope(
    system: System,
) -> None:
    """Nội Bài's people whose term ends in 2026: an appointment of five years from 1 July 2021 (ends
    30 June 2026) and a rotation of two years from 1 January 2025 (ends 31 December 2026); not an
    appointment ending in 2027, nor one cut short by its entry's end, nor a retired person's. Another
    province's leader is refused Hà Nội's list; a period over five years is refused."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:

        async def appointed(name: str, section: str, start: str, months: int, end: str | None = None) -> str:
            person = await _person(api, system, name)
            values = {"unit_name": "Đội Kiểm soát", "post": "Đội trưởng", "term_months": months}
            if section == "appointments":
                values |= {"kind": "BO_NHIEM", "post_code": "DOI_TRUONG"}
            body = {"values": values, "valid_from": start, "decision": DECISION} | ({"valid_to": end} if end else {})
            added = await api.post(f"/v1/persons/{person}/{section}", json=body)
            assert added.status_code == 201, added.text
            return person

        first = await appointed("Kiều Văn Hết Hạn", "appointments", "2021-07-01", 60)
        second = await appointed("Kiều Văn Luân Chuyển", "rotations", "2025-01-01", 24)
        await appointed("Kiều Văn Còn Hạn", "appointments", "2022-07-01", 60)
        await appointed("Kiều Văn Thôi Giữ", "appointments", "2021-08-01", 60, end="2024-12-31")
        gone = await appointed("Kiều Văn Nghỉ Hưu", "appointments", "2021-09-01", 60)
        retired = {"status": "retired", "effective_date": "2025-12-31", "decision": "9/QĐ-HQHN"}
        assert (await api.post(f"/v1/persons/{gone}/status", json=retired)).status_code == 200

        unit = system.unit_ids["HQHN-NB"]
        listed = await api.get(f"/v1/units/{unit}/terms-ending", params={"from": "2026-01-01", "months": 12})
        assert listed.status_code == 200, listed.text
        mine = [(i["person"]["id"], i["term"]["section"], i["term"]["ends_on"]) for i in listed.json()]
        assert [m for m in mine if m[0] in (first, second)] == [
            (first, "appointments", "2026-06-30"),
            (second, "rotations", "2026-12-31"),
        ]
        names = {i["person"]["full_name"] for i in listed.json()}
        assert not names & {"Kiều Văn Còn Hạn", "Kiều Văn Thôi Giữ", "Kiều Văn Nghỉ Hưu"}
        too_long = await api.get(f"/v1/units/{unit}/terms-ending", params={"from": "2026-01-01", "months": 61})
        assert too_long.status_code == 422, too_long.text
    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as elsewhere:
        hanoi = system.unit_ids["HQHN"]
        refused = await elsewhere.get(
            f"/v1/units/{hanoi}/terms-ending", params={"from": "2026-01-01", "include_subtree": "true"}
        )
        assert refused.status_code == 403, refused.text
