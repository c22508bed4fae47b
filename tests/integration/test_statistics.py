"""The statutory statistics (issue 10, R-REP-1; ADR 0031): BM01 for any unit subtree as of any day,
from reports' read-model built from personnel's events alone.

- Consistency (point 5): every cell personnel's search can express equals the count the search
  finds with the same criteria on the same day; the total row is the sum of the rows below it; the
  cells no search criterion reaches are checked against the people made.
- A transfer, a retirement, a rank change and a correction dated in the past move exactly the
  cells they should, as of each day.
- Bad input (point 6): an unknown form, a day after today or before the sector, a unit outside the
  caller's reports.
- Drill-down (point 3): a cell lists the people it counts, inside the caller's scope.
- Rebuild (point 1): a replay into a fresh generation, with reports killed during it, serves the
  same figures and counts nothing twice.

Each test makes its own units and people under Cục Hải quan Hà Nội (other tests share the system)."""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
import re
import unicodedata
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from qlcb_common.days import vietnam_today
from qlcb_devstack import demo, records
from qlcb_reports.statistics import __main__ as statistics_command
from tests.support import System, api_client, caught_up, eventually, person_body, unique_code

ADMIN = "quantri"
DECISION = {"number": "7/QĐ-TCHQ", "date": "2001-01-01", "body": "Tổng cục Hải quan"}
TODAY = vietnam_today().isoformat()
AGES_ON = "2026-12-01"

pytestmark = pytest.mark.integration

SEARCHED: dict[str, list[dict[str, Any]]] = {
    "headcount": [{}],
    "women": [{"sex": "female"}],
    "party": [{"party_member": "true"}],
    "ethnic_minority": [{"ethnicity": "02"}, {"ethnicity": "03"}],
    **{f"rank_{g.lower()}": [{"rank_group": g}] for g in ("CVCC", "CVC", "CV", "CS", "NV")},
    **{f"cm_{c.lower()}": [{"qualification": c}] for c in ("TS", "THS", "CD", "TC", "SC")},
    **{f"llct_{c.lower()}": [{"political_theory": f"LLCT_{c}"}] for c in ("CN", "CC", "TC", "SC")},
    "age_30": [{"age_max": 30}],
    "age_31_40": [{"age_min": 31, "age_max": 40}],
    "age_41_50": [{"age_min": 41, "age_max": 50}],
    "age_51_60": [{"age_min": 51, "age_max": 60}],
}
"""BM01's columns as personnel's search asks them (a sum of searches for a group of codes). The
people made hold one professional level each but one, who holds two: `cm_dh` counts each person at
their highest level, which no single search asks, and is checked against the people made."""


async def _unit(api: httpx.AsyncClient, parent_id: str, name: str) -> str:
    body = {"code": unique_code("TK"), "name": name, "kind": "sub_unit", "parent_id": parent_id}
    created = await api.post("/v1/units", json=body | {"effective_date": "2000-01-01", "decision": "1/QĐ-TK"})
    assert created.status_code == 201, created.text
    unit_id: str = created.json()["id"]
    return unit_id


async def _person(
    api: httpx.AsyncClient, unit_id: str, name: str, *, born: str, sex: str, entries: list[dict[str, Any]]
) -> str:
    created = await api.post("/v1/persons", json=person_body(unit_id, name, born=born, sex=sex))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    if entries:
        recorded = await api.post(f"/v1/persons/{person_id}/record", json={"entries": entries})
        assert recorded.status_code == 201, recorded.text
    return person_id


def _salary(rank: str, since: str, coefficient: str = "2.34") -> dict[str, Any]:
    values = {"rank_code": rank, "step": 1, "coefficient": coefficient}
    return {"section": "salary", "values": values, "valid_from": since, "decision": DECISION}


def _details(ethnicity: str, religion: str, since: str) -> dict[str, Any]:
    values = {"birthplace": "Hà Nội", "home_town": "Nam Định", "ethnicity": ethnicity, "religion": religion}
    return {"section": "personal_details", "values": values, "valid_from": since}


def _party(since: str) -> dict[str, Any]:
    return {"section": "memberships", "values": {"organisation": "DANG"}, "valid_from": since}


def _training(kind: str, level: str, end: str) -> dict[str, Any]:
    values = {"kind": kind, "level": level, "institution": "Học viện Tài chính"}
    return {"section": "trainings", "values": values, "valid_from": f"{int(end[:4]) - 2}{end[4:]}", "valid_to": end}


async def _bm01(api: httpx.AsyncClient, unit_id: str, as_of: str = "") -> dict[str, Any]:
    response = await api.get("/v1/statistics/BM01", params={"unit": unit_id, "as_of": as_of})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _cells(form: dict[str, Any]) -> dict[tuple[str, str], int | None]:
    keys = [c["key"] for c in form["columns"]]
    return {(row["key"], key): value for row in form["rows"] for key, value in zip(keys, row["cells"], strict=True)}


async def _searched(api: httpx.AsyncClient, **criteria: Any) -> int:
    params = {k: str(v) for k, v in criteria.items()} | {"status": "active", "page_size": "1"}
    response = await api.get("/v1/persons", params=params)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def _mismatches(
    api: httpx.AsyncClient, unit_id: str, as_of: str, searched: dict[str, list[dict[str, Any]]] = SEARCHED
) -> list[str]:
    """Every cell of BM01 that a search asks differently, and every people column whose total is not
    the sum of the rows below it."""
    form = await _bm01(api, unit_id, as_of)
    cells = _cells(form)
    rows = {row["key"]: row for row in form["rows"]}
    found: list[str] = []
    for column in form["columns"]:
        key = column["key"]
        if column["count"] == "people":
            below = sum(cells[r, key] or 0 for r in rows if r != "total")
            if cells["total", key] != below:
                found.append(f"{as_of} total {key}: {cells['total', key]} != {below}")
        for criteria in [searched[key]] if key in searched else []:
            for row_key in rows:
                if row_key == "own":
                    where = {"unit_id": unit_id}
                else:
                    where = {"unit_id": unit_id if row_key == "total" else row_key, "include_subtree": "true"}
                counted = 0
                for one in criteria:
                    counted += await _searched(api, as_of=as_of, **where, **one)
                if cells[row_key, key] != counted:
                    found.append(
                        f"{as_of} {rows[row_key]['label']} {key}: form {cells[row_key, key]}, search {counted}"
                    )
    return found


