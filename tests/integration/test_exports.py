"""Exports (issue 9 point 2, R-PER-5, R-PER-7, R-TIER-1): `GET /v1/persons/export` writes what a
search with the same criteria finds, in the same order, as CSV (UTF-8 with a byte-order mark) or
XLSX (title, criteria and exporter above a frozen header row); only inside the caller's scope for
exporting; bad criteria refused naming the field, with nothing exported; every export in the audit
trail when it starts and when it ends, also when its client goes away midway.

Each test makes its own units and people (other tests share the system)."""

from __future__ import annotations

import csv
import io
import random
import unicodedata
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import grpc
import httpx
import pytest
from openpyxl import load_workbook

from qlcb.personnel.v1 import search_pb2, search_pb2_grpc
from tests.support import System, api_client, eventually, person_body, unique_code

ADMIN = "quantri"
HEADERS = [
    *("STT", "Họ và tên", "Ngày sinh", "Giới tính"),
    *("Số định danh cá nhân", "Số hiệu cán bộ", "Đơn vị", "Trạng thái"),
]
BOM = b"\xef\xbb\xbf"

pytestmark = pytest.mark.integration


async def _unit(api: httpx.AsyncClient, parent_id: str, name: str) -> str:
    body = {"code": unique_code("XK"), "name": name, "kind": "sub_unit", "parent_id": parent_id}
    created = await api.post("/v1/units", json=body | {"effective_date": "2000-01-01", "decision": "1/QĐ-XK"})
    assert created.status_code == 201, created.text
    unit_id: str = created.json()["id"]
    return unit_id


async def _person(api: httpx.AsyncClient, unit_id: str, name: str, born: str, sex: str = "male") -> dict[str, Any]:
    created = await api.post("/v1/persons", json=person_body(unit_id, name, born=born, sex=sex))
    assert created.status_code == 201, created.text
    person: dict[str, Any] = created.json()
    return person


async def _imported(api: httpx.AsyncClient, unit_id: str, names: list[str]) -> None:
    """People of `unit_id` made by one import (the CSV of its template), as an HR officer brings many."""
    unit = await api.get(f"/v1/units/{unit_id}")
    assert unit.status_code == 200, unit.text
    buffer = io.StringIO()
    table = csv.writer(buffer, lineterminator="\r\n")
    table.writerow(["Số định danh cá nhân", "Số hiệu cán bộ", "Họ và tên", "Ngày sinh", "Giới tính", "Mã đơn vị"])
    for name in names:
        table.writerow(
            [f"{uuid.uuid4().int % 10**12:012d}", unique_code("V"), name, "1985-05-05", "Nam", unit.json()["code"]]
        )
    done = await api.post(
        "/v1/imports/persons",
        params={"dry_run": "false"},
        content=("\ufeff" + buffer.getvalue()).encode(),
        headers={"Content-Type": "text/csv"},
        timeout=300,
    )
    assert done.status_code == 200, done.text
    assert done.json()["created"] == len(names)


def _marker() -> str:
    return "Xuấtx" + "".join(random.Random(uuid.uuid4().int).choices("abcdeghiklmnopqrstuvxy", k=8))


async def _searched(api: httpx.AsyncClient, criteria: dict[str, str]) -> list[dict[str, Any]]:
    """Every person the search finds, two to a page, in its order."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await api.get("/v1/persons", params=criteria | {"page": str(page), "page_size": "2"})
        assert response.status_code == 200, response.text
        found += response.json()["items"]
        if not response.json()["items"]:
            assert len(found) == response.json()["total"]
            return found
        page += 1


async def _export(api: httpx.AsyncClient, kind: str, criteria: dict[str, str]) -> httpx.Response:
    return await api.get("/v1/persons/export", params=criteria | {"format": kind})


def _csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    return rows[1:]


async def _entries(api: httpx.AsyncClient, marker: str) -> list[dict[str, Any]]:
    """The audit trail's export entries whose criteria name `marker`, oldest first."""
    listed = await api.get("/v1/audit", params={"action": "export", "page_size": "200"})
    assert listed.status_code == 200, listed.text
    found = [e for e in listed.json()["entries"] if marker in str(e["details"].get("criteria", {}).get("q", ""))]
    return sorted(found, key=lambda e: (e["occurred_at"], e["details"]["stage"] != "started"))


