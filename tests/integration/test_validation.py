"""Malformed requests get 422 / INVALID_ARGUMENT naming the field, and nothing is written."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from tests.support import System, unique_code


def _valid(system: System) -> dict[str, Any]:
    return {
        "personal_id": "001185000777",
        "staff_number": unique_code("V"),
        "full_name": "Phạm Minh Đức",
        "date_of_birth": "1985-07-01",
        "sex": "male",
        "unit_id": system.root_unit_id,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("personal_id", "12345"),
        ("personal_id", "00118500077A"),
        ("date_of_birth", "1985-13-01"),
        ("date_of_birth", "2024-01-01"),
        ("date_of_birth", 0),  # not read as seconds since 1970: 1 January 1970 would be a birth date
        ("date_of_birth", "01/07/1985"),
        ("sex", "unknown"),
        ("full_name", ""),
        ("full_name", "   "),
        ("unit_id", "no-such-unit"),
        ("staff_number", "x" * 30),
    ],
)
async def test_rest_names_the_bad_field_and_writes_nothing(system: System, field: str, value: Any) -> None:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    body = _valid(system) | {field: value}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        response = await api.post("/v1/persons", json=body)
        listing = await api.get(f"/v1/units/{system.root_unit_id}/persons", params={"page_size": 500})
    assert response.status_code == 422, response.text
    locations = [error["loc"] for error in response.json()["detail"]]
    assert ["body", field] in [loc[:2] for loc in locations], locations
    assert body["staff_number"] not in {p["staff_number"] for p in listing.json()["items"]}


async def test_grpc_reports_every_bad_field_at_once(system: System) -> None:
    metadata = (("authorization", f"Bearer {system.token('quantri')}"),)
    request = personnel_pb2.CreatePersonRequest(
        personal_id="abc", staff_number="", full_name=" ", date_of_birth="01/02/1990", unit_id="nope"
    )
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await personnel_pb2_grpc.PersonnelServiceStub(channel).CreatePerson(request, metadata=metadata, timeout=10)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    details = dict(error.value.trailing_metadata() or ())["grpc-status-details-bin"]
    bad_request = error_details_pb2.BadRequest()
    assert status_pb2.Status.FromString(details).details[0].Unpack(bad_request)
    fields = {v.field for v in bad_request.field_violations}
    assert fields == {"personal_id", "staff_number", "full_name", "date_of_birth", "sex", "unit_id"}


async def test_duplicate_personal_id_is_a_conflict_and_keeps_the_first(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    first = _valid(system) | {"personal_id": "079199001234"}
    second = _valid(system) | {"personal_id": "079199001234", "full_name": "Người Thứ Hai"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        created = await api.post("/v1/persons", json=first)
        clash = await api.post("/v1/persons", json=second)
        stored = await api.get(f"/v1/persons/{created.json()['id']}")
    assert created.status_code == 201, created.text
    assert clash.status_code == 409
    assert "personal_id" in clash.json()["detail"]["message"]
    assert stored.json()["full_name"] == "Phạm Minh Đức"


async def test_names_are_stored_in_nfc(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    decomposed = "Nguye\u0302\u0303n Thi\u0323 Ha\u0300"  # "Nguyễn Thị Hà" typed with combining marks
    body = _valid(system) | {"personal_id": "001190004321", "full_name": decomposed}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        created = await api.post("/v1/persons", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["full_name"] == "Nguyễn Thị Hà"


async def test_a_unit_admin_cannot_write_outside_its_subtree(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token('qthanoi')}"}
    body = _valid(system) | {"personal_id": "001190009999", "unit_id": system.unit_ids["HQHCM"]}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        refused = await api.post("/v1/persons", json=body)
        allowed = await api.post("/v1/persons", json=body | {"unit_id": system.unit_ids["HQHN-NB"]})
    assert refused.status_code == 403
    assert allowed.status_code == 201, allowed.text
