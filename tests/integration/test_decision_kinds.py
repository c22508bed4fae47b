"""Every kind of decision that writes a record's section or a status (issue 8.4, R-PER-3), the ones
test_decisions.py does not walk through: applied on its past effective date, each person's entry
stands in its section from that day with the decision's number and signer, and the cancellation
takes it away again, giving back what it closed; a status decision and its cancellation likewise."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_decisions import SIGNED, _decision, _person
from tests.support import System, api_client, unique_code

EFFECTIVE = "2025-03-01"

EARLIER_SALARY = {
    "values": {"rank_code": "01.003", "step": 9, "coefficient": "4.98"},
    "valid_from": "2015-01-01",
    "decision": {"number": "12/QĐ-HQHN", "date": "2014-12-20"},
}
"""A Chuyên viên at the last step of the rank since 2015: what a rank change and the over-frame
allowance start from."""

KINDS: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = {
    "recruitment": ("recruitment", {"body": "Cục Hải quan TP Hà Nội", "occupation_before": "Sinh viên"}, None),
    "appointment": (
        "appointments",
        {"kind": "BO_NHIEM", "post": "Đội trưởng", "post_code": "DOI_TRUONG", "unit_name": "Đội Kiểm soát"}
        | {"term_months": 60},
        None,
    ),
    "concurrent_post": ("concurrent_posts", {"unit_name": "Đội Nghiệp vụ", "post": "Đội phó"}, None),
    "rotation": (
        "rotations",
        {"unit_name": "Chi cục Hải quan Bắc Ninh", "post": "Phó Chi cục trưởng"} | {"term_months": 36},
        None,
    ),
    "secondment": ("secondments", {"host_unit": "Ủy ban nhân dân tỉnh Bắc Ninh", "post": "Chuyên viên"}, None),
    "rank_change": ("salary", {"rank_code": "01.002", "step": 1, "coefficient": "4.40"}, EARLIER_SALARY),
    "over_frame": (
        "salary",
        {"rank_code": "01.003", "step": 9, "coefficient": "4.98", "over_frame_percent": 5},
        EARLIER_SALARY,
    ),
    "allowance": ("allowances", {"kind": "KHU_VUC", "coefficient": "0.20"}, None),
    "evaluation": ("evaluations", {"year": 2024, "level": "HTTNV"}, None),
    "discipline": ("disciplines", {"form": "KHIEN_TRACH", "reason": "Vi phạm quy chế làm việc"}, None),
}


def _shown(entry: dict[str, Any]) -> tuple[Any, ...]:
    return entry["valid_from"], entry["valid_to"], entry["change"]


@pytest.mark.parametrize("kind", list(KINDS))
async def test_each_kind_writes_its_section_from_its_day_and_its_cancellation_takes_it_back(
    system: System, kind: str
) -> None:
    section, values, earlier = KINDS[kind]
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, f"Phan Văn Quyết {kind}")
        if earlier is not None:
            before = await api.post(f"/v1/persons/{person}/{section}", json=earlier)
            assert before.status_code == 201, before.text
        body = _decision(kind, EFFECTIVE, [{"person_id": person, "values": values}])
        created = await api.post("/v1/decisions", json=body)
        assert created.status_code == 201, created.text
        decision = created.json()
        assert decision["state"] == "applied"

        entries = (await api.get(f"/v1/persons/{person}/{section}")).json()
        made = next(e for e in entries if e["entry_id"] == decision["items"][0]["entry_id"])
        assert made["valid_from"] == EFFECTIVE
        assert {k: made["values"][k] for k in values} == values
        assert made["decision"] | {"date": made["decision"]["date"]} == {
            "number": body["number"],
            "date": body["decision_date"],
            **SIGNED,
        }
        if earlier is not None:
            closed = next(e for e in entries if e["entry_id"] != made["entry_id"])
            assert _shown(closed)[:2] == (earlier["valid_from"], "2025-02-28"), (
                "the step it follows ends the day before"
            )

        cancel = {"reason": "Ban hành nhầm", "cancel_number": f"{unique_code('H')[-6:]}/QĐ-HQHN"}
        cancelled = await api.post(f"/v1/decisions/{decision['id']}/cancel", json=cancel, headers={"If-Match": '"1"'})
        assert cancelled.status_code == 200, cancelled.text
        after = (await api.get(f"/v1/persons/{person}/{section}")).json()
        assert [e["entry_id"] for e in after if e["entry_id"] == made["entry_id"]] == [], (
            "the entry goes with the decision"
        )
        if earlier is not None:
            assert [_shown(e)[:2] for e in after] == [(earlier["valid_from"], None)], "what it closed is open again"
        else:
            assert after == []


async def test_a_resignation_decision_ends_service_and_its_cancellation_gives_it_back(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Phan Thị Thôi")
        created = await api.post("/v1/decisions", json=_decision("resignation", EFFECTIVE, [{"person_id": person}]))
        assert created.status_code == 201, created.text
        assert (await api.get(f"/v1/persons/{person}")).json()["status"] == "resigned"
        cancel = {"reason": "Ban hành nhầm", "cancel_number": f"{unique_code('H')[-6:]}/QĐ-HQHN"}
        decision = created.json()["id"]
        cancelled = await api.post(f"/v1/decisions/{decision}/cancel", json=cancel, headers={"If-Match": '"1"'})
        assert cancelled.status_code == 200, cancelled.text
        assert (await api.get(f"/v1/persons/{person}")).json()["status"] == "active"
