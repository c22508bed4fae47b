"""A record outside the caller's scope answers exactly as an unknown one (R-PER-7), and a
civil servant reads its own record and nothing else (003 annex row 4)."""

from __future__ import annotations

import uuid
from typing import Any

from qlcb_devstack import demo
from tests.support import System, api_client, metric_value, person_body


async def _created(system: System, unit: str, name: str) -> dict[str, Any]:
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        response = await api.post("/v1/persons", json=person_body(system.unit_ids[unit], name))
    assert response.status_code == 201, response.text
    person: dict[str, Any] = response.json()
    return person


async def test_a_record_outside_the_scope_answers_as_an_unknown_one(system: System) -> None:
    in_hcm = await _created(system, "HQHCM-TSN", "Mạc Văn Kín")
    refusals_before = await metric_value(
        system, "personnel", "qlcb_authz_refusals_total", {"section": "identity", "action": "read"}
    )
    async with api_client(system.gateway_url, system.token("qthanoi")) as hanoi:
        hidden = await hanoi.get(f"/v1/persons/{in_hcm['id']}")
        unknown = await hanoi.get(f"/v1/persons/{uuid.uuid4()}")
        status_change = await hanoi.post(
            f"/v1/persons/{in_hcm['id']}/status",
            json={"status": "retired", "effective_date": "2026-11-30", "decision": "1/QĐ"},
        )
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"]["code"] == unknown.json()["detail"]["code"]
    for answer in (hidden, status_change):
        assert "HQHCM" not in answer.text, answer.text
        assert "TCHQ" not in answer.text, answer.text
    assert status_change.status_code == 404
    refusals_after = await metric_value(
        system, "personnel", "qlcb_authz_refusals_total", {"section": "identity", "action": "read"}
    )
    assert refusals_after >= refusals_before + 2, "each refusal is counted for the ops team"


async def test_a_refusal_in_scope_does_not_name_the_unit(system: System) -> None:
    """Hà Nội's officer sees its staff but may not retire them (its grant is identity and work
    history; a unit leader has no write at all): 403, naming no unit."""
    person = await _created(system, "HQHN-NB", "Đinh Văn Lộ")
    async with api_client(system.gateway_url, system.token("lanhdaovu")) as viewer:
        refused = await viewer.post(
            f"/v1/persons/{person['id']}/status",
            json={"status": "retired", "effective_date": "2026-11-30", "decision": "1/QĐ"},
        )
    assert refused.status_code == 403
    assert "HQHN" not in refused.text


async def test_self_reads_its_own_record_and_nothing_else(system: System) -> None:
    own = demo.self_person()
    token = system.token("canbo.noibai")
    async with api_client(system.gateway_url, token) as me:
        listed = await me.get(f"/v1/units/{system.unit_ids['HQHN-NB']}/persons")
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        assert [p["personal_id"] for p in items] == [own.personal_id], "only its own record is listed"
        record = await me.get(f"/v1/persons/{items[0]['id']}")
        assert record.status_code == 200, record.text
        assert record.json()["full_name"] == own.full_name
        colleague = await _created(system, "HQHN-NB", "Kha Văn Bạn")
        assert (await me.get(f"/v1/persons/{colleague['id']}")).status_code == 404
        retire_self = await me.post(
            f"/v1/persons/{items[0]['id']}/status",
            json={"status": "resigned", "effective_date": "2026-11-30", "decision": "1/QĐ"},
        )
        assert retire_self.status_code == 403, "self reads its record; it writes nothing"
