"""The people's particulars the statistics give out are in the audit trail (ADR 0048): a list form
read and exported through the gateway appears, within seconds, among the entries of the unit it was
asked for, with the reader's account, the form, the day, the format and the number of people given;
the head of another province's department sees none of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from qlcb_common.days import vietnam_today
from tests.support import System, api_client, eventually, person_body, unique_code

pytestmark = pytest.mark.integration

DAY = vietnam_today().isoformat()


async def _unit(api: httpx.AsyncClient, parent_id: str) -> tuple[str, str]:
    code = unique_code("NK")
    body = {"code": code, "name": "Phòng nhật ký thống kê", "kind": "sub_unit", "parent_id": parent_id}
    created = await api.post("/v1/units", json=body | {"effective_date": "2000-01-01", "decision": "1/QĐ-NK"})
    assert created.status_code == 201, created.text
    return created.json()["id"], code


async def _audit(api: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await api.get("/v1/audit", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_a_list_form_read_and_exported_is_recorded_in_the_units_trail(system: System) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        unit_id, code = await _unit(admin, system.unit_ids["HQHN"])
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        created = await hanoi.post("/v1/persons", json=person_body(unit_id, "Kiều Văn Thống", born="1984-02-03"))
        assert created.status_code == 201, created.text

        async def bm03() -> dict[str, Any]:
            response = await hanoi.get("/v1/statistics/BM03", params={"unit": unit_id, "as_of": DAY})
            assert response.status_code == 200, response.text
            form: dict[str, Any] = response.json()
            return form

        await eventually(bm03, lambda form: len(form["rows"]) == 1, timeout=60, what="the person listed in BM03")
        exported = await hanoi.get("/v1/statistics/BM03/export", params={"unit": unit_id, "as_of": DAY})
        assert exported.status_code == 200, exported.text

        def recorded(page: dict[str, Any]) -> bool:
            return {(e["action"], e["details"].get("rows")) for e in page["entries"]} >= {("read", 1), ("export", 1)}

        page = await eventually(
            lambda: _audit(hanoi, unit_id=unit_id, page_size=200),
            recorded,
            timeout=30,
            what="the list form's read and export in the unit's audit trail",
        )
    entries = [e for e in page["entries"] if e["target"] == "statistics_form" and e["details"]["rows"] == 1]
    read = next(e for e in entries if e["action"] == "read")
    export = next(e for e in entries if e["action"] == "export")
    assert sum(e["action"] == "export" for e in page["entries"]) == 1
    for entry in (read, export):
        assert entry["account"] == "qthanoi"
        assert "local-admin" in entry["tiers"]
        assert entry["unit_path"].endswith(f"/HQHN/{code}")
        assert (entry["target_id"], entry["person_id"]) == ("BM03", None)
        assert (entry["details"]["form"], entry["details"]["as_of"], entry["details"]["unit_id"]) == (
            "BM03",
            DAY,
            unit_id,
        )
    assert (read["details"]["format"], export["details"]["format"]) == ("", "xlsx")
    assert datetime.fromisoformat(read["occurred_at"]) < datetime.fromisoformat(export["occurred_at"])

    async with api_client(system.gateway_url, system.token("thutruong.hcm")) as elsewhere:
        refused = await elsewhere.get("/v1/audit", params={"unit_id": unit_id})
        theirs = await _audit(elsewhere, account="qthanoi", page_size=200)
    assert refused.status_code == 403, refused.text
    assert all(e["unit_path"] != read["unit_path"] for e in theirs["entries"]), (
        "Hồ Chí Minh sees none of Hà Nội's reads"
    )
