"""Search (issue 9 point 1, R-PER-5, R-TIER-1; ADR 0015): `GET /v1/persons` and personnel's
`SearchPersons` find records by any combination of criteria, the name however it is typed, as of
any day; sort staff lists in Vietnamese order; page with a total; and never find, nor count, a
record outside the caller's scope. Bad criteria are refused naming the query field (point 8).

Each test makes its own units and people (other tests share the system), and narrows its searches
to them."""

from __future__ import annotations

import random
import unicodedata
import uuid
from datetime import date
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from qlcb.personnel.v1 import search_pb2, search_pb2_grpc
from qlcb_devstack import demo
from qlcb_personnel.persons.messages import ACTIVE
from qlcb_personnel.search import service
from qlcb_personnel.units.models import Unit
from tests.support import System, api_client, person_body, unique_code

ADMIN = "quantri"
DECISION = {"number": "7/QĐ-TCHQ", "date": "2001-01-01", "body": "Tổng cục Hải quan"}

pytestmark = pytest.mark.integration


async def _unit(api: httpx.AsyncClient, parent_id: str, name: str = "Đội tìm kiếm") -> str:
    code = unique_code("TK")
    body = {"code": code, "name": name, "kind": "sub_unit", "parent_id": parent_id, "effective_date": "2000-01-01"}
    body["decision"] = "1/QĐ-TK"
    created = await api.post("/v1/units", json=body)
    assert created.status_code == 201, created.text
    unit_id: str = created.json()["id"]
    return unit_id


