"""Bulk import (issue 9 points 4 and 8): a template per kind downloaded, filled and sent back; every
row checked as the single-row operations check it, every bad row named by row, column and reason;
a dry run writes nothing; a file with any fault is refused whole; the same file twice creates nothing
twice; a unit's officer imports nothing outside its subtree; a file that is not CSV/XLSX, too large,
with a formula or a wrong header is refused before anything is written.

Each test makes its own unit and people (other tests share the system)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from qlcb_common.limits import MAX_IMPORT_ROWS
from tests.support import System, api_client, person_body, unique_code

ADMIN = "quantri"
HANOI_ADMIN = "qthanoi"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
BOM = "\ufeff"
PERSON_HEADERS = ["Số định danh cá nhân", "Số hiệu cán bộ", "Họ và tên", "Ngày sinh", "Giới tính", "Mã đơn vị"]
EVALUATION_HEADERS = ["Số định danh cá nhân", "Ngày", "Số quyết định", "Năm đánh giá", "Mức xếp loại"]

pytestmark = pytest.mark.integration


def _personal_id() -> str:
    return f"{uuid.uuid4().int % 10**12:012d}"


async def _unit(api: httpx.AsyncClient, parent_id: str) -> tuple[str, str]:
    code = unique_code("NH")
    body = {"code": code, "name": "Đội nhập hàng loạt", "kind": "sub_unit", "parent_id": parent_id}
    created = await api.post("/v1/units", json=body | {"effective_date": "2000-01-01", "decision": "1/QĐ-NH"})
    assert created.status_code == 201, created.text
    return created.json()["id"], code


async def _person(api: httpx.AsyncClient, unit_id: str, name: str = "Lê Văn Nhập") -> dict[str, Any]:
    created = await api.post("/v1/persons", json=person_body(unit_id, name))
    assert created.status_code == 201, created.text
    person: dict[str, Any] = created.json()
    return person


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return (BOM + buffer.getvalue()).encode()


async def _import(
    api: httpx.AsyncClient, kind: str, content: bytes, media_type: str = CSV, *, dry_run: bool = False
) -> httpx.Response:
    return await api.post(
        f"/v1/imports/{kind}",
        params={"dry_run": str(dry_run).lower()},
        content=content,
        headers={"Content-Type": media_type},
        timeout=300,
    )


def _faults(response: httpx.Response) -> list[tuple[Any, ...]]:
    """The faults of a refused import: (row, column, reason), as the 422 names them."""
    assert response.status_code == 422, response.text
    faults = []
    for fault in response.json()["detail"]:
        where = [*fault["loc"][1:], None, ""][:2]
        faults.append((where[0], where[1] or "", fault["msg"]))
    return faults


async def _found(api: httpx.AsyncClient, personal_id: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/persons", params={"personal_id": personal_id})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _entries(api: httpx.AsyncClient, person_id: str, section: str) -> list[dict[str, Any]]:
    response = await api.get(f"/v1/persons/{person_id}/{section}")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def _workbook(content: bytes) -> Workbook:
    return load_workbook(io.BytesIO(content))


def _filled(template: bytes, rows: list[list[Any]]) -> bytes:
    """The template with rows filled in below its header, as an officer saves it."""
    book = _workbook(template)
    sheet = book.worksheets[0]
    for row in rows:
        sheet.append(row)
    saved = io.BytesIO()
    book.save(saved)
    return saved.getvalue()


# ---- templates -------------------------------------------------------------------------------------


async def test_templates_have_the_kinds_columns_in_vietnamese_and_a_guide(system: System) -> None:
    async with api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api:
        persons = await api.get("/v1/imports/templates/persons", params={"format": "xlsx"})
        evaluations = await api.get("/v1/imports/templates/evaluations")
        as_csv = await api.get("/v1/imports/templates/salary", params={"format": "csv"})
        unknown = await api.get("/v1/imports/templates/khong-co")
    assert persons.status_code == 200, persons.text
    assert persons.headers["content-type"] == XLSX
    assert "attachment" in persons.headers["content-disposition"]
    book = _workbook(persons.content)
    data, guide = book.worksheets
    assert [c.value for c in data[1]] == PERSON_HEADERS
    assert data.freeze_panes == "A2"
    assert data.column_dimensions["C"].width >= 20
    assert guide.title == "Hướng dẫn"
    described = {row[1]: row for row in guide.iter_rows(values_only=True) if row[0] and len(str(row[0])) <= 2}
    assert described["Giới tính"][2] == "Có"
    assert "Nam hoặc Nữ" in str(described["Giới tính"][3])

    book = _workbook(evaluations.content)
    data, guide = book.worksheets
    headers = [c.value for c in data[1]]
    assert headers[:2] == ["Số định danh cá nhân", "Số hiệu cán bộ"]
    assert {"Ngày", "Số quyết định", "Năm đánh giá", "Mức xếp loại", "Ghi chú"} <= set(headers)
    described = {row[1]: row for row in guide.iter_rows(values_only=True) if row[0] and len(str(row[0])) <= 2}
    assert described["Số định danh cá nhân"][2] == "Một trong hai"
    assert "HTXSNV" in str(described["Mức xếp loại"][4]), "the catalog's codes, as the guide lists them"

    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.content.startswith(BOM.encode())
    header = next(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert {"Từ ngày", "Đến ngày", "Mã ngạch", "Bậc", "Hệ số lương"} <= set(header)
    assert unknown.status_code == 422, unknown.text


# ---- round trips -----------------------------------------------------------------------------------


async def test_new_people_from_the_filled_template_dry_run_then_import_then_again(system: System) -> None:
    async with (
        api_client(system.gateway_url, system.token(ADMIN)) as admin,
        api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api,
    ):
        _unit_id, code = await _unit(admin, system.unit_ids["HQHN-NB"])
        template = (await api.get("/v1/imports/templates/persons")).content
        ids = [_personal_id() for _ in range(3)]
        rows: list[list[Any]] = [
            [ids[0], unique_code("N"), "Nguyễn Thị Nhập", datetime(1990, 3, 4), "Nữ", code],
            [ids[1], unique_code("N"), "Trần Văn Hàng", "05/06/1985", "Nam", code],
            [ids[2], unique_code("N"), "Lê Loạt", "1979-12-31", "nam", code.lower()],
        ]
        content = _filled(template, rows)

        tried = await _import(api, "persons", content, XLSX, dry_run=True)
        assert tried.status_code == 200, tried.text
        assert tried.json() | {"errors": None} == tried.json() | {
            "rows": 3,
            "created": 3,
            "already_present": 0,
            "rejected": 0,
            "applied": False,
            "dry_run": True,
            "errors": None,
        }
        assert await _found(api, ids[0]) == [], "a dry run writes nothing"

        done = await _import(api, "persons", content, XLSX)
        assert done.status_code == 200, done.text
        assert (done.json()["created"], done.json()["applied"]) == (3, True)
        second = await _found(api, ids[1])
        assert [(p["full_name"], p["date_of_birth"], p["sex"]) for p in second] == [
            ("Trần Văn Hàng", "1985-06-05", "male")
        ]
        assert (await _found(api, ids[0]))[0]["sex"] == "female"

        again = await _import(api, "persons", content, XLSX)
        assert again.status_code == 200, again.text
        assert (again.json()["created"], again.json()["already_present"]) == (0, 3)
        assert len(await _found(api, ids[2])) == 1

        audit = await admin.get("/v1/audit", params={"action": "import", "page_size": "200"})
        assert audit.status_code == 200, audit.text
        digest = done.json()["file_sha256"]
        noted = [e for e in audit.json()["entries"] if e["details"].get("file_sha256") == digest]
        assert {(e["details"]["created"], e["details"]["already_present"], e["details"]["applied"]) for e in noted} >= {
            (3, 0, True),
            (0, 3, True),
        }


async def test_section_entries_from_a_csv_land_in_the_records_in_time_order(system: System) -> None:
    async with api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api:
        unit_id = system.unit_ids["HQHN-NB"]
        first, second = await _person(api, unit_id), await _person(api, unit_id, "Phạm Thị Lương")
        header = [
            "Số định danh cá nhân",
            "Số hiệu cán bộ",
            "Từ ngày",
            "Số quyết định",
            "Mã ngạch",
            "Bậc",
            "Hệ số lương",
        ]
        # The later raise first: a person's rows are taken in the order of their dates.
        rows = [
            [first["personal_id"], "", "01/01/2018", "12/QĐ-HQHN", "08.051", "2", "2.67"],
            ["", first["staff_number"], "2015-01-01", "3/QĐ-HQHN", "08.051", "1", "2,34"],
            [second["personal_id"], second["staff_number"], "2016-07-01", "9/QĐ-HQHN", "08.051", "1", "2.34"],
        ]
        content = _csv([header, *rows])
        done = await _import(api, "salary", content)
        assert done.status_code == 200, done.text
        assert (done.json()["created"], done.json()["applied"]) == (3, True)
        salary = sorted(await _entries(api, first["id"], "salary"), key=lambda e: e["valid_from"])
        assert [(e["valid_from"], e["valid_to"], e["values"]["step"]) for e in salary] == [
            ("2015-01-01", "2017-12-31", 1),
            ("2018-01-01", None, 2),
        ]
        assert len(await _entries(api, second["id"], "salary")) == 1

        again = await _import(api, "salary", content)
        assert again.status_code == 200, again.text
        assert (again.json()["created"], again.json()["already_present"]) == (0, 3)
        assert len(await _entries(api, first["id"], "salary")) == 2


# ---- refusals --------------------------------------------------------------------------------------


async def test_a_bad_row_anywhere_refuses_the_whole_file_naming_each_row_and_column(system: System) -> None:
    async with api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api:
        unit_id = system.unit_ids["HQHN-NB"]
        people = [await _person(api, unit_id) for _ in range(3)]
        rows = [
            [people[0]["personal_id"], "2021-12-20", "5/QĐ-HQHN", "2021", "HTTNV"],
            [people[1]["personal_id"], "2021-12-20", "5/QĐ-HQHN", "2021", "XUATSAC"],
            [people[2]["personal_id"], "2021-12-20", "5/QĐ-HQHN", "hai nghìn", "HTNV"],
            ["999999999999", "2021-12-20", "5/QĐ-HQHN", "2021", "HTNV"],
            [people[0]["personal_id"], "2021-12-20", "5/QĐ-HQHN", "2021", "HTTNV"],
            [people[2]["personal_id"], "31/02/2021", "5/QĐ-HQHN", "2020", "HTNV"],
        ]
        content = _csv([EVALUATION_HEADERS, *rows])

        tried = await _import(api, "evaluations", content, dry_run=True)
        assert tried.status_code == 200, tried.text
        assert (tried.json()["rejected"], tried.json()["created"], tried.json()["applied"]) == (5, 1, False)

        refused = _faults(await _import(api, "evaluations", content))
        by_place = {(row, column): reason for row, column, reason in refused}
        assert set(by_place) == {
            (3, "Mức xếp loại"),
            (4, "Năm đánh giá"),
            (5, "Số định danh cá nhân"),
            (6, ""),
            (7, "Ngày"),
        }, refused
        assert "XUATSAC" in by_place[3, "Mức xếp loại"]
        assert "số nguyên" in by_place[4, "Năm đánh giá"]
        assert "999999999999" in by_place[5, "Số định danh cá nhân"]
        assert "dòng 2" in by_place[6, ""]
        assert await _entries(api, people[0]["id"], "evaluations") == [], "nothing of the file is written"


async def test_a_unit_imports_nothing_outside_its_subtree_and_the_report_says_which_row(system: System) -> None:
    async with (
        api_client(system.gateway_url, system.token(ADMIN)) as admin,
        api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api,
    ):
        inside = await _person(admin, system.unit_ids["HQHN-NB"])
        outside = await _person(admin, system.unit_ids["HQHCM-SG1"])
        rows = [
            [inside["personal_id"], "2022-12-20", "8/QĐ-HQ", "2022", "HTNV"],
            [outside["personal_id"], "2022-12-20", "8/QĐ-HQ", "2022", "HTNV"],
        ]
        refused = _faults(await _import(api, "evaluations", _csv([EVALUATION_HEADERS, *rows])))
        assert [(row, column) for row, column, _ in refused] == [(3, "Số định danh cá nhân")]
        assert "Không có hồ sơ" in refused[0][2], "outside its scope, as if it did not exist"
        assert await _entries(admin, inside["id"], "evaluations") == []

        hcm = [_personal_id(), unique_code("N"), "Võ Văn Ngoài", "1990-01-01", "Nam", "HQHCM-SG1"]
        refused = _faults(await _import(api, "persons", _csv([PERSON_HEADERS, hcm])))
        assert [(row, column) for row, column, _ in refused] == [(2, "Mã đơn vị")]
        assert "Không có quyền" in refused[0][2]
        assert await _found(admin, hcm[0]) == []

    async with api_client(system.gateway_url, system.token("lanhdaovu")) as viewer:
        refused_whole = await _import(viewer, "evaluations", _csv([EVALUATION_HEADERS, rows[0]]))
    assert refused_whole.status_code == 403, refused_whole.text


async def test_a_formula_is_refused_naming_its_cell_and_nothing_is_written(system: System) -> None:
    async with api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api:
        template = (await api.get("/v1/imports/templates/persons")).content
        good = [_personal_id(), unique_code("N"), "Đỗ Văn Công", "1990-01-01", "Nam", "HQHN-NB"]
        formula = [_personal_id(), unique_code("N"), '=CONCAT("Đỗ ","Thức")', "1990-01-01", "Nam", "HQHN-NB"]
        refused = _faults(await _import(api, "persons", _filled(template, [good, formula]), XLSX))
        assert len(refused) == 1
        row, column, reason = refused[0]
        assert (row, column) == (3, "Họ và tên")
        assert "C3" in reason
        assert "công thức" in reason
        assert await _found(api, str(good[0])) == []


async def test_a_nul_in_a_cell_is_refused_naming_its_row_and_column_and_nothing_is_written(system: System) -> None:
    """A NUL, which no text column holds, in a personal id looked up before any other check and in a
    name: each row's fault names its column; the good row is not written either."""
    async with api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api:
        good = [_personal_id(), unique_code("N"), "Đỗ Văn Lành", "1990-01-01", "Nam", "HQHN-NB"]
        in_the_id = [_personal_id()[:11] + "\x00", unique_code("N"), "Đỗ Văn Không", "1990-01-01", "Nam", "HQHN-NB"]
        in_the_name = [_personal_id(), unique_code("N"), "Đỗ Văn\x00Tên", "1990-01-01", "Nam", "HQHN-NB"]
        refused = _faults(await _import(api, "persons", _csv([PERSON_HEADERS, good, in_the_id, in_the_name])))
        assert [(row, column) for row, column, _ in refused] == [(3, "Số định danh cá nhân"), (4, "Họ và tên")]
        assert all("U+0000" in reason for _, _, reason in refused), refused
        assert await _found(api, good[0]) == []


