"""Communes in the record (R-PER-6, issue 8): the 3,321 xã, phường and đặc khu in force since
1 July 2025 and the 10,051 xã, phường and thị trấn of the three tiers before, listed whole or by
province as of a date, and an optional commune code beside each address of the residences and
the birthplace and home town, which must belong to the province the same entry gives and be
valid on the entry's date; every refusal names the field, nothing written."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from tests.support import System, api_client, person_body, unique_code

DETAILS = {
    "birthplace": "Ba Đình, Hà Nội",
    "home_town": "Tân Định, TP Hồ Chí Minh",
    "ethnicity": "01",
    "religion": "KHONG",
}
RESIDENCE = {"permanent_residence": "Số 1 phố Kim Mã, Ba Đình", "current_residence": "Số 8 Hai Bà Trưng, Tân Định"}
BA_DINH, TAN_DINH, THUC_PHAN = "00004", "26737", "01273"
"""Phường Ba Đình (Hà Nội, 01), Phường Tân Định (TP Hồ Chí Minh, 79), Phường Thục Phán (Cao Bằng, 04)
from July 2025; before, the same codes were Phường Trúc Bạch (quận Ba Đình), Phường Đa Kao (Quận 1)
and Phường Hợp Giang (thành phố Cao Bằng)."""
MOC_CHAU = "03980"
"""Phường Mộc Châu (Sơn La), a code first given in July 2025."""


async def _person(api: httpx.AsyncClient, system: System, name: str) -> str:
    created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], name, born="1990-04-02"))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    return person_id


async def test_addresses_take_a_commune_of_their_province_before_and_from_july_2025_and_read_back(
    system: System,
) -> None:
    """A residence of 2024 names the three-tier communes of then; the one from 1 July 2025 names
    the new communes (some under the same codes) and closes it; the birthplace and home town take
    theirs; the whole record reads each as of its date."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Phạm Thị Phường")
        base = f"/v1/persons/{person}"
        provinces = {"permanent_residence_province": "01", "current_residence_province": "79"}
        communes = {"permanent_residence_commune": BA_DINH, "current_residence_commune": TAN_DINH}
        in_2024 = await api.post(
            f"{base}/residences", json={"values": RESIDENCE | provinces | communes, "valid_from": "2024-01-01"}
        )
        from_july = await api.post(
            f"{base}/residences", json={"values": RESIDENCE | provinces | communes, "valid_from": "2025-07-01"}
        )
        places = {
            "birthplace_province": "01",
            "birthplace_commune": BA_DINH,
            "home_town_province": "79",
            "home_town_commune": TAN_DINH,
        }
        details = await api.post(
            f"{base}/personal_details", json={"values": DETAILS | places, "valid_from": "2025-08-01"}
        )
        residences = (await api.get(f"{base}/residences")).json()
        now = (await api.get(f"{base}/record", params={"as_of": "2026-01-01"})).json()["sections"]
        before = (await api.get(f"{base}/record", params={"as_of": "2025-01-01"})).json()["sections"]
    assert (in_2024.status_code, from_july.status_code, details.status_code) == (201, 201, 201), from_july.text
    assert [(e["valid_from"], e["valid_to"]) for e in residences] == [
        ("2024-01-01", "2025-06-30"),
        ("2025-07-01", None),
    ]
    stored = [{k: v for k, v in e["values"].items() if v is not None} for e in now["residences"]]
    assert stored == [RESIDENCE | provinces | communes] * 2
    assert [e["valid_to"] for e in now["residences"]] == ["2025-06-30", None]
    (place,) = now["personal_details"]
    assert {k: v for k, v in place["values"].items() if v is not None} == DETAILS | places
    assert [e["values"]["permanent_residence_commune"] for e in before["residences"]] == [BA_DINH]


WRONG_PROVINCE = (
    "Xã, phường nơi thường trú: Phường Ba Đình (00004) thuộc Thành phố Hà Nội (01), "
    "không thuộc Tỉnh Cao Bằng (04) ghi ở values.permanent_residence_province"
)