async def _person(
    api: httpx.AsyncClient,
    unit_id: str,
    name: str,
    *,
    born: str = "1985-03-14",
    sex: str = "male",
    entries: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    created = await api.post("/v1/persons", json=person_body(unit_id, name, born=born, sex=sex))
    assert created.status_code == 201, created.text
    person: dict[str, Any] = created.json()
    if entries:
        recorded = await api.post(f"/v1/persons/{person['id']}/record", json={"entries": entries})
        assert recorded.status_code == 201, recorded.text
    return person


async def _found(api: httpx.AsyncClient, **criteria: Any) -> list[str]:
    """The full names every page of the search finds, in its order."""
    params = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in criteria.items()}
    params.setdefault("page_size", "500")
    response = await api.get("/v1/persons", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"]), "a test's searches fit on one page"
    return [p["full_name"] for p in body["items"]]


def _salary(rank: str, step: int, coefficient: str, since: str) -> dict[str, Any]:
    values = {"rank_code": rank, "step": step, "coefficient": coefficient}
    return {"section": "salary", "values": values, "valid_from": since, "decision": DECISION}


def _details(ethnicity: str, born: str, religion: str = "KHONG", province: str = "") -> dict[str, Any]:
    values = {"birthplace": "Hà Nội", "home_town": "Nam Định", "ethnicity": ethnicity, "religion": religion}
    values |= {"home_town_province": province} if province else {}
    return {"section": "personal_details", "values": values, "valid_from": born}


def _reward(form: str, day: str) -> dict[str, Any]:
    values = {"form": form, "reason": "Hoàn thành xuất sắc nhiệm vụ"}
    return {"section": "rewards", "values": values, "valid_from": day, "decision": DECISION | {"date": day}}


def _discipline(form: str, start: str, end: str) -> dict[str, Any]:
    values = {"form": form, "reason": "Vi phạm quy trình nghiệp vụ"}
    decision = DECISION | {"date": start}
    return {"section": "disciplines", "values": values, "valid_from": start, "valid_to": end, "decision": decision}


def _contract(kind: str, since: str) -> dict[str, Any]:
    return {"section": "labour_contracts", "values": {"contract_type": kind, "job": "Lái xe"}, "valid_from": since}


def _party(since: str) -> dict[str, Any]:
    return {"section": "memberships", "values": {"organisation": "DANG"}, "valid_from": since}


def _training(kind: str, level: str, start: str, end: str) -> dict[str, Any]:
    values = {"kind": kind, "level": level, "institution": "Học viện Tài chính"}
    return {"section": "trainings", "values": values, "valid_from": start, "valid_to": end}


def _evaluation(year: int, level: str) -> dict[str, Any]:
    return {
        "section": "evaluations",
        "values": {"year": year, "level": level},
        "valid_from": f"{year}-12-31",
        "decision": DECISION | {"date": f"{year}-12-31"},
    }


def _recruitment(day: str) -> dict[str, Any]:
    values = {"body": "Tổng cục Hải quan"}
    return {"section": "recruitment", "values": values, "valid_from": day, "decision": DECISION | {"date": day}}


def _post(code: str, since: str) -> dict[str, Any]:
    values = {"kind": "BO_NHIEM", "post": "Đội trưởng", "post_code": code, "unit_name": "Đội", "term_months": 60}
    return {"section": "appointments", "values": values, "valid_from": since, "decision": DECISION | {"date": since}}


async def test_a_name_is_found_however_it_is_typed(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        unit = await _unit(api, system.unit_ids["HQHN"])
        for index, name in enumerate(
            ("Nguyễn Văn An", "Nguyễn Văn Anh", "Trần Văn Bình", "Đặng Thị Đào", "Lê An Khánh")
        ):
            await _person(api, unit, name, born=f"{1980 - index}-01-01")
        nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
        assert nfd != "Nguyễn Văn An"
        for typed in ("nguyen van an", "NGUYỄN VĂN AN", nfd, "Nguyễn   văn  AN"):
            assert await _found(api, unit_id=unit, q=typed) == ["Nguyễn Văn An", "Nguyễn Văn Anh"], typed
        # Partial words: each word typed begins a word of the name, in any of its places.
        assert await _found(api, unit_id=unit, q="Văn An") == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
        assert await _found(api, unit_id=unit, q="an") == ["Nguyễn Văn An", "Nguyễn Văn Anh", "Lê An Khánh"]
        assert await _found(api, unit_id=unit, q="ngu an") == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
        assert await _found(api, unit_id=unit, q="văn anh") == ["Nguyễn Văn Anh"]
        # Đ is read as D, with or without its stroke, in either case.
        for typed in ("dang thi dao", "ĐẶNG ĐÀO", "Dao"):
            assert await _found(api, unit_id=unit, q=typed) == ["Đặng Thị Đào"], typed
        assert await _found(api, unit_id=unit, q="binh tran") == ["Trần Văn Bình"]
        assert await _found(api, unit_id=unit, q="van a") == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
        assert await _found(api, unit_id=unit, q="nguyen van b") == []
        # A page at a time, each with the total, the page past the last one too; by birth date.
        pages = []
        for page in (1, 2, 3, 4):
            params = {"unit_id": unit, "q": "an", "page": page, "page_size": 1, "sort": "birth_date"}
            response = await api.get("/v1/persons", params=params)
            assert response.status_code == 200, response.text
            assert (response.json()["total"], response.json()["page"]) == (3, page)
            pages += [p["full_name"] for p in response.json()["items"]]
        assert pages == ["Lê An Khánh", "Nguyễn Văn Anh", "Nguyễn Văn An"]


async def test_each_criterion_alone_and_combined(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        unit = await _unit(api, system.unit_ids["HQHN"])
        chief = await _person(
            api,
            unit,
            "Hà Văn Trưởng",
            born="1970-04-02",
            entries=[
                _details("02", "2009-01-01", religion="PHAT_GIAO", province="36"),
                _recruitment("1995-07-01"),
                _reward("BK_BO", "2023-05-15"),
                _party("2000-05-19"),
                _training("CM", "THS", "2008-09-01", "2010-06-30"),
                _training("LLCT", "LLCT_CC", "2011-09-01", "2012-06-30"),
                _training("QLNN", "QLNN_CVC", "2016-03-01", "2016-06-30"),
                _salary("08.050", 1, "4.40", "2015-01-01"),
                _post("DOI_TRUONG", "2020-01-01"),
                _evaluation(2024, "HTXSNV"),
            ],
        )
        clerk = await _person(
            api,
            unit,
            "Mai Thị Thư",
            born="1990-08-15",
            sex="female",
            entries=[
                _details("01", "2009-01-01", province="01"),
                _recruitment("2014-01-01"),
                _discipline("KHIEN_TRACH", "2025-03-01", "2026-02-28"),
                _training("CM", "DH", "2008-09-01", "2012-06-30"),
                _training("NN", "NN_B2", "2019-01-01", "2019-06-30"),
                _training("TH", "TH_CB", "2019-07-01", "2019-09-30"),
                _salary("08.051", 1, "2.34", "2014-01-01") | {"valid_to": "2019-12-31"},
                _salary("08.051", 3, "3.00", "2020-01-01"),
                _evaluation(2024, "HTTNV"),
            ],
        )
        retiree = await _person(
            api,
            unit,
            "Lưu Văn Hưu",
            born="1985-11-30",
            entries=[
                _details("01", "1985-11-30"),
                _recruitment("2008-03-01"),
                _contract("XAC_DINH", "2024-01-01"),
                _party("2012-02-03"),
                _training("LLCT", "LLCT_TC", "2013-09-01", "2014-06-30"),
                _salary("01.003", 1, "2.34", "2008-03-01"),
            ],
        )
        retired = await api.post(
            f"/v1/persons/{retiree['id']}/status",
            json={"status": "retired", "effective_date": "2026-06-30", "decision": "9/QĐ-TCHQ"},
        )
        assert retired.status_code == 200, retired.text

        chief_, clerk_, retiree_ = ["Hà Văn Trưởng"], ["Mai Thị Thư"], ["Lưu Văn Hưu"]
        alone: list[tuple[dict[str, Any], list[str]]] = [
            ({}, ["Lưu Văn Hưu", "Mai Thị Thư", "Hà Văn Trưởng"]),
            ({"personal_id": clerk["personal_id"]}, clerk_),
            ({"staff_number": chief["staff_number"]}, chief_),
            ({"status": "retired"}, retiree_),
            ({"status": "active"}, ["Mai Thị Thư", "Hà Văn Trưởng"]),
            ({"rank": "08.050"}, chief_),
            ({"rank": "08.051"}, clerk_),
            ({"rank_group": "CV"}, ["Lưu Văn Hưu", "Mai Thị Thư"]),
            ({"rank_group": "CVC"}, chief_),
            ({"post": "DOI_TRUONG"}, chief_),
            ({"post": "CHI_CUC_TRUONG"}, []),
            ({"qualification": "THS"}, chief_),
            ({"qualification": "DH"}, clerk_),
            ({"political_theory": "LLCT_CC"}, chief_),
            ({"political_theory": "LLCT_TC"}, retiree_),
            ({"state_management": "QLNN_CVC"}, chief_),
            ({"state_management": "QLNN_CVCC"}, []),
            ({"foreign_language": "NN_B2"}, clerk_),
            ({"it_level": "TH_CB"}, clerk_),
            ({"it_level": "TH_NC"}, []),
            ({"evaluation_year": 2024}, ["Mai Thị Thư", "Hà Văn Trưởng"]),
            ({"evaluation_year": 2024, "evaluation_level": "HTXSNV"}, chief_),
            ({"evaluation_year": 2023}, []),
            ({"sex": "female"}, clerk_),
            ({"sex": "male"}, ["Lưu Văn Hưu", "Hà Văn Trưởng"]),
            ({"ethnicity": "02"}, chief_),
            ({"ethnicity": "01"}, ["Lưu Văn Hưu", "Mai Thị Thư"]),
            ({"religion": "PHAT_GIAO"}, chief_),
            ({"religion": "KHONG"}, ["Lưu Văn Hưu", "Mai Thị Thư"]),
            ({"home_province": "36"}, chief_),
            ({"home_province": "01"}, clerk_),
            ({"reward": "BK_BO"}, chief_),
            ({"reward": "BK_BO", "as_of": "2023-05-14"}, []),
            ({"discipline": "KHIEN_TRACH", "as_of": "2025-06-01"}, clerk_),
            ({"discipline": "KHIEN_TRACH", "as_of": "2026-03-01"}, []),
            ({"contract_type": "XAC_DINH"}, retiree_),
            ({"contract_type": "XAC_DINH", "as_of": "2023-12-31"}, []),
            ({"salary_step": 1}, ["Lưu Văn Hưu", "Hà Văn Trưởng"]),
            ({"salary_step": 3}, clerk_),
            ({"salary_step": 1, "as_of": "2019-12-31"}, ["Lưu Văn Hưu", "Mai Thị Thư", "Hà Văn Trưởng"]),
            ({"salary_step": 9}, []),
            ({"party_member": True}, ["Lưu Văn Hưu", "Hà Văn Trưởng"]),
            ({"party_member": False}, clerk_),
            ({"born_from": "1980-01-01", "born_to": "1989-12-31"}, retiree_),
            ({"born_from": "1985-11-30"}, ["Lưu Văn Hưu", "Mai Thị Thư"]),
            ({"born_to": "1985-11-29"}, chief_),
            # Ages on 1 January 2026: 55, 35 and 40.
            ({"as_of": "2026-01-01", "age_min": 35, "age_max": 40}, ["Lưu Văn Hưu", "Mai Thị Thư"]),
            ({"as_of": "2026-01-01", "age_min": 41}, chief_),
            ({"as_of": "2026-01-01", "age_max": 34}, []),
            ({"recruited_from": "2000-01-01", "recruited_to": "2010-12-31"}, retiree_),
            ({"recruited_to": "1999-12-31"}, chief_),
            ({"recruited_from": "2014-01-01"}, clerk_),
        ]
        for criteria, expected in alone:
            assert await _found(api, unit_id=unit, **criteria) == expected, criteria

        combined: list[tuple[dict[str, Any], list[str]]] = [
            ({"party_member": True, "sex": "male", "rank_group": "CVC"}, chief_),
            ({"party_member": True, "rank_group": "CV", "status": "retired"}, retiree_),
            ({"party_member": True, "rank_group": "CV", "status": "active"}, []),
            ({"q": "thu", "sex": "female", "evaluation_year": 2024, "qualification": "DH"}, clerk_),
            ({"q": "thu", "sex": "male"}, []),
            ({"ethnicity": "01", "political_theory": "LLCT_TC", "born_from": "1985-01-01"}, retiree_),
            ({"foreign_language": "NN_B2", "it_level": "TH_CB", "sex": "female"}, clerk_),
            ({"state_management": "QLNN_CVC", "foreign_language": "NN_B2"}, []),
            ({"party_member": True, "reward": "BK_BO", "religion": "PHAT_GIAO"}, chief_),
            ({"home_province": "01", "discipline": "KHIEN_TRACH", "as_of": "2025-06-01", "sex": "female"}, clerk_),
            ({"home_province": "01", "discipline": "CANH_CAO", "as_of": "2025-06-01"}, []),
            ({"rank": "08.051", "salary_step": 3}, clerk_),
            ({"rank": "01.003", "salary_step": 3}, []),
            ({"rank_group": "CV", "salary_step": 1}, retiree_),
            ({"post": "DOI_TRUONG", "qualification": "THS", "evaluation_year": 2024, "evaluation_level": "HTTNV"}, []),
        ]
        for criteria, expected in combined:
            assert await _found(api, unit_id=unit, **criteria) == expected, criteria

    # The same search through personnel's gRPC API, as the gateway calls it.
    async with grpc.aio.insecure_channel(system.services.grpc_target("personnel")) as channel:
        found = await search_pb2_grpc.PersonSearchServiceStub(channel).SearchPersons(
            search_pb2.SearchPersonsRequest(unit_id=unit, party_member=True, rank_group="CV"),
            metadata=(("authorization", f"Bearer {system.token(ADMIN)}"),),
            timeout=10,
        )
    assert [(p.full_name, p.status) for p in found.persons] == [("Lưu Văn Hưu", 2)]
    assert found.total == 1


async def test_staff_lists_sort_as_vietnamese_lists_do(system: System) -> None:
    names = ["Nguyễn Minh Đức", "Vũ Văn Dũng", "Phạm Văn Bình", "Lê Thị Ánh", "Trần Văn An", "Nguyễn Văn An"]
    vietnamese_order = ["Nguyễn Văn An", "Trần Văn An", "Lê Thị Ánh", "Phạm Văn Bình", "Vũ Văn Dũng", "Nguyễn Minh Đức"]
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        parent = await _unit(api, system.unit_ids["HQHCM"], "Chi cục sắp xếp")
        first, second = await _unit(api, parent, "Đội A"), await _unit(api, parent, "Đội B")
        shuffled = random.Random(9).sample(names, len(names))
        births = {}
        for index, name in enumerate(shuffled):
            births[name] = f"19{70 + index}-01-01"
            await _person(api, first if index % 2 else second, name, born=births[name])

        by_name = await _found(api, unit_id=parent, include_subtree=True)
        assert by_name == vietnamese_order, "given name first; D before Đ; tones after the letters"
        by_birth = await _found(api, unit_id=parent, include_subtree=True, sort="birth_date")
        assert by_birth == sorted(names, key=births.__getitem__)
        paths = {u["id"]: u["path"] for u in (await api.get("/v1/units")).json()}
        by_unit = await _found(api, unit_id=parent, include_subtree=True, sort="unit")
        in_first = [n for n in vietnamese_order if shuffled.index(n) % 2]
        in_second = [n for n in vietnamese_order if not shuffled.index(n) % 2]
        assert by_unit == (in_first + in_second if paths[first] < paths[second] else in_second + in_first)

        # A page at a time, each with the total.
        pages = []
        for page in (1, 2, 3, 4):
            response = await api.get(
                "/v1/persons", params={"unit_id": parent, "include_subtree": "true", "page": page, "page_size": 2}
            )
            assert response.status_code == 200, response.text
            assert (response.json()["total"], response.json()["page"], response.json()["page_size"]) == (6, page, 2)
            pages.append([p["full_name"] for p in response.json()["items"]])
        assert pages == [vietnamese_order[0:2], vietnamese_order[2:4], vietnamese_order[4:6], []]
        # The pages of the birth-date order take their people in that order, not the name's.
        eldest_first = sorted(names, key=births.__getitem__)
        for page in (1, 2, 3):
            response = await api.get(
                "/v1/persons",
                params={
                    "unit_id": parent,
                    "include_subtree": "true",
                    "page": page,
                    "page_size": 2,
                    "sort": "birth_date",
                },
            )
            assert response.status_code == 200, response.text
            assert [p["full_name"] for p in response.json()["items"]] == eldest_first[2 * page - 2 : 2 * page]

    # The order is PostgreSQL's own Vietnamese collation (ICU), given name first.
    connection = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        in_icu = await connection.fetch(
            "SELECT p.full_name FROM persons p JOIN units u ON u.id = p.unit_id WHERE u.parent_id = $1"
            " ORDER BY substring(p.full_name from '[^ ]+$') COLLATE \"vi-VN-x-icu\","
            ' p.full_name COLLATE "vi-VN-x-icu"',
            parent,
        )
    finally:
        await connection.close()
    assert [r["full_name"] for r in in_icu] == vietnamese_order


async def test_as_of_a_past_day_finds_the_unit_status_and_entries_of_that_day(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        parent = await _unit(api, system.unit_ids["HQHN"], "Chi cục lịch sử")
        before, after = await _unit(api, parent, "Đội cũ"), await _unit(api, system.unit_ids["HQHCM"], "Đội mới")
        mover = await _person(
            api,
            before,
            "Chu Văn Chuyển",
            entries=[
                _salary("08.051", 1, "2.34", "2010-01-01"),
                _salary("08.050", 1, "4.40", "2024-01-01"),
                _party("2012-01-01") | {"valid_to": "2019-12-31"},
            ],
        )
        stayer = await _person(api, before, "Tô Thị Ở", sex="female")
        sent = await api.post(
            "/v1/transfers",
            json={"person_id": mover["id"], "to_unit_id": after, "effective_date": "2025-06-01", "decision": "3/QĐ"},
        )
        assert sent.status_code == 201, sent.text
        accepted = await api.post(f"/v1/transfers/{sent.json()['id']}/accept")
        assert accepted.status_code == 200, accepted.text
        left = await api.post(
            f"/v1/persons/{stayer['id']}/status",
            json={"status": "resigned", "effective_date": "2026-03-01", "decision": "4/QĐ"},
        )
        assert left.status_code == 200, left.text

        assert await _found(api, unit_id=before) == ["Tô Thị Ở"]
        assert await _found(api, unit_id=after) == ["Chu Văn Chuyển"]
        assert await _found(api, unit_id=before, as_of="2025-05-31") == ["Chu Văn Chuyển", "Tô Thị Ở"]
        assert await _found(api, unit_id=before, as_of="2025-06-01") == ["Tô Thị Ở"]
        assert await _found(api, unit_id=after, as_of="2025-06-01") == ["Chu Văn Chuyển"]
        assert await _found(api, unit_id=parent, include_subtree=True, as_of="2025-01-01") == [
            "Chu Văn Chuyển",
            "Tô Thị Ở",
        ]
        # The answer tells the unit and the status of that day.
        then = await api.get("/v1/persons", params={"unit_id": before, "as_of": "2025-05-31"})
        units_then = {p["full_name"]: (p["unit_id"], p["status"]) for p in then.json()["items"]}
        assert units_then == {"Chu Văn Chuyển": (before, "active"), "Tô Thị Ở": (before, "active")}
        now = await api.get("/v1/persons", params={"unit_id": before})
        assert [(p["unit_id"], p["status"]) for p in now.json()["items"]] == [(before, "resigned")]

        assert await _found(api, unit_id=before, status="active", as_of="2026-02-28") == ["Tô Thị Ở"]
        assert await _found(api, unit_id=before, status="resigned", as_of="2026-03-01") == ["Tô Thị Ở"]
        assert await _found(api, unit_id=before, status="active") == []
        # The record's entries of that day: the rank then, the Party membership then.
        assert await _found(api, unit_id=after, rank="08.051") == []
        assert await _found(api, unit_id=after, rank="08.050") == ["Chu Văn Chuyển"]
        assert await _found(api, unit_id=after, rank="08.051", as_of="2020-06-30") == []
        assert await _found(api, unit_id=before, rank="08.051", as_of="2020-06-30") == ["Chu Văn Chuyển"]
        assert await _found(api, unit_id=before, party_member=True, as_of="2015-01-01") == ["Chu Văn Chuyển"]
        assert await _found(api, unit_id=before, party_member=True, as_of="2020-01-01") == []
        assert await _found(api, unit_id=before, party_member=False, as_of="2020-01-01") == [
            "Chu Văn Chuyển",
            "Tô Thị Ở",
        ]
        by_unit = await api.get(
            "/v1/persons", params={"unit_id": parent, "include_subtree": "true", "sort": "unit", "as_of": "2025-01-01"}
        )
        assert [p["unit_id"] for p in by_unit.json()["items"]] == [before, before]


async def test_the_search_never_finds_nor_counts_outside_the_callers_scope(system: System) -> None:
    marker = "Tầmvực" + "".join(random.Random(uuid.uuid4().int).choices("abcdeghiklmnopqrstuvxy", k=8))
    name = f"Quách Văn {marker}"
    async with api_client(system.gateway_url, system.token(ADMIN)) as admin:
        inside = await _person(admin, system.unit_ids["HQHN-NB"], name)
        below = await _person(admin, system.unit_ids["HQHN-BHN"], name)
        outside = await _person(admin, system.unit_ids["HQHCM-TSN"], name)
        assert sorted(await _ids(admin, q=marker)) == sorted(p["id"] for p in (inside, below, outside))

    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        assert sorted(await _ids(hanoi, q=marker)) == sorted([inside["id"], below["id"]])
        # Asked for the unit outside its subtree, it finds nobody, and counts nobody.
        elsewhere = await hanoi.get("/v1/persons", params={"q": marker, "unit_id": system.unit_ids["HQHCM"]})
        assert (elsewhere.json()["total"], elsewhere.json()["items"]) == (0, [])
        everyone = await hanoi.get("/v1/persons", params={"page_size": "1"})
        assert everyone.status_code == 200, everyone.text
        listed = await _listed(hanoi, system.root_unit_id)
    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as hcm:
        assert await _ids(hcm, q=marker) == [outside["id"]]

    # The total is the scope's: what the unit's listing holds, less than the sector's.
    async with api_client(system.gateway_url, system.token(ADMIN)) as admin:
        sector = (await admin.get("/v1/persons", params={"page_size": "1"})).json()["total"]
    assert everyone.json()["total"] == listed < sector

    # The self tier finds its own record, and nothing else, whatever it asks.
    own = demo.self_person()
    async with api_client(system.gateway_url, system.token("canbo.noibai")) as me:
        mine = await me.get("/v1/persons")
        assert mine.status_code == 200, mine.text
        assert (mine.json()["total"], [p["personal_id"] for p in mine.json()["items"]]) == (1, [own.personal_id])
        assert (await me.get("/v1/persons", params={"q": marker})).json()["total"] == 0
        by_unit = await me.get("/v1/persons", params={"unit_id": system.unit_ids["HQHN-NB"]})
        assert [p["personal_id"] for p in by_unit.json()["items"]] == [own.personal_id]

    # A criterion on a record section the caller may not read is refused; its own sections are not.
    async with api_client(system.gateway_url, system.token("nhansu1.hanoi")) as officer:
        by_rank = await officer.get("/v1/persons", params={"q": marker, "rank": "08.051"})
        assert by_rank.status_code == 403, by_rank.text
        by_post = await officer.get("/v1/persons", params={"q": marker, "post": "DOI_TRUONG"})
        assert by_post.status_code == 200, by_post.text
        assert sorted(await _ids(officer, q=marker)) == sorted([inside["id"], below["id"]])


async def _listed(api: httpx.AsyncClient, root: str) -> int:
    """How many people the unit listing of the whole tree gives the caller, page after page."""
    count, params = 0, {"include_subtree": "true", "page_size": "500"}
    while True:
        page = (await api.get(f"/v1/units/{root}/persons", params=params)).json()
        count += len(page["items"])
        if not page["next_page_token"]:
            return count
        params["page_token"] = page["next_page_token"]


async def _ids(api: httpx.AsyncClient, **params: str) -> list[str]:
    response = await api.get("/v1/persons", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == len(response.json()["items"])
    return [p["id"] for p in response.json()["items"]]


BAD = [
    ({"rank": "99.999"}, "rank", "danh mục ngạch"),
    ({"rank_group": "XYZ"}, "rank_group", "nhóm ngạch"),
    ({"post": "THU_TUONG"}, "post", "danh mục chức vụ"),
    ({"qualification": "LLCT_CC"}, "qualification", "trình độ chuyên môn"),
    ({"political_theory": "THS"}, "political_theory", "lý luận chính trị"),
    ({"state_management": "LLCT_CC"}, "state_management", "quản lý nhà nước"),
    ({"foreign_language": "TH_CB"}, "foreign_language", "ngoại ngữ"),
    ({"it_level": "NN_B2"}, "it_level", "tin học"),
    ({"ethnicity": "99"}, "ethnicity", "dân tộc"),
    ({"religion": "DAO_KHAC"}, "religion", "tôn giáo"),
    ({"home_province": "99"}, "home_province", "tỉnh, thành phố"),
    ({"reward": "HUY_HIEU"}, "reward", "khen thưởng"),
    ({"discipline": "PHAT_TIEN"}, "discipline", "kỷ luật"),
    ({"contract_type": "THU_VIEC"}, "contract_type", "hợp đồng"),
    ({"salary_step": "0"}, "salary_step", "Phải từ 1 đến 99"),
    ({"salary_step": "13"}, "salary_step", "Không ngạch nào có quá 12 bậc"),
    ({"rank": "08.050", "salary_step": "9"}, "salary_step", "Ngạch 08.050 chỉ có 8 bậc"),
    ({"salary_step": "ba"}, "salary_step", "Phải là số nguyên"),
    ({"evaluation_year": "2024", "evaluation_level": "XUAT_SAC"}, "evaluation_level", "mức xếp loại"),
    ({"evaluation_level": "HTNV"}, "evaluation_year", "Cần năm đánh giá"),
    ({"evaluation_year": "1900"}, "evaluation_year", "Phải từ 1975 đến 2100"),
    ({"status": "gone"}, "status", "Tình trạng phải là một trong"),
    ({"sex": "other"}, "sex", "Giới tính phải là một trong"),
    ({"sort": "salary"}, "sort", "Sắp xếp theo phải là một trong"),
    ({"page_size": "0"}, "page_size", "Phải từ 1 đến 500"),
    ({"page_size": "501"}, "page_size", "Phải từ 1 đến 500"),
    ({"page_size": "mười"}, "page_size", "Phải là số nguyên"),
    ({"page": "0"}, "page", "Phải từ 1 trở lên"),
    ({"born_from": "2000-01-01", "born_to": "1990-01-01"}, "born_to", "Ngày kết thúc trước ngày bắt đầu"),
    ({"recruited_from": "2020-01-01", "recruited_to": "2019-12-31"}, "recruited_to", "trước ngày bắt đầu"),
    ({"age_min": "50", "age_max": "40"}, "age_max", "Nhỏ hơn tuổi thấp nhất"),
    ({"age_min": "101"}, "age_min", "Phải từ 0 đến 100"),
    ({"as_of": "2024-13-01"}, "as_of", "YYYY-MM-DD"),
    ({"born_from": "hôm qua"}, "born_from", "YYYY-MM-DD"),
    ({"personal_id": "12345"}, "personal_id", "12 chữ số"),
    ({"unit_id": "khong-co-don-vi-nay"}, "unit_id", "Không có đơn vị này"),
    ({"party_member": "có lẽ"}, "party_member", "true hoặc false"),
    ({"include_subtree": "yes"}, "include_subtree", "true hoặc false"),
    ({"q": "a" * 151}, "q", "Dài quá 150 ký tự"),
    ({"rnak": "08.051"}, "rnak", "Không có tiêu chí tìm kiếm này"),
]


@pytest.mark.parametrize(("params", "field", "reason"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
async def test_a_bad_criterion_is_refused_naming_its_field(
    system: System, params: dict[str, str], field: str, reason: str
) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        response = await api.get("/v1/persons", params=params)
    assert response.status_code == 422, response.text
    faults = response.json()["detail"]
    assert [fault["loc"] for fault in faults] == [["query", field]], faults
    assert reason in faults[0]["msg"], faults


async def test_every_fault_of_a_search_is_named_at_once(system: System) -> None:
    params = {"rank": "99.999", "status": "gone", "sort": "salary", "born_from": "2000-01-01", "born_to": "1990-01-01"}
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        response = await api.get("/v1/persons", params=params)
    assert response.status_code == 422, response.text
    assert sorted(f["loc"][1] for f in response.json()["detail"]) == ["born_to", "rank", "sort", "status"]


async def test_the_search_reads_indexes_not_the_whole_table(system: System) -> None:
    """With sequential scans made as dear as PostgreSQL allows, the name search is answered by the
    index of its words' beginnings (ADR 0042) and every other criterion by an index of the people's
    days (ADR 0051): the store has what a million records need (the benchmark measures them at
    scale)."""
    day = date(2026, 1, 1)
    province = Unit(id=system.unit_ids["HQHN"], path="TCHQ/HQHN")
    criteria = {
        "ix_persons_name_prefixes": service.Criteria(day=day, words=("nguyen", "van", "an")),
        "ix_search_days_rank": service.Criteria(day=day, held=(service.Held("rank", ("08.050",)),)),
        "ix_search_days_now": service.Criteria(day=day, unit=province, status=ACTIVE),
        "ix_search_days_unit": service.Criteria(day=day, as_of=day, unit=province, status=ACTIVE),
        "ix_search_days_day": service.Criteria(day=day),
    }
    dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    connection = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        await connection.execute("SET enable_seqscan = off")
        for index, checked in criteria.items():
            counted = service.statements(checked, []).count
            sql = str(counted.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(r[0] for r in await connection.fetch(f"EXPLAIN {sql}"))
            assert index in plan, plan
    finally:
        await connection.close()
