"""A unit's establishment day (ADR 0041). A unit taken in without an establishing decision (the
organisation as it stood at go-live) existed before the records begin: the tree of any past day holds
it, and a decision dated before the day it was taken in may follow. A unit established by a decision
is on the statutory forms from its effective date; a form of the unit itself before that day is
refused, naming the field."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import System, api_client, eventually, unique_code

ADMIN = "quantri"


async def _codes_as_of(api: httpx.AsyncClient, day: str) -> dict[str, str]:
    listing = await api.get("/v1/units", params={"as_of": day})
    assert listing.status_code == 200, listing.text
    return {u["code"]: u["name"] for u in listing.json()}


async def test_the_organisation_taken_in_at_go_live_stands_on_every_past_day(system: System) -> None:
    code = unique_code("GL")
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        assert {"HQHN", "HQHN-NB"} <= set(await _codes_as_of(api, "2015-01-01"))
        history = await api.get(f"/v1/units/{system.unit_ids['HQHN']}/history")
        assert history.status_code == 200, history.text
        first = history.json()[0]
        assert (first["change"], first["effective_date"], first["decision"]) == ("established", None, "")

        # One of the test's own, taken in the same way, then renamed by a decision of last year.
        body = {"code": code, "name": "Chi cục Hải quan Gia Lâm", "kind": "sub_unit"}
        created = await api.post("/v1/units", json=body | {"parent_id": system.unit_ids["HQHN"]})
        assert created.status_code == 201, created.text
        unit: dict[str, Any] = created.json()
        rename = {"name": "Chi cục Hải quan Gia Thụy", "effective_date": "2025-07-01", "decision": "12/QĐ-HQHN"}
        renamed = await api.post(f"/v1/units/{unit['id']}/rename", json=rename)
        assert renamed.status_code == 200, renamed.text
        assert (await _codes_as_of(api, "2010-05-01"))[code] == "Chi cục Hải quan Gia Lâm"
        assert (await _codes_as_of(api, "2025-06-30"))[code] == "Chi cục Hải quan Gia Lâm"
        assert (await _codes_as_of(api, "2025-07-01"))[code] == "Chi cục Hải quan Gia Thụy"
        changes = (await api.get(f"/v1/units/{unit['id']}/history")).json()
        assert [(c["change"], c["effective_date"], c["decision"]) for c in changes] == [
            ("established", None, ""),
            ("renamed", "2025-07-01", "12/QĐ-HQHN"),
        ]

        # The audit tells the establishment without a day (not the stored marker 0001-01-01).
        def effective_dates(page: dict[str, Any]) -> dict[str, Any]:
            return {
                e["details"]["changes"]["change"][1]: e["details"]["changes"].get("effective_date")
                for e in page["entries"]
                if e["target"] == "unit_changes"
            }

        audited = await eventually(
            lambda: _audit(api, unit["id"]),
            lambda page: len(effective_dates(page)) == 2,
            timeout=30,
            what="the audit entries",
        )
        assert effective_dates(audited) == {"established": None, "renamed": [None, "2025-07-01"]}


async def _audit(api: httpx.AsyncClient, unit_id: str) -> dict[str, Any]:
    response = await api.get("/v1/audit", params={"unit_id": unit_id, "include_subtree": "false"})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def _rows(api: httpx.AsyncClient, unit_id: str, as_of: str) -> list[str]:
    form = await api.get("/v1/statistics/BM01", params={"unit": unit_id, "as_of": as_of})
    assert form.status_code == 200, form.text
    return [row["key"] for row in form.json()["rows"]]


async def test_a_unit_established_by_a_decision_is_on_the_forms_from_its_effective_date(system: System) -> None:
    hanoi = system.unit_ids["HQHN"]
    async with api_client(system.gateway_url, system.token(ADMIN)) as api:
        body = {"code": unique_code("TL"), "name": "Chi cục Hải quan Đông Anh", "kind": "sub_unit", "parent_id": hanoi}
        created = await api.post("/v1/units", json=body | {"effective_date": "2024-07-01", "decision": "25/QĐ-TCHQ"})
        assert created.status_code == 201, created.text
        new = created.json()["id"]

        await eventually(
            lambda: _rows(api, hanoi, "2024-07-01"), lambda rows: new in rows, timeout=60, what="the new unit's row"
        )
        before = await _rows(api, hanoi, "2024-06-30")
        assert new not in before, "not yet established"
        assert system.unit_ids["HQHN-NB"] in before, "a unit taken in at go-live is on every day's form"
        cell = {"unit": hanoi, "row": new, "column": "headcount", "as_of": "2024-06-30"}
        hidden = await api.get("/v1/statistics/BM01/people", params=cell)
        assert hidden.status_code == 422, hidden.text
        assert hidden.json()["detail"][0]["loc"] == ["query", "row"], hidden.text

        # A team taken in without a decision under it exists from its parent's establishment.
        team = {"code": unique_code("TD"), "name": "Đội Kiểm soát Đông Anh", "kind": "sub_unit", "parent_id": new}
        taken_in = await api.post("/v1/units", json=team)
        assert taken_in.status_code == 201, taken_in.text
        history = (await api.get(f"/v1/units/{taken_in.json()['id']}/history")).json()
        assert [(h["change"], h["effective_date"], h["decision"]) for h in history] == [
            ("established", "2024-07-01", "")
        ]
        assert team["code"] not in await _codes_as_of(api, "2024-06-30")
        assert team["code"] in await _codes_as_of(api, "2024-07-01")
        # The start of the records is no decision's day.
        marker = {"name": "Chi cục Hải quan Đông Anh mới", "effective_date": "0001-01-01", "decision": "1/QĐ"}
        refused = await api.post(f"/v1/units/{new}/rename", json=marker)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "effective_date"], refused.text

        for path, extra in (
            ("/v1/statistics/BM01", {}),
            ("/v1/statistics/BM01/people", {"row": "total", "column": "headcount"}),
        ):
            refused = await api.get(path, params={"unit": new, "as_of": "2024-06-30", **extra})
            assert refused.status_code == 422, refused.text
            fault = refused.json()["detail"][0]
            assert fault["loc"] == ["query", "as_of"], fault
            assert "2024-07-01" in fault["msg"], fault
        assert (await api.get("/v1/statistics/BM01", params={"unit": new, "as_of": "2024-07-01"})).status_code == 200