async def _consistent(
    api: httpx.AsyncClient, unit_id: str, as_of: str, searched: dict[str, list[dict[str, Any]]] = SEARCHED
) -> None:
    await eventually(
        lambda: _mismatches(api, unit_id, as_of, searched),
        lambda found: not found,
        timeout=90,
        what=f"BM01 as of {as_of}",
    )


GENERATED_SEARCHED = SEARCHED | {
    "ethnic_minority": [{"ethnicity": code} for code in ("02", "03", "06", "07")],
    "cm_dh": [{"qualification": "DH"}],
}
"""BM01's columns as the search asks them of the demo generator's people: every minority it gives,
and the university degree, which is everyone's highest (the generator gives no higher one)."""


async def test_bm01_of_a_generated_sector_equals_what_search_finds_today_and_years_back(system: System) -> None:
    """Issue 10 point 5 on the demo generator's people (histories of salary, rank promotions, Party
    and political theory, languages and IT), not only on people made for the test. Their records are
    taken in today, each with its recruitment: a past day counts those recruited by then."""
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        top = await _unit(api, system.unit_ids["HQHN"], "Phòng sinh dữ liệu")
        units = [top, *[await _unit(api, top, f"Đội sinh dữ liệu {n}") for n in (1, 2, 3)]]
        generated = demo.personnel(240)[200:]
        for n, person in enumerate(generated):
            entries = [{"section": e.section, **e.body} for e in records.sections(person)]
            await _person(
                api, units[n % len(units)], person.full_name,
                born=person.date_of_birth.isoformat(), sex=person.sex, entries=entries,
            )  # fmt: skip
        for day in (TODAY, "2021-12-31", "2012-12-31"):
            await _consistent(api, top, day, GENERATED_SEARCHED)
        cells = _cells(await _bm01(api, top))
        assert cells["total", "headcount"] == len(generated)
        assert cells["total", "party"], "the generator gives Party members: the column is not empty"
        assert cells["total", "cm_dh"] == len(generated)
        # Years back, only those recruited by then: the records were all taken in today.
        for day in ("2021-12-31", "2012-12-31"):
            recruited = sum(
                1
                for person in generated
                if any(e.section == "recruitment" and e.body["valid_from"] <= day for e in records.sections(person))
            )
            assert 0 < recruited < len(generated)
            assert _cells(await _bm01(api, top, day))["total", "headcount"] == recruited, day