async def test_a_header_not_the_templates_is_refused_naming_the_columns(system: System) -> None:
    async with api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api:
        header = ["Số định danh cá nhân", "Họ tên", "Ngày sinh", "Giới tính", "Mã đơn vị", "Số hiệu cán bộ"]
        row = [_personal_id(), "Đặng Văn Cột", "1990-01-01", "Nam", "HQHN-NB", unique_code("N")]
        refused = _faults(await _import(api, "persons", _csv([header, row])))
        assert {(r, column) for r, column, _ in refused} == {(1, "Họ tên"), (1, "Họ và tên")}
        assert await _found(api, str(row[0])) == []


async def test_a_file_that_is_not_csv_or_xlsx_or_too_large_is_refused(system: System) -> None:
    async with api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api:
        as_json = await api.post("/v1/imports/persons", json={"rows": []})
        assert as_json.status_code == 415, as_json.text
        not_xlsx = await _import(api, "persons", b"PK\x03\x04 not really a workbook", XLSX)
        assert not_xlsx.status_code == 422, not_xlsx.text
        assert "XLSX" in not_xlsx.text
        latin = await _import(api, "persons", "Họ và tên\r\nĐỗ".encode("cp1258", errors="replace") + b"\xff\xfe")
        assert latin.status_code == 422, latin.text
        assert "UTF-8" in latin.text
        huge = await _import(api, "persons", b"x" * (33 * 1024 * 1024))
        assert huge.status_code == 413, huge.text


