"""Inputs at the edges of what a field holds, each refused by name (4xx, never a server error) with
nothing written: numbers too large for the contract's integers, decimals in exponent form, text
PostgreSQL cannot hold (U+0000), instants that leave the calendar once turned to UTC, text longer
than its column only once in NFC, and catalog attributes of the wrong type."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from tests.support import System, api_client, person_body, unique_code

pytestmark = pytest.mark.integration

DECISION = {"number": "21/QĐ-HQHN", "date": "2019-12-20"}
OVERFLOWING = "0001-01-01T00:00:00+01:00"
"""A valid RFC 3339 instant whose UTC is before year 1."""
DECISIONS_FROM_BEFORE_YEAR_ONE = "0001-01-01_0001-01-01T00:00:00+14:00_x"
"""A page token of a unit's decisions (day, instant, id) whose instant is before year 1 in UTC."""


def _faults(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {".".join(str(p) for p in f["loc"][1:]): f["msg"] for f in response.json()["detail"]}


async def _salary_entry(api: httpx.AsyncClient, system: System) -> tuple[str, str]:
    created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Đinh Văn Biên"))
    assert created.status_code == 201, created.text
    salary = f"/v1/persons/{created.json()['id']}/salary"
    added = await api.post(
        salary,
        json={
            "values": {"rank_code": "01.003", "step": 3, "coefficient": "3.00"},
            "valid_from": "2020-01-01",
            "decision": DECISION,
        },
    )
    assert added.status_code == 201, added.text
    return salary, added.json()["entry_id"]


async def test_record_entries_refuse_numbers_and_text_at_the_edges_by_name(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        salary, entry = await _salary_entry(api, system)
        values = {"rank_code": "01.003", "step": 3}
        exponent = await api.post(
            salary, json={"values": values | {"coefficient": "1E+30"}, "valid_from": "2021-01-01", "decision": DECISION}
        )
        assert set(_faults(exponent)) == {"values.coefficient"}
        # A hundred characters that NFC makes two hundred: longer than a signer's name may be.
        signer = "\u0958" * 100
        long_signer = await api.post(
            salary,
            json={
                "values": values | {"coefficient": "3.00"},
                "valid_from": "2021-01-01",
                "decision": DECISION | {"signer": signer},
            },
        )
        assert set(_faults(long_signer)) == {"decision.signer"}
        for tag in ('"2147483648"', '"\u00b2"', '"99999999999"'):
            refused = await api.put(
                f"{salary}/{entry}",
                json={"values": values | {"coefficient": "3.00"}, "valid_from": "2020-01-01", "decision": DECISION},
                headers={b"If-Match": tag.encode("latin-1")},
            )
            assert refused.status_code == 428, (tag, refused.text)
        known_at = await api.get(f"{salary}", params={"known_at": OVERFLOWING})
        assert set(_faults(known_at)) == {"known_at"}
        listed = await api.get(salary)
    assert [e["entry_id"] for e in listed.json()] == [entry], "nothing refused was written"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/audit", {"occurred_from": OVERFLOWING}, "occurred_from"),
        ("/v1/units/{root}/decisions", {"page_token": DECISIONS_FROM_BEFORE_YEAR_ONE}, "page_token"),
        ("/v1/units/{root}/persons", {"page_token": "not a token!"}, "page_token"),
    ],
)
async def test_listings_refuse_positions_and_instants_outside_the_calendar_by_name(
    system: System, path: str, params: dict[str, str], field: str
) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        response = await api.get(path.format(root=system.root_unit_id), params=params)
    assert response.status_code == 422, response.text
    assert field in {str(loc) for d in response.json()["detail"] for loc in d["loc"]}, response.text


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/v1/persons/%00/record", ["path"]),
        ("/v1/persons/export?format=xlsx&q=a%01b", ["query", "q"]),
        ("/v1/persons?q=Nguy%E1%BB%85n%00", ["query", "q"]),
    ],
)
async def test_a_control_character_in_a_path_or_query_is_refused_before_any_service_reads_it(
    system: System, url: str, loc: list[str]
) -> None:
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        response = await api.get(url)
    assert response.status_code == 422, response.text
    assert [d["loc"] for d in response.json()["detail"]] == [loc]


async def test_grpc_called_directly_with_a_nul_in_an_id_is_an_invalid_argument(system: System) -> None:
    metadata = (("authorization", f"Bearer {system.token('quantri')}"),)
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await personnel_pb2_grpc.PersonnelServiceStub(channel).GetPerson(
                personnel_pb2.GetPersonRequest(id="p\x00"), metadata=metadata, timeout=10
            )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert "U+0000" in (refused.value.details() or "")


RANK: dict[str, Any] = {
    "label": "Ngạch thử",
    "valid_from": "2026-01-01",
    "legal_basis": "Thông tư thử",
    "attributes": {"salary_group": "A1", "months_per_step": 36},
}


@pytest.mark.parametrize(
    ("catalog", "attributes", "field"),
    [
        ("ranks", {"coefficients": [2.34, 2.67]}, "attributes.coefficients"),
        ("ranks", {"coefficients": ["NaN", "2.00"]}, "attributes.coefficients"),
        ("ranks", {"coefficients": ["2.34", "Infinity"]}, "attributes.coefficients"),
        ("posts", {"allowance_coefficient": "1E-1"}, "attributes.allowance_coefficient"),
        ("communes", {"province": "\u0000"}, "attributes.province"),
    ],
)
async def test_catalog_attributes_of_the_wrong_form_are_refused_by_name_and_nothing_is_added(
    system: System, catalog: str, attributes: dict[str, Any], field: str
) -> None:
    code = unique_code("T")
    body = RANK | {"attributes": RANK["attributes"] | attributes}
    async with api_client(system.gateway_url, system.token("vutccb")) as api:
        refused = await api.put(f"/v1/catalogs/{catalog}/{code}", json=body)
        listed = await api.get(f"/v1/catalogs/{catalog}")
    assert list(_faults(refused)) == [field]
    assert code not in {v["code"] for v in listed.json()}
