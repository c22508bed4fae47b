"""The sections of a record as dated history (issue 8, R-PER-1, R-PER-2): a change from a date
closes the open entry before it; a correction keeps the wrong version visible as superseded and
needs the version it corrects; the record reads as of any date and as known at any moment;
every bad input is refused naming the field, with nothing written."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import httpx
import pytest

from tests.support import System, api_client, person_body, unique_code

DECISION = {"number": "15/QĐ-HQHN", "date": "2011-12-20", "body": "Cục Hải quan TP Hà Nội"}


def _salary(step: int, coefficient: str, since: str, rank: str = "08.051", **extra: Any) -> dict[str, Any]:
    return {
        "values": {"rank_code": rank, "step": step, "coefficient": coefficient},
        "valid_from": since,
        "decision": DECISION,
    } | extra


async def _person(api: httpx.AsyncClient, system: System, name: str) -> str:
    created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], name, born="1988-05-19"))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    return person_id


async def test_salary_history_closes_corrects_and_reads_as_of_any_date(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Đoàn Văn Lương")
        salary = f"/v1/persons/{person}/salary"
        first = await api.post(salary, json=_salary(1, "2.34", "2012-01-01"))
        assert first.status_code == 201, first.text
        assert first.headers["ETag"] == '"1"'
        second = await api.post(salary, json=_salary(2, "2.67", "2015-01-01"))
        assert second.status_code == 201, second.text

        # The step of 2012 was closed the day before the step of 2015 began, as a new version.
        history = (await api.get(salary)).json()
        assert [(e["valid_from"], e["valid_to"], e["change"]) for e in history] == [
            ("2012-01-01", "2014-12-31", "closed"),
            ("2015-01-01", None, "recorded"),
        ]
        in_2013 = (await api.get(f"/v1/persons/{person}/record", params={"as_of": "2013-06-01"})).json()
        assert [e["values"]["step"] for e in in_2013["sections"]["salary"]] == [1]
        assert in_2013["next_regular_raise"] == "2015-01-01", "36 months per step in group A1"

        # A correction: the 2015 decision took effect on 1 February. The version corrected must be named.
        entry = second.json()["entry_id"]
        before_correction = datetime.now(UTC).isoformat()
        corrected_body = _salary(2, "2.67", "2015-02-01")
        no_version = await api.put(f"{salary}/{entry}", json=corrected_body)
        assert no_version.status_code == 428
        corrected = await api.put(f"{salary}/{entry}", json=corrected_body, headers={"If-Match": '"1"'})
        assert corrected.status_code == 200, corrected.text
        assert (corrected.json()["version"], corrected.json()["change"]) == (2, "corrected")
        versions = (await api.get(f"{salary}/{entry}/versions")).json()
        assert [(v["valid_from"], v["superseded_at"] is not None) for v in versions] == [
            ("2015-01-01", True),
            ("2015-02-01", False),
        ]
        as_known = (await api.get(salary, params={"known_at": before_correction})).json()
        assert as_known[-1]["valid_from"] == "2015-01-01", "as the system knew it before the correction"

        # Two edits of the same version: one wins, the other is told the entry changed.
        racing = await asyncio.gather(
            api.put(f"{salary}/{entry}", json=_salary(2, "2.67", "2015-03-01"), headers={"If-Match": '"2"'}),
            api.put(f"{salary}/{entry}", json=_salary(2, "2.67", "2015-04-01"), headers={"If-Match": '"2"'}),
        )
        assert sorted(r.status_code for r in racing) == [200, 412], [r.text for r in racing]
        assert len((await api.get(f"{salary}/{entry}/versions")).json()) == 3

        # A retraction withdraws an entry recorded by mistake; it stays among the versions.
        mistake = await api.post(f"/v1/persons/{person}/evaluations", json=_evaluation(2021, "HTTNV"))
        assert mistake.status_code == 201, mistake.text
        mistaken = mistake.json()["entry_id"]
        gone = await api.delete(f"/v1/persons/{person}/evaluations/{mistaken}", headers={"If-Match": '"1"'})
        assert gone.status_code == 200, gone.text
        assert (await api.get(f"/v1/persons/{person}/evaluations")).json() == []
        again = await api.post(f"/v1/persons/{person}/evaluations", json=_evaluation(2021, "HTXSNV"))
        assert again.status_code == 201, "the year is free again"


def _evaluation(year: int, level: str) -> dict[str, Any]:
    return {"values": {"year": year, "level": level}, "valid_from": f"{year}-12-31", "decision": DECISION}


def _training(kind: str, level: str) -> dict[str, Any]:
    return {
        "values": {"kind": kind, "level": level, "field": "Hải quan", "institution": "Học viện Tài chính"},
        "valid_from": "2006-09-01",
        "valid_to": "2010-06-30",
    }


@pytest.mark.parametrize(
    ("section", "body", "status", "field"),
    [
        ("salary", _salary(1, "2.34", "2016-01-01", rank="99.999"), 422, "values.rank_code"),
        ("salary", _salary(10, "5.31", "2016-01-01"), 422, "values.step"),
        ("salary", _salary(3, "3.10", "2016-01-01"), 422, "values.coefficient"),
        ("salary", _salary(1, "2.34", "1980-01-01"), 422, "valid_from"),
        ("salary", _salary(1, "2.34", "2016-01-01", valid_to="2015-01-01"), 422, "valid_to"),
        ("salary", _salary(1, "2.34", "2016-01-01", decision={}), 422, "decision.number"),
        ("salary", _salary(4, "3.33", "2014-06-01", valid_to="2014-12-31"), 409, "valid_from"),
        ("trainings", _training("LLCT", "DH"), 422, "values.level"),
        ("evaluations", _evaluation(2020, "XUAT_SAC"), 422, "values.level"),
        ("evaluations", _evaluation(2022, "HTNV"), 409, "values.year"),
        ("evaluations", {**_evaluation(2024, "HTTNV"), "valid_from": "2023-12-31"}, 422, "values.year"),
        (
            "placements",
            {"values": {"unit_name": "Đ" * 256, "post": "Cán bộ"}, "valid_from": "2016-01-01"},
            422,
            "values.unit_name",
        ),
        (
            "family",
            {"values": {"side": "BAN_THAN", "relation": "Bố", "full_name": "An", "birth_year": 1960, "x": 1}},
            422,
            "values.x",
        ),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    system: System, section: str, body: dict[str, Any], status: int, field: str
) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Lê Thị Sai")
        assert (
            await api.post(f"/v1/persons/{person}/salary", json=_salary(1, "2.34", "2012-01-01"))
        ).status_code == 201
        assert (
            await api.post(f"/v1/persons/{person}/salary", json=_salary(2, "2.67", "2015-01-01"))
        ).status_code == 201
        assert (await api.post(f"/v1/persons/{person}/evaluations", json=_evaluation(2022, "HTTNV"))).status_code == 201
        before = (await api.get(f"/v1/persons/{person}/record")).json()["sections"]
        refused = await api.post(f"/v1/persons/{person}/{section}", json=body)
        after = (await api.get(f"/v1/persons/{person}/record")).json()["sections"]
    assert refused.status_code == status, refused.text
    detail = refused.json()["detail"]
    if status == 422:
        assert field in {".".join(map(str, item["loc"][1:])) for item in detail}, detail
    else:
        assert detail["message"].startswith(f"{field}:"), detail
        if section == "salary":
            assert before["salary"][0]["entry_id"] in detail["message"], "the clashing entry is named"
    assert after == before, "nothing written"


async def test_each_section_answers_to_its_own_right(system: System) -> None:
    """Hà Nội's records clerk holds identity and work history only: it records placements but
    not salary, and the whole record it reads has no salary section; a self account reads its own
    record and writes nothing."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as admin:
        person = await _person(admin, system, "Hoàng Thị Mục")
        assert (
            await admin.post(f"/v1/persons/{person}/salary", json=_salary(1, "2.34", "2012-01-01"))
        ).status_code == 201
    async with api_client(system.gateway_url, system.token("nhansu1.hanoi")) as clerk:
        placed = await clerk.post(
            f"/v1/persons/{person}/placements",
            json={"values": {"unit_name": "Chi cục Hải quan Nội Bài", "post": "Công chức"}, "valid_from": "2012-01-01"},
        )
        salary = await clerk.post(f"/v1/persons/{person}/salary", json=_salary(2, "2.67", "2015-01-01"))
        read_salary = await clerk.get(f"/v1/persons/{person}/salary")
        whole = (await clerk.get(f"/v1/persons/{person}/record")).json()
    assert placed.status_code == 201, placed.text
    assert salary.status_code == 403
    assert read_salary.status_code == 403
    assert whole["sections"].get("salary") is None
    assert [p["values"]["post"] for p in whole["sections"]["placements"]] == ["Công chức"]
    assert whole["next_regular_raise"] is None, "the raise date is salary data"