async def test_the_csv_holds_exactly_the_rows_the_search_finds_in_its_order(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        parent = await _unit(api, system.unit_ids["HQHN"], "Chi cục xuất danh sách")
        first, second = await _unit(api, parent, "Đội Một"), await _unit(api, parent, "Đội Hai")
        names = ["Nguyễn Văn An", "Trần Thị Ánh", "Lê Văn Bình", "Phạm Thị Đào", "Vũ Văn Dũng"]
        people = [
            await _person(api, (first, second)[n % 2], name, f"19{80 + n}-0{n + 1}-1{n}", ("male", "female")[n % 2])
            for n, name in enumerate(random.Random(3).sample(names, len(names)))
        ]
        # Typed in NFD, stored and exported in NFC.
        nfd = await _person(api, first, unicodedata.normalize("NFD", "Đặng Thị Ưng"), "1979-12-31", "female")
        units = {u["id"]: u["name"] for u in (await api.get("/v1/units")).json()}

        for criteria in (
            {"unit_id": parent, "include_subtree": "true"},
            {"unit_id": parent, "include_subtree": "true", "sort": "birth_date"},
            {"unit_id": parent, "include_subtree": "true", "sort": "unit"},
            {"unit_id": parent, "include_subtree": "true", "sex": "female"},
            {"unit_id": first},
        ):
            searched = await _searched(api, criteria)
            rows = _csv_rows(await _export(api, "csv", criteria))
            assert [r[4] for r in rows] == [p["personal_id"] for p in searched], criteria
            assert [r[0] for r in rows] == [str(n) for n in range(1, len(searched) + 1)]
            for row, person in zip(rows, searched, strict=True):
                sex = {"male": "Nam", "female": "Nữ"}[person["sex"]]
                expected = [person["full_name"], person["date_of_birth"], sex, person["personal_id"]]
                assert row[1:5] == expected
                assert row[5:] == [person["staff_number"], units[person["unit_id"]], "Đang công tác"]
        everyone = _csv_rows(await _export(api, "csv", {"unit_id": parent, "include_subtree": "true"}))
        assert len(everyone) == len(people) + 1
        assert "Đặng Thị Ưng" in [r[1] for r in everyone]
        assert unicodedata.is_normalized("NFC", next(r[1] for r in everyone if r[4] == nfd["personal_id"]))

        response = await _export(api, "csv", {"unit_id": first})
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="danh-sach-can-bo-')
        assert disposition.split("filename=")[1].split(";")[0].strip('"').isascii()
        assert unquote(disposition.split("filename*=UTF-8''")[1]).startswith("Danh sách cán bộ ")
        assert response.headers["cache-control"] == "no-store"


async def test_the_xlsx_reads_back_with_its_heading_a_frozen_header_and_the_same_rows(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        unit = await _unit(api, system.unit_ids["HQHCM"], "Đội xuất tệp Excel")
        for n, name in enumerate(["Hoàng Thị Ngọc Ánh", "Đỗ Văn Đức", "Bùi Thị Thu"]):
            await _person(api, unit, name, f"199{n}-0{n + 3}-2{n}", "female")
        criteria = {"unit_id": unit, "sex": "female", "sort": "name"}
        searched = await _searched(api, criteria)
        response = await _export(api, "xlsx", criteria)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"].split("filename=")[1].startswith('"danh-sach-can-bo-')

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet["A1"].value == "DANH SÁCH CÁN BỘ, CÔNG CHỨC"
    assert sheet["A2"].value == "Tiêu chí: Đơn vị: Đội xuất tệp Excel; Giới tính: Nữ; Sắp xếp theo: tên"
    assert str(sheet["A3"].value).startswith(f"Người xuất: {ADMIN} — ")
    datetime.strptime(str(sheet["A3"].value).split(" — ")[1], "%H:%M ngày %d/%m/%Y (giờ Việt Nam)")
    assert [c.value for c in sheet[5]] == HEADERS
    assert sheet.freeze_panes == "A6"
    assert all((sheet.column_dimensions[letter].width or 0) > 8 for letter in "BCDEFGH")
    table = [[c.value for c in row] for row in sheet.iter_rows(min_row=6, max_row=5 + len(searched))]
    assert [r[1] for r in table] == [p["full_name"] for p in searched]
    assert [r[1] for r in table] == ["Hoàng Thị Ngọc Ánh", "Đỗ Văn Đức", "Bùi Thị Thu"]
    assert [r[2] for r in table] == [datetime.fromisoformat(p["date_of_birth"]) for p in searched]
    assert {sheet.cell(row=r, column=3).number_format for r in range(6, 6 + len(searched))} == {"DD/MM/YYYY"}
    assert [r[4] for r in table] == [p["personal_id"] for p in searched]
    assert sheet.cell(row=7 + len(searched), column=1).value == f"Tổng số: {len(searched)} người"


async def test_a_name_beginning_with_equals_is_exported_as_text(system: System) -> None:
    formula = '=HYPERLINK("http://example.invalid","Bấm vào")'
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        unit = await _unit(api, system.unit_ids["HQHN"], "=Đội công thức")
        person = await _person(api, unit, formula, "1990-01-01")
        rows = _csv_rows(await _export(api, "csv", {"unit_id": unit}))
        sheet = load_workbook(io.BytesIO((await _export(api, "xlsx", {"unit_id": unit})).content)).active
    assert person["full_name"] == formula
    assert rows[0][1] == "'" + formula, "a spreadsheet shows it as text"
    assert rows[0][6] == "'=Đội công thức"
    assert sheet is not None
    assert (sheet["B6"].value, sheet["B6"].data_type) == (formula, "s")
    assert (sheet["G6"].value, sheet["G6"].data_type) == ("=Đội công thức", "s")


async def test_each_tier_exports_only_inside_its_scope(system: System) -> None:
    marker = _marker()
    name = f"Quách Văn {marker}"
    async with api_client(system.gateway_url, system.token(ADMIN)) as admin:
        inside = await _person(admin, system.unit_ids["HQHN-NB"], name, "1980-01-01")
        below = await _person(admin, system.unit_ids["HQHN-BHN"], name, "1981-01-01")
        outside = await _person(admin, system.unit_ids["HQHCM-TSN"], name, "1982-01-01")
        every = {r[4] for r in _csv_rows(await _export(admin, "csv", {"q": marker}))}
        assert every == {p["personal_id"] for p in (inside, below, outside)}

    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        mine = _csv_rows(await _export(hanoi, "csv", {"q": marker}))
        assert sorted(r[4] for r in mine) == sorted([inside["personal_id"], below["personal_id"]])
        # A unit outside its subtree: the search finds nobody there, the export holds nobody.
        elsewhere = {"q": marker, "unit_id": system.unit_ids["HQHCM"], "include_subtree": "true"}
        assert (await hanoi.get("/v1/persons", params=elsewhere)).json()["total"] == 0
        assert _csv_rows(await _export(hanoi, "csv", elsewhere)) == []
        sheet = load_workbook(io.BytesIO((await _export(hanoi, "xlsx", elsewhere)).content)).active
        assert sheet is not None
        assert sheet["A7"].value == "Tổng số: 0 người"
    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as hcm:
        assert [r[4] for r in _csv_rows(await _export(hcm, "csv", {"q": marker}))] == [outside["personal_id"]]

    # The self tier reads its own record but exports nothing; the officer exports the particulars it
    # was granted, never by a section it was not (salary).
    async with api_client(system.gateway_url, system.token("canbo.noibai")) as me:
        assert (await me.get("/v1/persons")).status_code == 200
        for kind in ("csv", "xlsx"):
            refused = await _export(me, kind, {})
            assert refused.status_code == 403, refused.text
    async with api_client(system.gateway_url, system.token("nhansu1.hanoi")) as officer:
        granted = _csv_rows(await _export(officer, "csv", {"q": marker}))
        assert sorted(r[4] for r in granted) == sorted([inside["personal_id"], below["personal_id"]])
        by_rank = await _export(officer, "csv", {"q": marker, "rank": "08.051"})
        assert by_rank.status_code == 403, by_rank.text


async def test_bad_criteria_are_refused_naming_the_field_and_nothing_is_exported(system: System) -> None:
    marker = _marker()
    cases: list[tuple[dict[str, str], set[str]]] = [
        ({"q": marker}, {"format"}),
        ({"q": marker, "format": "pdf"}, {"format"}),
        ({"q": marker, "format": "csv", "page_size": "100"}, {"page_size"}),
        ({"q": marker, "format": "csv", "page": "2"}, {"page"}),
        ({"q": marker, "format": "csv", "rank": "KHONG.CO"}, {"rank"}),
        ({"q": marker, "format": "xlsx", "unit_id": str(uuid.uuid4())}, {"unit_id"}),
        ({"q": marker, "format": "csv", "status": "sleeping", "born_from": "2000-13-01"}, {"status", "born_from"}),
        ({"q": marker, "format": "csv", "born_from": "2000-01-02", "born_to": "2000-01-01"}, {"born_to"}),
        ({"q": marker, "format": "xlsx", "age_min": "200"}, {"age_min"}),
        ({"q": marker, "format": "csv", "colour": "blue"}, {"colour"}),
    ]
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        for params, fields in cases:
            refused = await api.get("/v1/persons/export", params=params)
            assert refused.status_code == 422, (params, refused.text)
            assert refused.headers["content-type"].startswith("application/json")
            named = {fault["loc"][-1] for fault in refused.json()["detail"]}
            assert named == fields, (params, refused.json())
            assert all(fault["msg"] for fault in refused.json()["detail"])
        # Nothing was exported: no entry of an export with these criteria, started or ended.
        assert await _entries(api, marker) == []


async def test_each_export_is_audited_when_it_starts_and_when_it_ends(system: System) -> None:
    marker = _marker()
    async with api_client(system.gateway_url, system.token(ADMIN)) as admin:
        for n in range(3):
            await _person(admin, system.unit_ids["HQHN-NB"], f"Kiều Văn {marker}", f"198{n}-01-01")
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        rows = _csv_rows(await _export(hanoi, "csv", {"q": marker, "sex": "male"}))
        assert len(rows) == 3
        sheet = await _export(hanoi, "xlsx", {"q": marker, "unit_id": system.unit_ids["HQHN"], "include_subtree": "1"})
        assert sheet.status_code == 200
        entries = await _entries(hanoi, marker)
    assert [(e["details"]["format"], e["details"]["stage"]) for e in entries] == [
        ("csv", "started"),
        ("csv", "ended"),
        ("xlsx", "started"),
        ("xlsx", "ended"),
    ]
    for started, ended in (entries[:2], entries[2:]):
        assert started["details"]["export_id"] == ended["details"]["export_id"]
        assert started["details"]["criteria"] == ended["details"]["criteria"]
        assert "rows" not in started["details"]
        assert (ended["details"]["rows"], ended["details"]["completed"]) == (3, True)
        assert started["occurred_at"] <= ended["occurred_at"]
        assert started["transaction_id"] != ended["transaction_id"], "each in a unit of work of its own"
        assert (started["account"], started["action"], started["target"]) == ("qthanoi", "export", "persons")
    assert entries[0]["details"]["criteria"] == {"q": marker, "sex": "male"}
    assert entries[0]["unit_path"] == "/TCHQ/HQHN", "no unit named: the caller's own"
    assert entries[2]["details"]["criteria"] == {
        "q": marker,
        "unit_id": system.unit_ids["HQHN"],
        "include_subtree": True,
    }
    assert entries[2]["unit_path"] == "/TCHQ/HQHN"


async def test_an_export_whose_client_goes_away_is_audited_as_not_completed(system: System) -> None:
    """Personnel's stream, read as the gateway reads it but by a client that stops after the first
    chunk: the client's flow-control window (BDP probing off: 64 KiB) holds the second chunk of 500
    rows back, so the export cannot have ended when the client cancels. Its ended entry says so."""
    marker = _marker()
    async with api_client(system.gateway_url, system.token(ADMIN)) as admin:
        unit = await _unit(admin, system.unit_ids["HQHCM"], f"Đội {marker}")
        await _imported(admin, unit, [f"Mạc Văn {marker} {n:04d}" for n in range(1_100)])
        options = [("grpc.http2.bdp_probe", 0)]
        async with grpc.aio.insecure_channel(system.services.grpc_target("personnel"), options=options) as channel:
            call = search_pb2_grpc.PersonSearchServiceStub(channel).ExportPersons(
                search_pb2.ExportPersonsRequest(
                    criteria=search_pb2.SearchPersonsRequest(q=marker, unit_id=unit), format="csv"
                ),
                metadata=(("authorization", f"Bearer {system.token(ADMIN)}"),),
                timeout=60,
            )
            first = await call.read()
            assert len(first.persons) == 500
            assert first.unit_names == {unit: f"Đội {marker}"}
            call.cancel()

        def ended(entries: list[dict[str, Any]]) -> bool:
            return any(e["details"]["stage"] == "ended" for e in entries)

        entries = await eventually(lambda: _entries(admin, marker), ended, timeout=30, what="the export's end noted")
    started, end = entries
    assert started["details"]["stage"] == "started"
    assert end["details"]["export_id"] == started["details"]["export_id"]
    assert end["details"]["completed"] is False
    assert 500 <= end["details"]["rows"] < 1_100