async def test_bm01_cells_equal_what_search_finds_and_add_up(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        top = await _unit(api, system.unit_ids["HQHN"], "Phòng thống kê")
        first = await _unit(api, top, "Đội thống kê một")
        second = await _unit(api, top, "Đội thống kê hai")
        # Quotas of 2024, a year no other test gives: each unit's comes out of its parent's.
        chain = [(system.root_unit_id, 100_000), (system.unit_ids["HQHN"], 10_000), (top, 10), (first, 4), (second, 3)]
        for unit_id, quota in chain:
            body = {"quota": quota, "effective_date": "2024-01-01", "decision": "12/QĐ-TCHQ"}
            given = await api.put(f"/v1/units/{unit_id}/quotas/2024", json=body)
            assert given.status_code == 200, given.text
        await _person(
            api, first, "Hà Văn Một", born="1970-04-02", sex="male",
            entries=[
                _details("02", "PHAT_GIAO", "1970-04-02"), _party("2000-05-19"), _training("CM", "THS", "2010-06-30"),
                _training("LLCT", "LLCT_CC", "2012-06-30"), _training("QLNN", "QLNN_CVC", "2013-06-30"),
                _training("TH", "TH_CB", "2016-06-30"), _training("NN", "NN_B3", "2016-06-30"),
                _salary("08.050", "2015-01-01", "4.40"),
            ],
        )  # fmt: skip
        await _person(
            api, first, "Mai Thị Hai", born="1990-08-15", sex="female",
            entries=[
                _details("01", "KHONG", "1990-08-15"), _training("CM", "DH", "2012-06-30"),
                _training("NN", "NN_DH", "2013-06-30"), _salary("08.051", "2014-01-01"),
            ],
        )  # fmt: skip
        await _person(
            api, first, "Lý Thị Ba", born="1968-01-10", sex="female",
            entries=[
                _details("03", "CONG_GIAO", "1968-01-10"), _party("1995-01-01"), _training("CM", "DH", "1990-06-30"),
                _salary("01.003", "2005-01-01"),
            ],
        )  # fmt: skip
        await _person(
            api, second, "Trần Văn Bốn", born="1995-02-01", sex="male",
            entries=[
                _details("01", "KHONG", "1995-02-01"), _training("CM", "CD", "2016-06-30"),
                _training("TH", "TH_TC", "2016-06-30"), _salary("08.052", "2017-01-01", "2.10"),
            ],
        )  # fmt: skip
        await _person(
            api, second, "Đỗ Văn Năm", born="1980-07-07", sex="male",
            entries=[
                _training("CM", "DH", "2002-06-30"), _training("CM", "THS", "2008-06-30"),
                _training("LLCT", "LLCT_TC", "2010-06-30"), _party("2005-01-01"),
                _salary("01.002", "2012-01-01", "4.40"),
            ],
        )  # fmt: skip
        leaver = await _person(api, second, "Phạm Thị Sáu", born="1999-09-09", sex="female", entries=[])
        left = {"status": "resigned", "effective_date": "2025-06-30", "decision": "9/QĐ-TCHQ"}
        assert (await api.post(f"/v1/persons/{leaver}/status", json=left)).status_code == 200
        await _person(
            api, top, "Vũ Văn Bảy", born="1963-03-03", sex="male",
            entries=[
                _salary("01.001", "2010-01-01", "6.20"), _training("CM", "TS", "2000-06-30"),
                _training("LLCT", "LLCT_CN", "2005-06-30"), _training("QLNN", "QLNN_CVCC", "2011-06-30"),
            ],
        )  # fmt: skip
        await _person(
            api,
            top,
            "Ngô Thị Tám",
            born="1972-12-25",
            sex="female",
            entries=[_salary("01.005", "2005-01-01", "1.86"), _training("CM", "TC", "1994-06-30")],
        )

        for day in (TODAY, "2024-07-01"):
            await _consistent(api, top, day)

        # A fixed day, so that the ages and the year's retirement schedule below stay those of 2026
        # whenever the suite runs (today's figures are checked against the search above).
        cells = _cells(await _bm01(api, top, AGES_ON))
        expected = {
            ("total", "headcount"): 7,
            (first, "headcount"): 3,
            (second, "headcount"): 2,
            ("own", "headcount"): 2,
            ("total", "quota"): None,
            (first, "quota"): None,
            # The two who hold a professional degree and no higher one: Đỗ Văn Năm counts as a master.
            ("total", "cm_dh"): 2,
            (first, "cm_dh"): 2,
            (second, "cm_ths"): 1,
            ("total", "religious"): 2,
            (first, "religious"): 2,
            ("total", "th_tc"): 1,
            ("total", "th_cc"): 1,
            ("total", "nn_dh"): 1,
            ("total", "nn_cc"): 1,
            ("total", "qlnn_cvcc"): 1,
            ("total", "qlnn_cvc"): 1,
            # Retirement in 2026: men at 61 years 6 months, women at 57 (Nghị định 135/2020).
            ("total", "women_near_retirement"): 1,
            ("own", "women_near_retirement"): 1,
            ("total", "men_near_retirement"): 1,
            (first, "men_near_retirement"): 1,
            ("total", "over_retirement"): 2,
        }
        assert {k: cells[k] for k in expected} == expected
        # The one who resigned in 2025 counts before it, in her unit; the quotas are those of the year.
        before = _cells(await _bm01(api, top, "2024-07-01"))
        assert (before["total", "headcount"], before[second, "headcount"], before[second, "women"]) == (8, 3, 1)
        quotas = {row: before[row, "quota"] for row in ("total", first, second, "own")}
        assert quotas == {"total": 10, first: 4, second: 3, "own": 3}


def _own(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as its section's own route takes it (the section is in the path)."""
    return {k: v for k, v in entry.items() if k != "section"}


def _expect(*changes: tuple[str, dict[str, int]]) -> dict[tuple[str, str], int]:
    """The cells changes of rows move: each row's, and the total's by the same."""
    total: Counter[tuple[str, str]] = Counter()
    for row, change in changes:
        for column, n in change.items():
            total[row, column] += n
            total["total", column] += n
    return {key: n for key, n in total.items() if n}


async def test_a_transfer_a_retirement_a_rank_change_and_a_past_correction_move_exactly_their_cells(
    system: System,
) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        top = await _unit(api, system.unit_ids["HQHN"], "Phòng biến động")
        here = await _unit(api, top, "Đội đi")
        there = await _unit(api, top, "Đội đến")
        mover = await _person(api, here, "Lê Văn Chuyển", born="1985-06-15", sex="male", entries=[])
        salary = await api.post(f"/v1/persons/{mover}/salary", json=_own(_salary("01.003", "2010-01-01")))
        assert salary.status_code == 201, salary.text
        retiree = await _person(api, here, "Trịnh Thị Hưu", born="1960-05-05", sex="female", entries=[])
        riser = await _person(
            api, here, "Bùi Văn Lên", born="1988-02-02", sex="male", entries=[_salary("01.004", "2012-01-01", "2.10")]
        )
        days = ["2026-02-01", "2026-04-01", "2026-07-15", "2026-10-01"]

        async def figures() -> dict[str, dict[tuple[str, str], int | None]]:
            return {day: _cells(await _bm01(api, top, day)) for day in days}

        before = await eventually(
            figures,
            lambda found: all(
                (f["total", "headcount"], f["total", "rank_cs"], f["total", "rank_cv"]) == (3, 1, 1)
                for f in found.values()
            ),
            timeout=60,
            what="the three people in the statistics",
        )

        sent = await api.post(
            "/v1/transfers",
            json={"person_id": mover, "to_unit_id": there, "effective_date": "2026-03-01", "decision": "3/QĐ-TCHQ"},
        )
        assert sent.status_code == 201, sent.text
        assert (await api.post(f"/v1/transfers/{sent.json()['id']}/accept")).status_code == 200
        retired = {"status": "retired", "effective_date": "2026-06-30", "decision": "6/QĐ-TCHQ"}
        assert (await api.post(f"/v1/persons/{retiree}/status", json=retired)).status_code == 200
        raised = await api.post(f"/v1/persons/{riser}/salary", json=_own(_salary("01.003", "2026-09-01")))
        assert raised.status_code == 201, raised.text
        # The rank recorded from 2010 was wrong: chuyên viên chính, not chuyên viên.
        corrected = await api.put(
            f"/v1/persons/{mover}/salary/{salary.json()['entry_id']}",
            json=_own(_salary("01.002", "2010-01-01", "4.40")),
            headers={"If-Match": '"1"'},
        )
        assert corrected.status_code == 200, corrected.text

        correction = {"rank_cv": -1, "rank_cvc": 1}
        # The mover leaves as chuyên viên (as the form had him) and arrives as chuyên viên chính, in
        # his age band of the day (40 until 15 June 2026, then 41).
        out_40, in_40 = (
            {"headcount": -1, "rank_cv": -1, "age_31_40": -1},
            {"headcount": 1, "rank_cvc": 1, "age_31_40": 1},
        )
        out_41, in_41 = (
            {"headcount": -1, "rank_cv": -1, "age_41_50": -1},
            {"headcount": 1, "rank_cvc": 1, "age_41_50": 1},
        )
        retirement = {"headcount": -1, "women": -1, "over_retirement": -1}
        promotion = {"rank_cs": -1, "rank_cv": 1}
        expected = {
            "2026-02-01": _expect((here, correction)),
            "2026-04-01": _expect((here, out_40), (there, in_40)),
            "2026-07-15": _expect((here, out_41), (there, in_41), (here, retirement)),
            "2026-10-01": _expect((here, out_41), (there, in_41), (here, retirement), (here, promotion)),
        }

        async def moved() -> dict[str, dict[tuple[str, str], int]]:
            now = await figures()
            return {
                day: {key: (n or 0) - (before[day][key] or 0) for key, n in now[day].items() if n != before[day][key]}
                for day in days
            }

        await eventually(moved, lambda found: found == expected, timeout=60, what="the four changes in BM01")


async def test_the_forms_listed_are_those_reports_fills_each_as_it_answers(system: System) -> None:
    """The list a page offers: every layout reports holds, in code order, each named and kinded as the
    form itself answers; a login of the narrowest tier gets the list too (it is a catalog)."""
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        listed = await api.get("/v1/statistics")
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        assert [f["form"] for f in items] == ["BIENDONG", "BM01", "BM02", "BM03", "BM04"]
        for summary in items:
            form = await api.get(f"/v1/statistics/{summary['form']}", params={"unit": system.root_unit_id})
            assert form.status_code == 200, form.text
            answered = form.json()
            assert (summary["title"], summary["kind"], summary["designation"]) == (
                answered["title"],
                answered["kind"],
                answered["designation"],
            )
    async with api_client(system.gateway_url, system.token("canbo.noibai")) as own:
        assert (await own.get("/v1/statistics")).json() == listed.json()


async def test_bad_input_is_refused_naming_what_is_wrong(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        unit = await _unit(api, system.unit_ids["HQHN"], "Phòng kiểm tra đầu vào")

        async def asked() -> int:
            return (await api.get("/v1/statistics/BM01", params={"unit": unit})).status_code

        await eventually(asked, lambda status: status == 200, timeout=60, what="reports to know the new unit")
        unknown = await api.get("/v1/statistics/BM99", params={"unit": unit})
        assert unknown.status_code == 404, unknown.text
        assert "BM99" in unknown.json()["detail"]["message"], "it names the form asked"
        assert "BM01" in unknown.json()["detail"]["message"], "and those there are"
        tomorrow = (vietnam_today() + timedelta(days=1)).isoformat()
        for as_of, reason in ((tomorrow, "sau hôm nay"), ("1945-09-09", "trước khi ngành"), ("2026-13-01", "YYYY")):
            refused = await api.get("/v1/statistics/BM01", params={"unit": unit, "as_of": as_of})
            assert refused.status_code == 422, refused.text
            [fault] = refused.json()["detail"]
            assert fault["loc"] == ["query", "as_of"], fault
            assert reason in fault["msg"], fault
        # The founding day itself, for a unit taken in without a decision (the new one began in 2000).
        founding = {"unit": system.unit_ids["HQHN"], "as_of": "1945-09-10"}
        assert (await api.get("/v1/statistics/BM01", params=founding)).status_code == 200
        assert (await api.get("/v1/statistics/BM01", params={"unit": str(uuid.uuid4())})).status_code == 404
        assert (await api.get("/v1/statistics/BM01")).status_code == 422, "the unit is required"
        column = await api.get("/v1/statistics/BM01/people", params={"unit": unit, "row": "total", "column": "quota"})
        assert column.status_code == 422, column.text
        assert column.json()["detail"][0]["loc"] == ["query", "column"], column.text
        row = await api.get("/v1/statistics/BM01/people", params={"unit": unit, "row": "nowhere", "column": "women"})
        assert row.status_code == 422, row.text
        assert row.json()["detail"][0]["loc"] == ["query", "row"], row.text
    # A local admin reads its own subtree's figures, not another Cục's (403, as the headcount answers).
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        assert (await hanoi.get("/v1/statistics/BM01", params={"unit": unit})).status_code == 200
        outside = {"unit": system.unit_ids["HQHCM"]}
        assert (await hanoi.get("/v1/statistics/BM01", params=outside)).status_code == 403
        cell = outside | {"row": "total", "column": "headcount"}
        assert (await hanoi.get("/v1/statistics/BM01/people", params=cell)).status_code == 403
        assert (await hanoi.post("/v1/statistics/rebuild")).status_code == 403, "the system admin's alone"


def _pdf_text(content: bytes) -> str:
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(unicodedata.normalize("NFC", page.extract_text()) for page in pages).split())


async def _people(api: httpx.AsyncClient, unit: str, row: str, column: str, as_of: str = "") -> tuple[list[str], int]:
    params = {"unit": unit, "row": row, "column": column, "as_of": as_of}
    response = await api.get("/v1/statistics/BM01/people", params=params)
    assert response.status_code == 200, response.text
    return [p["full_name"] for p in response.json()["items"]], response.json()["total"]


async def test_each_cell_lists_the_people_it_counts_inside_the_callers_scope(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        top = await _unit(api, system.unit_ids["HQHN"], "Phòng danh sách")
        below = await _unit(api, top, "Đội danh sách")
        await _person(api, top, "Nguyễn Thị Xuân", born="1990-01-01", sex="female", entries=[_party("2015-01-01")])
        await _person(api, below, "Trần Thị An", born="1985-01-01", sex="female", entries=[])
        await _person(api, below, "Lê Văn Bình", born="1975-01-01", sex="male", entries=[_party("2000-01-01")])

        async def counted() -> tuple[int | None, ...]:
            cells = _cells(await _bm01(api, top))
            return tuple(cells["total", column] for column in ("headcount", "women", "party"))

        # The Party entries are recorded after their people: wait for them too, not only the headcount.
        await eventually(counted, lambda n: n == (3, 2, 2), timeout=60, what="the three people and their entries")
        assert await _people(api, top, "total", "women") == (["Trần Thị An", "Nguyễn Thị Xuân"], 2)
        assert await _people(api, top, "total", "party") == (["Lê Văn Bình", "Nguyễn Thị Xuân"], 2)
        assert await _people(api, top, below, "party") == (["Lê Văn Bình"], 1)
        assert await _people(api, top, "own", "headcount") == (["Nguyễn Thị Xuân"], 1)
        assert await _people(api, top, "total", "party", "2010-01-01") == (["Lê Văn Bình"], 1), "as of the day"
        # The form as files: the printed layout, and the same figures for programs.
        workbook = await api.get("/v1/statistics/BM01/export", params={"unit": top})
        assert workbook.status_code == 200, workbook.text
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        assert sheet is not None
        assert sheet["A3"].value == f"Đơn vị: Phòng danh sách — Số liệu tại ngày {vietnam_today():%d/%m/%Y}"
        assert [sheet.cell(8, c).value for c in (2, 4, 5)] == ["Tổng số", 3, 2], "headcount and women"
        printed = await api.get("/v1/statistics/BM01/export", params={"unit": top, "format": "pdf"})
        assert printed.status_code == 200, printed.text
        assert printed.headers["content-type"] == "application/pdf"
        text = _pdf_text(printed.content)
        assert f"Đơn vị: Phòng danh sách — Số liệu tại ngày {vietnam_today():%d/%m/%Y}" in text
        assert "Trong đó Ngạch công chức Trình độ chuyên môn" in text, "the headers merged as printed"
        assert "Tổng số 3 2 2" in text, "quota (none), headcount, women, party"
        assert "THỦ TRƯỞNG ĐƠN VỊ" in text
        table = await api.get("/v1/statistics/BM01/export", params={"unit": top, "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8").removeprefix("\ufeff"))))
        assert [(r["row"], r["headcount"], r["party"]) for r in rows] == [
            ("total", "3", "2"),
            (below, "2", "1"),
            ("own", "1", "1"),
        ]
        # Every people cell of the form lists as many as it counts.
        form = await _bm01(api, top)
        for (row, column), value in _cells(form).items():
            if column != "quota":
                assert (await _people(api, top, row, column))[1] == value, (row, column)
    # The local officer of Hà Nội reads its subtree's particulars; a leader of another Cục reads none.
    async with api_client(system.gateway_url, system.token("nhansu1.hanoi")) as officer:
        assert await _people(officer, top, "total", "women") == (["Trần Thị An", "Nguyễn Thị Xuân"], 2)
    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as elsewhere:
        cell = {"unit": top, "row": "total", "column": "women"}
        assert (await elsewhere.get("/v1/statistics/BM01/people", params=cell)).status_code == 403


async def test_bm03_lists_each_person_with_rank_salary_post_and_allowances(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        top = await _unit(api, system.unit_ids["HQHN"], "Phòng lương")
        chief_post = {
            "section": "appointments",
            "values": {"kind": "BO_NHIEM", "post": "Đội trưởng", "post_code": "DOI_TRUONG", "unit_name": "Đội"}
            | {"term_months": 60},
            "valid_from": "2020-01-01",
            "decision": DECISION,
        }

        def allowance(kind: str, coefficient: str) -> dict[str, Any]:
            values = {"kind": kind, "coefficient": coefficient}
            return {"section": "allowances", "values": values, "valid_from": "2020-01-01", "decision": DECISION}

        raised = _salary("08.051", "2017-01-01", "2.67")
        raised["values"]["step"] = 2
        await _person(
            api, top, "Hoàng Văn Lương", born="1980-05-06", sex="male",
            entries=[
                _salary("08.051", "2014-01-01", "2.34"), raised, chief_post,
                allowance("CHUC_VU", "0.30"), allowance("KHU_VUC", "0.20"),
            ],
        )  # fmt: skip
        over = _salary("01.003", "2010-01-01", "4.98")
        over["values"] |= {"step": 9, "over_frame_percent": 5}
        await _person(api, top, "Cao Thị Ngạch", born="1968-09-10", sex="female", entries=[over])

        async def listed() -> dict[str, Any]:
            response = await api.get("/v1/statistics/BM03", params={"unit": top})
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        form = await eventually(
            listed,
            lambda f: [r["cells"][7] for r in f["rows"]] == ["08.051", "01.003"],
            timeout=60,
            what="both people in BM03 with their ranks",
        )
        assert form["kind"] == "list"
        keys = [c["key"] for c in form["columns"]]
        rows = [dict(zip(keys, r["cells"], strict=True)) for r in form["rows"]]
        assert rows == [
            {
                "full_name": "Hoàng Văn Lương",
                "born_male": "1980-05-06",
                "born_female": None,
                "post": "Đội trưởng",
                "unit": "Phòng lương",
                "rank_since": "2014-01-01",
                "coefficient": "2.67",
                "rank_code": "08.051",
                "allowance_post": "0.30",
                "allowance_responsibility": None,
                "allowance_regional": "0.20",
                "over_frame": None,
            },
            {
                "full_name": "Cao Thị Ngạch",
                "born_male": None,
                "born_female": "1968-09-10",
                "post": None,
                "unit": "Phòng lương",
                "rank_since": "2010-01-01",
                "coefficient": "4.98",
                "rank_code": "01.003",
                "allowance_post": None,
                "allowance_responsibility": None,
                "allowance_regional": None,
                "over_frame": "5",
            },
        ]
        # As of 2015 the first was at step 1, with neither post nor allowances yet.
        earlier = (await api.get("/v1/statistics/BM03", params={"unit": top, "as_of": "2015-06-30"})).json()
        first = dict(zip(keys, earlier["rows"][0]["cells"], strict=True))
        assert (first["coefficient"], first["post"], first["allowance_post"]) == ("2.34", None, None)

        # The list as files: a row per person in the workbook and for programs, and printed.
        table = await api.get("/v1/statistics/BM03/export", params={"unit": top, "format": "csv"})
        assert table.status_code == 200, table.text
        for_programs = list(csv.DictReader(io.StringIO(table.content.decode("utf-8").removeprefix("\ufeff"))))
        assert [(r["full_name"], r["rank_code"], r["coefficient"]) for r in for_programs] == [
            ("Hoàng Văn Lương", "08.051", "2.67"),
            ("Cao Thị Ngạch", "01.003", "4.98"),
        ]
        workbook = await api.get("/v1/statistics/BM03/export", params={"unit": top, "as_of": "2015-06-30"})
        assert workbook.status_code == 200, workbook.text
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        assert sheet is not None
        assert sheet["A3"].value == "Đơn vị: Phòng lương — Số liệu tại ngày 30/06/2015"
        values = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
        assert any("Hoàng Văn Lương" in row and "2.34" in map(str, row) for row in values), values
        assert any("Cao Thị Ngạch" in row for row in values), values
        printed = await api.get("/v1/statistics/BM03/export", params={"unit": top, "format": "pdf"})
        assert printed.status_code == 200, printed.text
        text = _pdf_text(printed.content)
        assert "Hoàng Văn Lương" in text
        assert "Cao Thị Ngạch" in text


async def _form(api: httpx.AsyncClient, form: str, unit_id: str, as_of: str = "") -> dict[str, Any]:
    response = await api.get(f"/v1/statistics/{form}", params={"unit": unit_id, "as_of": as_of})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _educated(level: str, since: str) -> dict[str, Any]:
    entry = _details("01", "KHONG", since)
    entry["values"]["general_education"] = level
    return entry


async def test_bm02_and_bm04_count_the_communes_people_alone_and_bm01_and_bm03_everyone_else(
    system: System,
) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        top = await _unit(api, system.unit_ids["HQHN"], "Phòng có xã")
        office = await _unit(api, top, "Đội không phải xã")
        communes = []
        for order, name in (("A", "Xã Minh Phú"), ("B", "Phường Ba Đình")):
            body = {"code": unique_code(f"XA{order}"), "name": name, "kind": "commune", "parent_id": top}
            created = await api.post("/v1/units", json=body | {"effective_date": "2025-07-01", "decision": "1/NQ"})
            assert created.status_code == 201, created.text
            assert created.json()["kind"] == "commune"
            communes.append(created.json()["id"])
        minh_phu, ba_dinh = communes
        raised = _salary("01.003", "2026-01-01", "2.67")
        raised["values"]["step"] = 2
        await _person(
            api, minh_phu, "Đinh Thị Xã", born="1990-03-04", sex="female",
            entries=[_educated("12-12", "2025-07-01"), _party("2015-01-01"), _salary("01.003", "2020-01-01"), raised],
        )  # fmt: skip
        await _person(
            api, ba_dinh, "Lương Văn Phường", born="1970-01-01", sex="male", entries=[_educated("9-12", "2025-07-01")]
        )
        await _person(
            api, ba_dinh, "Vi Văn Học", born="1980-01-01", sex="male", entries=[_educated("5-12", "2026-03-01")]
        )
        await _person(
            api, office, "Ngô Văn Đội", born="1985-01-01", sex="male", entries=[_educated("12-12", "2010-01-01")]
        )

        def counted(form: dict[str, Any]) -> dict[tuple[str, str], int | None]:
            return {k: v for k, v in _cells(form).items() if v}

        expected = {("total", "headcount"): 3, ("total", "women"): 1, ("total", "party"): 1}
        expected |= {("total", "edu_thpt"): 1, ("total", "edu_thcs"): 1, ("total", "edu_th"): 1}
        expected |= {(minh_phu, "headcount"): 1, (minh_phu, "women"): 1, (minh_phu, "party"): 1}
        expected |= {(minh_phu, "edu_thpt"): 1, (ba_dinh, "headcount"): 2, (ba_dinh, "edu_thcs"): 1}
        expected |= {(ba_dinh, "edu_th"): 1}

        async def forms() -> tuple[dict[str, Any], dict[str, Any]]:
            return await _form(api, "BM02", top), await _form(api, "BM01", top)

        # The office's person comes after the communes' people: both forms are waited for.
        bm02, bm01 = await eventually(
            forms,
            lambda f: (
                {k: v for k, v in counted(f[0]).items() if k[1] in {c for _, c in expected}} == expected
                and _cells(f[1]).get(("total", "headcount")) == 1
            ),
            timeout=60,
            what="the communes' three people in BM02 and the office's one in BM01",
        )
        # Rows: the total and each commune; neither the office (no commune below it) nor the unit itself.
        assert [r["key"] for r in bm02["rows"]] == ["total", minh_phu, ba_dinh]
        assert [r["key"] for r in bm01["rows"]] == ["total", office, "own"], "no commune in BM01"
        assert _cells(bm01)["total", "headcount"] == 1, "only the office's person"
        assert await _people(api, top, "total", "headcount") == (["Ngô Văn Đội"], 1)
        educated = {"unit": top, "row": "total", "column": "edu_thpt"}
        found = (await api.get("/v1/statistics/BM02/people", params=educated)).json()
        assert [p["full_name"] for p in found["items"]] == ["Đinh Thị Xã"]
        bm04 = await _form(api, "BM04", top)
        keys = [c["key"] for c in bm04["columns"]]
        listed = [dict(zip(keys, r["cells"], strict=True)) for r in bm04["rows"]]
        assert [(p["full_name"], p["step"], p["coefficient"]) for p in listed] == [
            ("Đinh Thị Xã", "2", "2.67"),
            ("Vi Văn Học", None, None),
            ("Lương Văn Phường", None, None),
        ], "by unit, then in staff-list order (by the given name)"
        assert "rank_code" not in keys
        # As of a past day: the step then, and the schooling not yet recorded as of its date.
        then = await _form(api, "BM04", top, "2025-12-31")
        listed = [dict(zip(keys, r["cells"], strict=True)) for r in then["rows"]]
        assert [(p["full_name"], p["step"], p["coefficient"]) for p in listed] == [
            ("Đinh Thị Xã", "1", "2.34"),
            ("Vi Văn Học", None, None),
            ("Lương Văn Phường", None, None),
        ]
        bm02_then = counted(await _form(api, "BM02", top, "2025-12-31"))
        assert {k: v for k, v in bm02_then.items() if k[0] == "total" and k[1] in {c for _, c in expected}} == {
            ("total", "headcount"): 3,
            ("total", "women"): 1,
            ("total", "party"): 1,
            ("total", "edu_thpt"): 1,
            ("total", "edu_thcs"): 1,
        }, "Vi Văn Học's schooling is dated 1 March 2026"
        bm03 = await _form(api, "BM03", top)
        assert [r["label"] for r in bm03["rows"]] == ["Ngô Văn Đội"]
        # A subtree without communes: BM02 is the total's row of zeros, BM04 lists nobody.
        empty = await _form(api, "BM02", office)
        assert [r["key"] for r in empty["rows"]] == ["total"]
        assert not any(empty["rows"][0]["cells"])
        assert (await _form(api, "BM04", office))["rows"] == []
        # BM02 printed: the general education headers, the unit, the counts.
        printed = await api.get("/v1/statistics/BM02/export", params={"unit": top, "format": "pdf"})
        assert printed.status_code == 200, printed.text
        text = _pdf_text(printed.content)
        assert "CÁN BỘ, CÔNG CHỨC CẤP XÃ" in text
        assert "Trình độ giáo dục phổ thông" in text
        assert f"Đơn vị: Phòng có xã — Số liệu tại ngày {vietnam_today():%d/%m/%Y}" in text
        assert "Xã Minh Phú 1 1 1" in text, "headcount, women, party"
        refused = await api.get("/v1/statistics/BM02/export", params={"unit": top, "format": "doc"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["query", "format"], refused.text


async def test_the_yearly_movements_count_what_happened_in_each_unit_this_year(system: System) -> None:
    year = 2026
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        top = await _unit(api, system.unit_ids["HQHN"], "Phòng biến động năm")
        here = await _unit(api, top, "Đội tuyển")
        there = await _unit(api, top, "Đội nhận")

        def dated(section: str, values: dict[str, Any], day: str) -> dict[str, Any]:
            return {"section": section, "values": values, "valid_from": day, "decision": DECISION | {"date": day}}

        await _person(
            api, here, "Kim Văn Mới", born="1998-01-01", sex="male",
            entries=[dated("recruitment", {"body": "Tổng cục Hải quan"}, f"{year}-02-01")],
        )  # fmt: skip
        leader = await _person(
            api, here, "Tạ Văn Trưởng", born="1975-01-01", sex="male",
            entries=[
                dated("appointments", {"kind": "BO_NHIEM", "post": "Đội trưởng", "post_code": "DOI_TRUONG"}
                      | {"unit_name": "Đội tuyển", "term_months": 60}, f"{year}-03-01"),
            ],
        )  # fmt: skip
        await _person(
            api, here, "Lò Thị Khen", born="1985-01-01", sex="female",
            entries=[
                dated("rewards", {"form": "LDTT"}, f"{year}-04-01"),
                dated("disciplines", {"form": "KHIEN_TRACH", "reason": "Đi muộn nhiều lần"}, f"{year}-07-01"),
            ],
        )  # fmt: skip
        retiree = await _person(api, there, "Mẫn Văn Hưu", born="1964-01-01", sex="male", entries=[])
        await _person(
            api, there, "Phùng Văn Cũ", born="1990-01-01", sex="male",
            entries=[dated("recruitment", {"body": "Tổng cục Hải quan"}, f"{year - 1}-09-01")],
        )  # fmt: skip
        sent = await api.post(
            "/v1/transfers",
            json={"person_id": leader, "to_unit_id": there, "effective_date": f"{year}-05-01", "decision": "5/QĐ"},
        )
        assert sent.status_code == 201, sent.text
        assert (await api.post(f"/v1/transfers/{sent.json()['id']}/accept")).status_code == 200
        retired = {"status": "retired", "effective_date": f"{year}-06-30", "decision": "6/QĐ-TCHQ"}
        assert (await api.post(f"/v1/persons/{retiree}/status", json=retired)).status_code == 200
        leavers = (
            ("Ông Văn Thôi", "resigned", "08-01"),
            ("Hồ Văn Mất", "deceased", "09-15"),
            ("Đàm Văn Chuyển", "moved_out", "10-01"),
        )
        for name, status, day in leavers:
            leaving = await _person(api, there, name, born="1980-01-01", sex="male", entries=[])
            change = {"status": status, "effective_date": f"{year}-{day}", "decision": "7/QĐ-TCHQ"}
            assert (await api.post(f"/v1/persons/{leaving}/status", json=change)).status_code == 200

        async def movements() -> dict[tuple[str, str], int | None]:
            response = await api.get("/v1/statistics/BIENDONG", params={"unit": top, "as_of": f"{year}-12-01"})
            assert response.status_code == 200, response.text
            return {k: v for k, v in _cells(response.json()).items() if v}

        expected = {
            (here, "recruited"): 1,
            (here, "appointed"): 1,
            (here, "transferred_out"): 1,
            (there, "transferred_in"): 1,
            (there, "retired"): 1,
            (there, "resigned"): 1,
            (there, "died"): 1,
            (there, "moved_out"): 1,
            (here, "disciplined"): 1,
            (here, "rewarded"): 1,
        }
        expected |= {("total", column): n for (_, column), n in expected.items()}
        await eventually(movements, lambda found: found == expected, timeout=60, what="the year's movements")
        # Each cell lists whom it counts, with the unit they were in then (in service today or not).
        counted = {
            "recruited": ("Kim Văn Mới", here),
            "appointed": ("Tạ Văn Trưởng", here),
            "transferred_out": ("Tạ Văn Trưởng", here),
            "transferred_in": ("Tạ Văn Trưởng", there),
            "retired": ("Mẫn Văn Hưu", there),
            "resigned": ("Ông Văn Thôi", there),
            "died": ("Hồ Văn Mất", there),
            "moved_out": ("Đàm Văn Chuyển", there),
            "disciplined": ("Lò Thị Khen", here),
            "rewarded": ("Lò Thị Khen", here),
        }
        for row, column in expected:
            params = {"unit": top, "row": row, "column": column, "as_of": f"{year}-12-01"}
            listed = await api.get("/v1/statistics/BIENDONG/people", params=params)
            assert listed.status_code == 200, listed.text
            body = listed.json()
            found = [(p["full_name"], p["unit_id"]) for p in body["items"]]
            assert (found, body["total"]) == ([counted[column]], 1), (row, column)
        exported = await api.get(
            "/v1/statistics/BIENDONG/export", params={"unit": top, "as_of": f"{year}-12-01", "format": "csv"}
        )
        assert exported.status_code == 200, exported.text
        table = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8").removeprefix("\ufeff"))))
        by_row = {r["row"]: r for r in table}
        assert {k: v for k, v in by_row["total"].items() if k in dict(counted)} == {c: "1" for c in counted}
        assert (by_row[here]["transferred_out"], by_row[there]["transferred_in"]) == ("1", "1")
        # Before the transfer, the year had not yet moved anyone.
        spring = (await api.get("/v1/statistics/BIENDONG", params={"unit": top, "as_of": f"{year}-04-15"})).json()
        assert {k: v for k, v in _cells(spring).items() if v and k[0] == "total"} == {
            ("total", "recruited"): 1,
            ("total", "appointed"): 1,
            ("total", "rewarded"): 1,
        }


async def _state(system: System, generation: int) -> str | None:
    connection = await asyncpg.connect(system.postgres_dsn("reports"))
    try:
        state: str | None = await connection.fetchval("SELECT state FROM stat_generations WHERE id = $1", generation)
        return state
    finally:
        await connection.close()


async def _applied(system: System, consumer: str) -> int:
    connection = await asyncpg.connect(system.postgres_dsn("reports"))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM processed_events WHERE consumer = $1", consumer))
    finally:
        await connection.close()


async def test_a_rebuild_replays_the_stream_beside_the_serving_model_and_survives_a_restart(system: System) -> None:
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        top = await _unit(api, system.unit_ids["HQHN"], "Phòng dựng lại")
        for n, born in enumerate(("1970-02-02", "1982-03-03", "1994-04-04")):
            await _person(
                api, top, f"Đinh Văn Dựng {n}", born=born, sex="male", entries=[_salary("01.003", "2015-01-01")]
            )

        async def counted() -> int | None:
            return _cells(await _bm01(api, top))["total", "rank_cv"]

        await eventually(counted, lambda n: n == 3, timeout=60, what="the three people in the statistics")
        sector = system.unit_ids["HQHN"]
        serving = (await _bm01(api, sector))["generation"]
        # The serving model has applied the whole stream (the suite's earlier events too) before the
        # rebuilt one is compared with it.
        await caught_up(system, f"reports-statistics-{serving}", timeout=120)
        before = {day: _cells(await _bm01(api, sector, day)) for day in (TODAY, "2020-01-01")}

        started = await api.post("/v1/statistics/rebuild")
        assert started.status_code == 202, started.text
        fresh = started.json()
        assert (fresh["state"], fresh["requested_by"]) == ("building", ADMIN)
        assert (await _bm01(api, sector))["generation"] == serving, "the old model serves while the new one builds"

        # Killed once the replay has begun, and before it ends: the restart resumes it.
        consumer = f"reports-statistics-{fresh['id']}"
        await eventually(lambda: _applied(system, consumer), lambda n: n > 0, timeout=60, what="the replay to begin")
        system.services.kill("reports")
        assert await _state(system, fresh["id"]) == "building", "the kill came during the replay"
        system.services.start("reports")
        await system.services.wait_ready("reports")

        async def generations() -> dict[int, str]:
            listed = await api.get("/v1/statistics/generations")
            return {g["id"]: g["state"] for g in listed.json()["items"]} if listed.status_code == 200 else {}

        await eventually(
            generations,
            lambda found: found.get(fresh["id"]) == "serving" and found.get(serving) == "removed",
            timeout=120,
            what="the rebuilt model to serve and the old one to be removed",
        )
        assert (await _bm01(api, sector))["generation"] == fresh["id"]
        after = {day: _cells(await _bm01(api, sector, day)) for day in (TODAY, "2020-01-01")}
        moved = {
            (day, *cell): (counted, after[day].get(cell))
            for day, cells in before.items()
            for cell, counted in cells.items()
            if after[day].get(cell) != counted
        }
        assert not moved, f"the replay, killed half-way, counts every event once: (before, after) {moved}"
        assert after == before
        assert await _applied(system, f"reports-statistics-{serving}") == 0, "the old model's inbox is gone"


async def test_the_rebuild_command_asks_for_a_model_refuses_a_second_and_waits_for_one_to_serve(
    system: System, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m qlcb_reports.statistics`, as an operator runs it in the reports pod: with reports
    stopped, the rebuild asked stays building and a second is refused naming it; once reports runs
    again it serves. Then a rebuild waited for ends serving."""
    assert system.infra.postgres is not None
    monkeypatch.setenv("QLCB_REPORTS_DATABASE_URL", system.infra.postgres.dsn("reports"))
    system.services.stop("reports")
    try:
        assert await asyncio.to_thread(statistics_command.main, ["rebuild"]) == 0
        asked = re.search(r"thế hệ (\d+); dịch vụ báo cáo đang dựng", capsys.readouterr().out)
        assert asked is not None
        number = int(asked.group(1))
        assert await asyncio.to_thread(statistics_command.main, ["rebuild"]) == 1
        assert f"Không dựng lại: Đang dựng lại số liệu thống kê (thế hệ {number}), chưa xong" in capsys.readouterr().err
        assert await asyncio.to_thread(statistics_command.main, ["generations"]) == 0
        listed = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
        assert [(n, state, by) for n, state, _, by in listed if n == str(number)] == [
            (str(number), "building", f"lệnh:{getpass.getuser()}")
        ]
    finally:
        system.services.start("reports")
        await system.services.wait_ready("reports")
    await eventually(lambda: _state(system, number), lambda state: state == "serving", timeout=180, what="the rebuild")

    assert await asyncio.to_thread(statistics_command.main, ["rebuild", "--wait", "180"]) == 0
    assert f"thế hệ {number + 1}; đã dựng xong và đang phục vụ." in capsys.readouterr().out
    assert await _state(system, number) in ("retired", "removed")