@pytest.mark.parametrize(
    ("section", "body", "field", "reason"),
    [
        (
            "residences",
            {
                "values": RESIDENCE | {"permanent_residence_province": "04", "permanent_residence_commune": BA_DINH},
                "valid_from": "2025-07-01",
            },
            "values.permanent_residence_commune",
            WRONG_PROVINCE,
        ),
        (
            "personal_details",
            {
                "values": DETAILS | {"home_town_province": "01", "home_town_commune": THUC_PHAN},
                "valid_from": "2026-01-01",
            },
            "values.home_town_commune",
            "Phường Thục Phán (01273) thuộc Tỉnh Cao Bằng (04), không thuộc Thành phố Hà Nội (01)",
        ),
        (
            "residences",
            {
                "values": RESIDENCE | {"current_residence_province": "01", "current_residence_commune": THUC_PHAN},
                "valid_from": "2025-06-30",
            },
            "values.current_residence_commune",
            "Phường Hợp Giang (01273) thuộc Tỉnh Cao Bằng (04), không thuộc Thành phố Hà Nội (01)",
        ),
        (
            "personal_details",
            {"values": DETAILS | {"birthplace_commune": MOC_CHAU}, "valid_from": "2024-01-01"},
            "values.birthplace_commune",
            "mã '03980' không có trong danh mục communes ngày 2024-01-01",
        ),
        (
            "personal_details",
            {"values": DETAILS | {"birthplace_commune": BA_DINH}, "valid_from": "2008-07-31"},
            "values.birthplace_commune",
            "mã '00004' không có trong danh mục communes ngày 2008-07-31",
        ),
        (
            "residences",
            {
                "values": RESIDENCE | {"permanent_residence_province": "01", "permanent_residence_commune": "99999"},
                "valid_from": "2025-07-01",
            },
            "values.permanent_residence_commune",
            "mã '99999' không có trong danh mục communes ngày 2025-07-01",
        ),
        (
            "residences",
            {"values": RESIDENCE | {"current_residence_commune": "4"}, "valid_from": "2025-07-01"},
            "values.current_residence_commune",
            "mã '4' không có trong danh mục communes ngày 2025-07-01",
        ),
    ],
    ids=[
        "another-province",
        "home-town-elsewhere",
        "another-province-day-before-july",
        "new-code-before-july",
        "before-august-2008",
        "unknown",
        "not-zero-padded",
    ],
)
async def test_a_commune_outside_its_province_or_its_dates_is_refused_naming_the_field(
    system: System, section: str, body: dict[str, Any], field: str, reason: str
) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Lê Văn Xã")
        before = (await api.get(f"/v1/persons/{person}/record")).json()["sections"]
        refused = await api.post(f"/v1/persons/{person}/{section}", json=body)
        after = (await api.get(f"/v1/persons/{person}/record")).json()["sections"]
    assert refused.status_code == 422, refused.text
    faults = {item["loc"][-1]: item["msg"] for item in refused.json()["detail"]}
    assert faults.keys() == {field}, faults
    assert reason in faults[field]
    assert after == before, "nothing written"