async def test_catalogs_are_read_by_date_with_their_legal_basis(system: System) -> None:
    async with api_client(system.gateway_url, system.token("canbo.noibai")) as anyone:
        ranks = await anyone.get("/v1/catalogs/ranks")
        unknown = await anyone.get("/v1/catalogs/khong-co")
    assert ranks.status_code == 200
    customs = {v["code"]: v for v in ranks.json()}["08.051"]
    assert customs["label"] == "Kiểm tra viên hải quan"
    assert customs["attributes"]["coefficients"][0] == "2.34"
    assert "204/2004" in customs["legal_basis"]
    assert unknown.status_code == 404


async def test_discipline_and_a_failed_year_delay_the_next_raise_and_catalogs_follow_the_law(system: System) -> None:
    """TT 08/2013 Điều 2 khoản 3: a reprimand while holding the step delays the next raise by 6
    months, and so does a year rated "không hoàn thành nhiệm vụ". Catalog values are valid by
    date: salary reduction as a discipline ended on 30 June 2025 (ND 172/2025), and an identity
    card (CMND) is no longer issued after 2024."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Trương Văn Chậm")
        base = f"/v1/persons/{person}"

        async def raise_due(as_of: str) -> str | None:
            due: str | None = (await api.get(f"{base}/record", params={"as_of": as_of})).json()["next_regular_raise"]
            return due

        assert (await api.post(f"{base}/salary", json=_salary(1, "2.34", "2022-01-01"))).status_code == 201
        assert await raise_due("2022-06-01") == "2025-01-01"
        reprimand = {
            "values": {"form": "KHIEN_TRACH", "reason": "Vi phạm quy chế làm việc"},
            "valid_from": "2023-03-01",
            "valid_to": "2024-02-28",
            "decision": DECISION,
        }
        assert (await api.post(f"{base}/disciplines", json=reprimand)).status_code == 201
        assert await raise_due("2023-06-01") == "2025-07-01"
        assert (await api.post(f"{base}/evaluations", json=_evaluation(2023, "KHTNV"))).status_code == 201
        assert await raise_due("2024-06-01") == "2026-01-01"

        abolished = await api.post(
            f"{base}/disciplines",
            json=reprimand
            | {"values": {"form": "HA_BAC_LUONG", "reason": "x"}, "valid_from": "2025-08-01", "valid_to": None},
        )
        assert abolished.status_code == 422
        assert abolished.json()["detail"][0]["loc"] == ["body", "values.form"]

        origins = {"birthplace": "Hà Nội", "home_town": "Nam Định", "ethnicity": "01", "religion": "KHONG"}
        details: dict[str, Any] = {"values": origins, "valid_from": "1988-05-19"}
        assert (await api.post(f"{base}/personal_details", json=details)).status_code == 201
        unknown = await api.post(
            f"{base}/personal_details",
            json={"values": origins | {"ethnicity": "99"}, "valid_from": "2000-01-01"},
        )
        assert unknown.status_code == 422
        old_card = {"values": {"kind": "CMND", "number": "012345678", "issued_by": "Công an Hà Nội"}}
        assert (await api.post(f"{base}/id_documents", json=old_card | {"valid_from": "2005-06-01"})).status_code == 201
        late = await api.post(f"{base}/id_documents", json=old_card | {"valid_from": "2025-01-15"})
        assert late.status_code == 422
        whole = (await api.get(f"{base}/record")).json()["sections"]
    assert [d["values"]["ethnicity"] for d in whole["personal_details"]] == ["01"]
    assert [d["values"]["form"] for d in whole["disciplines"]] == ["KHIEN_TRACH"]
    assert whole["rewards"] == []


async def test_retirements_due_in_a_period_follow_the_dated_schedule(system: System) -> None:
    """ND 135/2020: a man born in October 1964 reaches 61 years 6 months, the age of 2026, in
    April 2026 and retires at the end of that month; a woman born in September 1969 reaches 57,
    the age of 2026, in September; one born in March 1969 reached 56 years 8 months, the age of
    2025, in November 2025. Only those due in the period are listed, soonest first."""
    async with api_client(system.gateway_url, system.token("quantri")) as sector:
        unit = await sector.post(
            "/v1/units",
            json={
                "code": unique_code("HT"),
                "name": "Đội nghỉ hưu",
                "kind": "sub_unit",
                "parent_id": system.unit_ids["HQHN"],
            },
        )
        assert unit.status_code == 201, unit.text
        unit_id = unit.json()["id"]
        people = {
            name: await sector.post("/v1/persons", json=person_body(unit_id, name, sex=sex, born=born))
            for name, sex, born in (
                ("Tạ Văn Hưu", "male", "1964-10-10"),
                ("Tạ Thị Thu", "female", "1969-09-09"),
                ("Tạ Thị Xuân", "female", "1969-03-03"),
                ("Tạ Văn Trẻ", "male", "1990-01-01"),
            )
        }
        assert {r.status_code for r in people.values()} == {201}
        due = await sector.get(f"/v1/units/{unit_id}/retirements-due", params={"from": "2026-01-01", "months": 12})
        record = (await sector.get(f"/v1/persons/{people['Tạ Thị Xuân'].json()['id']}/record")).json()
        too_long = await sector.get(f"/v1/units/{unit_id}/retirements-due", params={"from": "2026-01-01", "months": 61})
    assert due.status_code == 200, due.text
    assert [(d["person"]["full_name"], d["retires_on"]) for d in due.json()] == [
        ("Tạ Văn Hưu", "2026-04-30"),
        ("Tạ Thị Thu", "2026-09-30"),
    ]
    assert record["retirement_date"] == "2025-11-30"
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["query", "months"]


async def test_two_changes_recorded_at_once_never_leave_overlapping_periods(system: System) -> None:
    """Two clerks record steps from 2016 and from 2017 at the same moment: whichever goes first,
    the timeline stays one period at a time (the second closes the first, or is refused naming
    it)."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Phí Văn Đồng")
        salary = f"/v1/persons/{person}/salary"
        assert (await api.post(salary, json=_salary(1, "2.34", "2012-01-01"))).status_code == 201
        racing = await asyncio.gather(
            api.post(salary, json=_salary(2, "2.67", "2016-01-01")),
            api.post(salary, json=_salary(3, "3.00", "2017-01-01")),
        )
        history = (await api.get(salary)).json()
    assert {r.status_code for r in racing} <= {201, 409}, [r.text for r in racing]
    assert 201 in {r.status_code for r in racing}
    periods = sorted((e["valid_from"], e["valid_to"] or "9999-12-31") for e in history)
    assert all(earlier[1] < later[0] for earlier, later in pairwise(periods)), periods
    assert sum(1 for e in history if e["valid_to"] is None) == 1, "one current step"


