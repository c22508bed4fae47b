"""The resume form 2C-BNV/2008 (issue 9 point 3, R-PER-1, R-PER-7): `GET /v1/persons/{id}/resume`
draws the form's items from the record as of a day (items 19, 21, 22, 27, 28 and 31 from the
histories), as JSON, as a PDF with its Vietnamese fonts embedded, or as DOCX; a unit's people print
as one file, each from a new page; every resume is a whole-record read in the audit trail; items of
sections the caller may not read are withheld; a record out of reach is not found; bad input is
refused naming the query field.

Each test makes its own people (other tests share the system)."""

from __future__ import annotations

import asyncio
import io
import unicodedata
from datetime import date
from typing import Any
from urllib.parse import unquote

import docx
import httpx
import pytest
from pypdf import PdfReader

from qlcb_common.days import vietnam_today
from tests.support import System, api_client, person_body, unique_code

pytestmark = pytest.mark.integration

ADMIN = "quantri"
DECISION = {"number": "27/QĐ-HQHN", "date": "2011-12-20", "body": "Cục Hải quan TP Hà Nội"}
ITEM_NUMBERS = [
    *("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14"),
    *("15.1", "15.2", "15.3", "15.4", "15.5", "15.6"),
    *("16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30a", "30b", "31", "32"),
]


def _decided(section: str, since: str, values: dict[str, Any], until: str | None = None) -> dict[str, Any]:
    return {"section": section, "values": values, "valid_from": since, "valid_to": until, "decision": DECISION}


RECORD = [
    {
        "section": "personal_details",
        "values": {
            "birthplace": "Xã Đông Hội, huyện Đông Anh",
            "birthplace_province": "01",
            "home_town": "Xã Hải Hậu, Nam Định",
            "ethnicity": "01",
            "religion": "KHONG",
            "general_education": "12-12",
            "social_insurance_number": "0112233445",
        },
        "valid_from": "2025-07-01",
    },
    _decided("recruitment", "2012-01-01", {"body": "Cục Hải quan TP Hà Nội", "occupation_before": "Sinh viên"}),
    _decided("salary", "2012-01-01", {"rank_code": "08.051", "step": 1, "coefficient": "2.34"}),
    _decided("salary", "2015-01-01", {"rank_code": "08.051", "step": 2, "coefficient": "2.67"}),
    {
        "section": "trainings",
        "values": {"kind": "CM", "level": "DH", "field": "Luật", "institution": "Trường Đại học Luật Hà Nội"},
        "valid_from": "2004-09-01",
        "valid_to": "2008-06-30",
    },
    {
        "section": "trainings",
        "values": {"kind": "CM", "level": "THS", "field": "Luật kinh tế", "institution": "Trường Đại học Luật Hà Nội"},
        "valid_from": "2015-09-01",
        "valid_to": "2017-06-30",
    },
    _decided("rewards", "2019-01-10", {"form": "GIAY_KHEN"}),
    _decided("rewards", "2021-01-10", {"form": "BK_BO"}),
    _decided("rewards", "2022-01-10", {"form": "CSTD_CS"}),
    _decided("disciplines", "2018-03-01", {"form": "KHIEN_TRACH", "reason": "Chậm nộp báo cáo"}, "2018-08-31"),
    {
        "section": "placements",
        "values": {"unit_name": "Chi cục Hải quan Nội Bài", "post": "Công chức"},
        "valid_from": "2012-01-01",
        "valid_to": "2016-12-31",
    },
    {
        "section": "placements",
        "values": {"unit_name": "Chi cục Hải quan Nội Bài", "post": "Đội trưởng", "main_duties": "Giám sát hàng hóa"},
        "valid_from": "2017-01-01",
    },
    {
        "section": "family",
        "values": {"side": "BAN_THAN", "relation": "Bố", "full_name": "Nguyễn Văn Bình", "birth_year": 1955},
    },
    _decided("evaluations", "2025-12-20", {"year": 2025, "level": "HTTNV"}),
]


async def _unit(api: httpx.AsyncClient, parent_id: str) -> str:
    body = {"code": unique_code("SYLL"), "name": "Đội Kiểm soát Sơ yếu", "kind": "sub_unit", "parent_id": parent_id}
    created = await api.post("/v1/units", json=body | {"effective_date": "2000-01-01", "decision": "1/QĐ-SY"})
    assert created.status_code == 201, created.text
    unit_id: str = created.json()["id"]
    return unit_id