async def test_the_communes_are_listed_whole_or_by_province_as_of_a_date(system: System) -> None:
    async with api_client(system.gateway_url, system.token("canbo.noibai")) as anyone:
        whole = await anyone.get("/v1/catalogs/communes")
        hanoi = await anyone.get("/v1/catalogs/communes", params={"parent": "01"})
        ninh_binh = await anyone.get("/v1/catalogs/communes", params={"parent": "37", "as_of": "2025-07-01"})
        before_july = await anyone.get("/v1/catalogs/communes", params={"as_of": "2025-06-30"})
        hanoi_before = await anyone.get("/v1/catalogs/communes", params={"parent": "01", "as_of": "2024-01-01"})
        before_2008 = await anyone.get("/v1/catalogs/communes", params={"as_of": "2008-07-31"})
        nam_dinh_now = await anyone.get("/v1/catalogs/communes", params={"parent": "36"})
        not_a_parent = await anyone.get("/v1/catalogs/provinces", params={"parent": "01"})
        no_such_catalog = await anyone.get("/v1/catalogs/huyen", params={"parent": "01"})
    assert whole.status_code == 200, whole.text
    values = whole.json()
    assert len(values) == 3321
    assert Counter(v["stat_group"] for v in values) == {"XA": 2621, "PHUONG": 687, "DAC_KHU": 13}
    ba_dinh = {v["code"]: v for v in values}[BA_DINH]
    assert (ba_dinh["label"], ba_dinh["valid_from"], ba_dinh["attributes"]) == (
        "Phường Ba Đình",
        "2025-07-01",
        {"province": "01"},
    )
    assert "Quyết định 19/2025/QĐ-TTg" in ba_dinh["legal_basis"]
    assert len(whole.content) < 3_000_000, (
        f"the whole catalog is one gRPC message (4 MiB at most by default): {len(whole.content)} bytes as JSON"
    )
    assert hanoi.status_code == 200, hanoi.text
    assert len(hanoi.json()) == 126
    assert {v["attributes"]["province"] for v in hanoi.json()} == {"01"}
    assert BA_DINH in {v["code"] for v in hanoi.json()}
    assert len(ninh_binh.json()) == 129, "Ninh Bình with Hà Nam and Nam Định"
    assert before_july.status_code == 200, before_july.text
    old = {v["code"]: v for v in before_july.json()}
    assert len(old) == 10_051, "the whole three-tier list is one gRPC message"
    assert Counter(v["stat_group"] for v in old.values()) == {"XA": 7717, "PHUONG": 1716, "THI_TRAN": 618}
    assert (old[BA_DINH]["label"], old[BA_DINH]["valid_to"], old[BA_DINH]["attributes"]) == (
        "Phường Trúc Bạch",
        "2025-06-30",
        {"province": "01", "district": "001", "district_name": "Quận Ba Đình"},
    )
    assert "Quyết định 124/2004/QĐ-TTg" in old[BA_DINH]["legal_basis"]
    assert len(hanoi_before.json()) == 526
    assert before_2008.json() == [], "no commune code before the 63 provinces' map"
    assert nam_dinh_now.status_code == 422
    (fault,) = nam_dinh_now.json()["detail"]
    assert fault["loc"][-1] == "parent"
    assert fault["msg"].startswith("Mã '36' không có trong danh mục provinces ngày "), "Nam Định went into Ninh Bình"
    assert not_a_parent.status_code == 422
    assert [d["loc"][-1] for d in not_a_parent.json()["detail"]] == ["parent"]
    assert no_such_catalog.status_code == 404


async def test_a_new_commune_must_name_a_province_valid_from_its_first_day(system: System) -> None:
    """Sector HR adds a commune through the API only with the province it belongs to: nothing is
    written otherwise, so records can check a commune against the province they give."""
    code = unique_code("X")
    body = {"label": "Xã Thử Nghiệm", "valid_from": "2026-01-01", "legal_basis": "Nghị quyết thử", "stat_group": "XA"}
    async with api_client(system.gateway_url, system.token("vutccb")) as api:
        without = await api.put(f"/v1/catalogs/communes/{code}", json=body)
        old_province = await api.put(f"/v1/catalogs/communes/{code}", json=body | {"attributes": {"province": "36"}})
        listed = await api.get("/v1/catalogs/communes", params={"as_of": "2026-01-01", "parent": "37"})
    for refused in (without, old_province):
        assert refused.status_code == 422, refused.text
        assert [d["loc"][-1] for d in refused.json()["detail"]] == ["attributes.province"]
    assert code not in {v["code"] for v in listed.json()}