async def test_sector_hr_keeps_the_catalogs_by_date(system: System) -> None:
    """R-PER-6: the sector's HR department adds a code from a date and ends it; an entry is
    checked against the catalog as it stood on the entry's date; a unit admin may only read."""
    code = unique_code("KT").replace("-", "")
    form = {"label": "Bằng khen của Tổng cục trưởng", "valid_from": "2026-01-01", "legal_basis": "QĐ 01/QĐ-TCHQ"}
    async with (
        api_client(system.gateway_url, system.token("vutccb")) as sector_hr,
        api_client(system.gateway_url, system.token("qthanoi")) as unit_admin,
    ):
        refused = await unit_admin.put(f"/v1/catalogs/reward_forms/{code}", json=form)
        added = await sector_hr.put(f"/v1/catalogs/reward_forms/{code}", json=form | {"stat_group": "BANG_KHEN"})
        rewritten = await sector_hr.put(f"/v1/catalogs/reward_forms/{code}", json=form | {"valid_from": "2025-06-01"})
        renamed = await sector_hr.put(
            f"/v1/catalogs/reward_forms/{code}", json=form | {"label": "Bằng khen Tổng cục", "valid_from": "2026-07-01"}
        )
        ended = await sector_hr.post(f"/v1/catalogs/reward_forms/{code}/end", json={"valid_to": "2026-09-30"})
        bad_rank = await sector_hr.put(
            "/v1/catalogs/ranks/08.099",
            json=form | {"attributes": {"salary_group": "A1", "coefficients": ["3.00", "2.67"], "months_per_step": 36}},
        )
        in_march = {
            v["code"]: v
            for v in (await unit_admin.get("/v1/catalogs/reward_forms", params={"as_of": "2026-03-01"})).json()
        }
        in_august = {
            v["code"]: v
            for v in (await unit_admin.get("/v1/catalogs/reward_forms", params={"as_of": "2026-08-01"})).json()
        }
        in_november = {
            v["code"]
            for v in (await unit_admin.get("/v1/catalogs/reward_forms", params={"as_of": "2026-11-01"})).json()
        }

        person = await _person(unit_admin, system, "Kiều Văn Khen")
        reward = {"values": {"form": code}, "decision": DECISION}
        before = await unit_admin.post(f"/v1/persons/{person}/rewards", json=reward | {"valid_from": "2025-12-01"})
        during = await unit_admin.post(f"/v1/persons/{person}/rewards", json=reward | {"valid_from": "2026-02-01"})
        after = await unit_admin.post(f"/v1/persons/{person}/rewards", json=reward | {"valid_from": "2026-10-01"})
    assert refused.status_code == 403
    assert added.status_code == 200, added.text
    assert rewritten.status_code == 409, "history is only added to"
    assert renamed.status_code == 200, renamed.text
    assert ended.json()["valid_to"] == "2026-09-30"
    assert bad_rank.status_code == 422
    assert {d["loc"][-1] for d in bad_rank.json()["detail"]} == {"attributes.coefficients"}
    assert in_march[code]["label"] == "Bằng khen của Tổng cục trưởng"
    assert in_august[code]["label"] == "Bằng khen Tổng cục"
    assert code not in in_november
    assert (before.status_code, during.status_code, after.status_code) == (422, 201, 422)