async def _person(api: httpx.AsyncClient, unit_id: str, name: str, record: list[dict[str, Any]]) -> dict[str, Any]:
    created = await api.post("/v1/persons", json=person_body(unit_id, name, born="1985-03-05"))
    assert created.status_code == 201, created.text
    person: dict[str, Any] = created.json()
    if record:
        written = await api.post(f"/v1/persons/{person['id']}/record", json={"entries": record})
        assert written.status_code == 201, written.text
    return person


def _items(resume: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["number"]: item for item in resume["items"]}


async def _json(api: httpx.AsyncClient, person_id: str, **params: str) -> dict[str, Any]:
    response = await api.get(f"/v1/persons/{person_id}/resume", params={"format": "json", **params})
    assert response.status_code == 200, response.text
    resume: dict[str, Any] = response.json()
    return resume


def _pdf_pages(content: bytes) -> list[str]:
    return [unicodedata.normalize("NFC", page.extract_text()) for page in PdfReader(io.BytesIO(content)).pages]


async def test_the_resume_is_the_form_drawn_from_the_record(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Nguyễn Văn Sơ", RECORD)
        resume = await _json(api, person["id"])
        units = {u["code"]: u["name"] for u in (await api.get("/v1/units")).json()}

    assert [item["number"] for item in resume["items"]] == ITEM_NUMBERS
    assert resume["employing_unit"] == units["HQHN-NB"]
    assert resume["managing_body"] == units["HQHN"]
    assert resume["staff_number"] == person["staff_number"]
    items = _items(resume)
    assert items["1"]["text"] == "NGUYỄN VĂN SƠ"
    assert items["3"]["text"] == "05/03/1985; giới tính: Nam"
    assert items["4"]["text"].startswith("Xã Đông Hội, huyện Đông Anh, ")  # the province named from its catalog
    assert items["6"]["text"] == "Kinh"
    assert items["11"]["text"] == "01/01/2012; Cục Hải quan TP Hà Nội"
    assert items["12"]["text"] == "Đội trưởng, Chi cục Hải quan Nội Bài"
    assert items["13"]["text"] == "Giám sát hàng hóa"
    assert "mã ngạch: 08.051, bậc: 2, hệ số: 2.67, ngày hưởng: 01/01/2015" in items["14"]["text"]
    assert items["15.1"]["text"] == "12/12", "the catalog's label of the code 12-12"
    assert items["15.2"]["text"] == "Thạc sĩ, chuyên ngành Luật kinh tế"
    # The highest title, reward and discipline, each with its year, out of the histories.
    assert items["19"]["text"] == "Chiến sĩ thi đua cơ sở, năm 2022"
    assert items["21"]["text"] == "Bằng khen của bộ, ban, ngành, tỉnh, năm 2021"
    assert items["22"]["text"] == "Khiển trách, năm 2018"
    assert [row[2] for row in items["27"]["rows"]] == ["09/2004 – 06/2008", "09/2015 – 06/2017"]
    assert items["28"]["rows"] == [
        ["01/2012 – 12/2016", "Công chức, Chi cục Hải quan Nội Bài"],
        ["01/2017 – nay", "Đội trưởng, Chi cục Hải quan Nội Bài"],
    ]
    assert items["30a"]["rows"] == [["Bố", "Nguyễn Văn Bình", "1955", ""]]
    assert items["30b"]["rows"] == []
    assert items["31"]["rows"] == [["01/2012", "08.051, bậc 1", "2.34"], ["01/2015", "08.051, bậc 2", "2.67"]]
    assert items["32"]["text"] == "Năm 2025: Hoàn thành tốt nhiệm vụ"
    assert not any(item["withheld"] for item in resume["items"])


async def test_as_of_a_past_day_the_resume_is_the_record_as_it_stood(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Trần Văn Xưa", RECORD)
        items = _items(await _json(api, person["id"], as_of="2016-06-30"))

    assert "bậc: 1, hệ số: 2.34" not in items["14"]["text"]
    assert "bậc: 2, hệ số: 2.67, ngày hưởng: 01/01/2015" in items["14"]["text"]
    # The master's degree was still being studied for: the highest completed is the bachelor's.
    assert items["15.2"]["text"] == "Đại học, chuyên ngành Luật"
    assert items["12"]["text"] == "Công chức, Chi cục Hải quan Nội Bài"
    assert items["21"]["text"] == ""
    assert items["19"]["text"] == ""
    assert items["28"]["rows"] == [["01/2012 – nay", "Công chức, Chi cục Hải quan Nội Bài"]]
    assert len(items["31"]["rows"]) == 2
    assert items["32"]["text"] == ""


async def test_the_pdf_embeds_its_vietnamese_fonts_and_the_docx_opens_in_word(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Phạm Thị Ướt", RECORD)
        pdf = await api.get(f"/v1/persons/{person['id']}/resume")
        word = await api.get(f"/v1/persons/{person['id']}/resume", params={"format": "docx"})

    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert "Sơ yếu lý lịch Phạm Thị Ướt.pdf" in unquote(pdf.headers["content-disposition"])
    text = "\n".join(_pdf_pages(pdf.content))
    assert "SƠ YẾU LÝ LỊCH CÁN BỘ, CÔNG CHỨC" in text
    assert "PHẠM THỊ ƯỚT" in text
    assert "Bằng khen của bộ" in text
    fonts = _fonts(PdfReader(io.BytesIO(pdf.content)))
    assert fonts, "the PDF names no font"
    assert all(embedded for embedded in fonts.values()), f"fonts not embedded: {fonts}"

    assert word.status_code == 200, word.text
    assert word.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    document = docx.Document(io.BytesIO(word.content))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    assert "SƠ YẾU LÝ LỊCH CÁN BỘ, CÔNG CHỨC" in paragraphs
    assert "PHẠM THỊ ƯỚT" in paragraphs
    salary_table = next(t for t in document.tables if t.rows[0].cells[0].text == "Tháng, năm")
    assert [[c.text for c in row.cells] for row in salary_table.rows[1:]] == [
        ["01/2012", "08.051, bậc 1", "2.34"],
        ["01/2015", "08.051, bậc 2", "2.67"],
    ]


def _fonts(reader: PdfReader) -> dict[str, bool]:
    """Each font the pages use, and whether its program is in the file."""
    found: dict[str, bool] = {}
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for reference in (resources.get("/Font") or {}).values():
            font: Any = reference.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            found[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return found


async def test_every_resume_is_a_whole_record_read_in_the_audit_trail(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Lê Văn Vết", RECORD[:3])
        for kind in ("json", "pdf", "docx"):
            assert (await api.get(f"/v1/persons/{person['id']}/resume", params={"format": kind})).status_code == 200
        noted = await api.get("/v1/audit", params={"person_id": person["id"], "action": "resume"})

    assert noted.status_code == 200, noted.text
    entries = noted.json()["entries"]
    assert len(entries) == 3
    assert {e["account"] for e in entries} == {ADMIN}


async def test_items_of_sections_the_caller_may_not_read_are_withheld(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Đinh Văn Kín", RECORD)
    # The local officer was granted the particulars and the work history, not the salary.
    async with api_client(system.gateway_url, system.token("nhansu1.hanoi")) as officer:
        items = _items(await _json(officer, person["id"]))

    assert items["14"]["withheld"]
    assert items["14"]["text"] == ""
    assert items["31"]["withheld"]
    assert items["31"]["rows"] == []
    assert items["21"]["withheld"]
    assert items["22"]["withheld"]
    assert not items["4"]["withheld"]
    assert items["4"]["text"]
    assert not items["28"]["withheld"]
    assert len(items["28"]["rows"]) == 2


async def test_a_record_out_of_reach_has_no_resume(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Hồ Văn Xa", RECORD[:2])
    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as leader:
        one = await leader.get(f"/v1/persons/{person['id']}/resume")
        batch = await leader.get(f"/v1/units/{system.unit_ids['HQHN-NB']}/resumes")
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        noted = await api.get("/v1/audit", params={"person_id": person["id"], "action": "resume"})

    assert one.status_code == 404, one.text
    assert batch.status_code == 403, batch.text
    assert noted.json()["entries"] == []


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/v1/persons/{person}/resume", {"format": "xls"}, 422, "format"),
        ("/v1/persons/{person}/resume", {"as_of": "2026-13-01"}, 422, "as_of"),
        ("/v1/persons/00000000-0000-0000-0000-000000000000/resume", {}, 404, None),
        ("/v1/units/{unit}/resumes", {"format": "json"}, 422, "format"),
        ("/v1/units/{unit}/resumes", {"as_of": "1.1.2020"}, 422, "as_of"),
        ("/v1/units/00000000-0000-0000-0000-000000000000/resumes", {}, 404, None),
    ],
)
async def test_bad_input_is_refused_naming_the_query_field(
    system: System, path: str, params: dict[str, str], status: int, field: str | None
) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        person = await _person(api, system.unit_ids["HQHN-NB"], "Vũ Văn Sai", [])
        response = await api.get(path.format(person=person["id"], unit=system.unit_ids["HQHN-NB"]), params=params)

    assert response.status_code == status, response.text
    if field is not None:
        assert [e["loc"][-1] for e in response.json()["detail"]] == [field]


async def test_a_units_people_print_as_one_file_each_from_a_new_page(system: System) -> None:
    asked = vietnam_today()
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        unit = await _unit(api, system.unit_ids["HQHN-NB"])
        for name in ("Trần Thị Ba", "Nguyễn Văn An", "Lê Văn Cường"):
            await _person(api, unit, name, RECORD[:3])
        pdf = await api.get(f"/v1/units/{unit}/resumes")
        word = await api.get(f"/v1/units/{unit}/resumes", params={"format": "docx"})
        empty = await api.get(f"/v1/units/{await _unit(api, unit)}/resumes")
        noted = await api.get("/v1/audit", params={"unit_id": unit, "action": "resume", "page_size": 50})

    assert pdf.status_code == 200, pdf.text
    pages = _pdf_pages(pdf.content)
    firsts = [page for page in pages if "SƠ YẾU LÝ LỊCH CÁN BỘ, CÔNG CHỨC" in page]
    # In the order of a staff list: by given name.
    assert [next(n for n in ("NGUYỄN VĂN AN", "TRẦN THỊ BA", "LÊ VĂN CƯỜNG") if n in p) for p in firsts] == [
        "NGUYỄN VĂN AN",
        "TRẦN THỊ BA",
        "LÊ VĂN CƯỜNG",
    ]
    assert word.status_code == 200, word.text
    titles = [
        p for p in docx.Document(io.BytesIO(word.content)).paragraphs if p.text == "SƠ YẾU LÝ LỊCH CÁN BỘ, CÔNG CHỨC"
    ]
    assert len(titles) == 3
    assert empty.status_code == 422, empty.text
    assert [e["loc"][-1] for e in empty.json()["detail"]] == ["unit_id"]
    # Each printing is on record as a batch of the unit (its format, day and people), and each
    # resume in it as a read of that batch.
    assert noted.status_code == 200, noted.text
    entries = noted.json()["entries"]
    batches = {e["details"]["format"]: e for e in entries if e["target"] == "resume_batch"}
    assert set(batches) == {"pdf", "docx"}
    for batch in batches.values():
        assert batch["account"] == ADMIN
        assert batch["details"]["unit_id"] == unit
        assert batch["details"]["people"] == 3
        assert batch["details"]["include_subtree"] is False
        assert asked <= date.fromisoformat(batch["details"]["as_of"]) <= vietnam_today()
        printed = [
            e
            for e in entries
            if e["target"] == "record" and e["details"].get("batch_id") == batch["details"]["batch_id"]
        ]
        assert sorted(e["person_id"] for e in printed) == sorted(batch["details"]["person_ids"])
        assert len(printed) == 3


async def test_a_unit_larger_than_a_batch_is_refused_before_anything_is_read(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        unit = await _unit(api, system.unit_ids["HQHN-NB"])
        limit = 200  # the gateway's default QLCB_GATEWAY_RESUME_BATCH_MAX
        semaphore = asyncio.Semaphore(8)

        async def one(n: int) -> None:
            async with semaphore:
                await _person(api, unit, f"Người Thứ {n}", [])

        await asyncio.gather(*(one(n) for n in range(limit + 1)))
        response = await api.get(f"/v1/units/{unit}/resumes")
        noted = await api.get("/v1/audit", params={"unit_id": unit, "action": "resume"})

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"][-1] == "unit_id"
    assert f"{limit + 1} người" in error["msg"]
    assert noted.json()["entries"] == []