# ---- volume ------------------------------------------------------------------------------------------


async def test_a_few_thousand_rows_go_through_in_one_import(system: System) -> None:
    count = 3000
    assert count < MAX_IMPORT_ROWS
    async with (
        api_client(system.gateway_url, system.token(ADMIN)) as admin,
        api_client(system.gateway_url, system.token(HANOI_ADMIN)) as api,
    ):
        unit_id, code = await _unit(admin, system.unit_ids["HQHN-NB"])
        born = date(1980, 1, 1)
        people = [
            [
                _personal_id(),
                unique_code("V"),
                f"Nguyễn Văn Số {n}",
                born.replace(year=1960 + n % 40).isoformat(),
                "Nam",
                code,
            ]
            for n in range(count)
        ]
        done = await _import(api, "persons", _csv([PERSON_HEADERS, *people]))
        assert done.status_code == 200, done.text
        assert (done.json()["created"], done.json()["rows"]) == (count, count)
        listed = await api.get(f"/v1/units/{unit_id}/persons", params={"page_size": "500"})
        assert listed.status_code == 200, listed.text
        assert len(listed.json()["items"]) == 500
        assert (await _found(api, people[-1][0]))[0]["full_name"] == f"Nguyễn Văn Số {count - 1}"

        evaluations = [[p[0], "2023-12-20", "1/QĐ-NH", "2023", "HTTNV"] for p in people]
        done = await _import(api, "evaluations", _csv([EVALUATION_HEADERS, *evaluations]))
        assert done.status_code == 200, done.text
        assert done.json()["created"] == count
        person = (await _found(api, people[1234][0]))[0]
        assert [e["values"]["level"] for e in await _entries(api, person["id"], "evaluations")] == ["HTTNV"]