async def test_the_demo_staff_have_whole_records_their_holders_can_read(system: System) -> None:
    """The seeded people come with a record of every kind the generator writes, accepted by
    personnel's own checks; the self account of Nội Bài reads its own salary history."""
    async with api_client(system.gateway_url, system.token("canbo.noibai")) as own:
        (mine,) = (await own.get(f"/v1/units/{system.unit_ids['HQHN-NB']}/persons")).json()["items"]
        record = (await own.get(f"/v1/persons/{mine['id']}/record")).json()
    sections = record["sections"]
    for name in ("personal_details", "recruitment", "placements", "salary", "trainings", "family"):
        assert sections[name], name
    periods = sorted((e["valid_from"], e["valid_to"] or "9999-12-31") for e in sections["salary"])
    assert all(earlier[1] < later[0] for earlier, later in pairwise(periods)), periods
    assert sum(1 for e in sections["salary"] if e["valid_to"] is None) == 1
    assert record["retirement_date"] is not None


async def test_retracting_a_step_reopens_the_one_it_closed(system: System) -> None:
    """A step recorded by mistake closed the step before it; withdrawing it leaves that step open
    again, as a new version, so the record does not end in a gap."""
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Ngô Văn Rút")
        salary = f"/v1/persons/{person}/salary"
        assert (await api.post(salary, json=_salary(1, "2.34", "2012-01-01"))).status_code == 201
        mistake = await api.post(salary, json=_salary(2, "2.67", "2015-01-01"))
        assert mistake.status_code == 201, mistake.text
        retracted = await api.delete(f"{salary}/{mistake.json()['entry_id']}", headers={"If-Match": '"1"'})
        assert retracted.status_code == 200, retracted.text
        history = (await api.get(salary)).json()
        assert [(e["values"]["step"], e["valid_to"], e["change"]) for e in history] == [(1, None, "reopened")]
        record = (await api.get(f"/v1/persons/{person}/record")).json()
        assert record["next_regular_raise"] == "2015-01-01"
