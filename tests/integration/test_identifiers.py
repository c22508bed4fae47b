"""Identifiers are ASCII, text is stored NFC, and control characters are refused with a 422 (or
INVALID_ARGUMENT) naming the field, never stripped: at the gateway, at identity, and at personnel
when it is called directly over gRPC."""

from __future__ import annotations

import unicodedata
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from tests.support import System, person_body, unique_code

ARABIC_INDIC_ID = "٠١٢٣٤٥٦٧٨٩٠١"  # twelve Unicode digits (Nd) that `\d` matches
CONTROL_REFUSED = "Không được chứa ký tự điều khiển"


def _named(response: httpx.Response, field: str) -> str:
    """The message of the 422 error at `body.<field>`; fails when no error names the field."""
    assert response.status_code == 422, response.text
    messages = {tuple(error["loc"][:2]): error["msg"] for error in response.json()["detail"]}
    assert ("body", field) in messages, messages
    return str(messages[("body", field)])


def _api(system: System, base_url: str, username: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {system.token(username)}"}
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)


def _violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    details = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
    bad_request = error_details_pb2.BadRequest()
    assert status_pb2.Status.FromString(details).details[0].Unpack(bad_request)
    return {v.field: v.description for v in bad_request.field_violations}


async def test_a_personal_id_of_arabic_indic_digits_is_refused_and_nothing_is_stored(system: System) -> None:
    unit_id = system.unit_ids["HQHN-NB"]
    body = person_body(unit_id, "Lê Văn Số") | {"personal_id": ARABIC_INDIC_ID}
    async with _api(system, system.gateway_url, "quantri") as api:
        response = await api.post("/v1/persons", json=body)
        listing = await api.get(f"/v1/units/{unit_id}/persons", params={"page_size": 500})
    _named(response, "personal_id")
    assert listing.status_code == 200, listing.text
    stored = {(p["personal_id"], p["staff_number"]) for p in listing.json()["items"]}
    assert not {p for p in stored if p[0] == ARABIC_INDIC_ID or p[1] == body["staff_number"]}


@pytest.mark.parametrize("control", ["\u0007", "\u202e", "\n"], ids=["bell", "bidi-override", "newline"])
async def test_a_full_name_holding_a_control_character_is_refused_not_stripped(system: System, control: str) -> None:
    unit_id = system.unit_ids["HQHN-NB"]
    body = person_body(unit_id, f"Trần Văn{control} Ẩn")
    async with _api(system, system.gateway_url, "quantri") as api:
        response = await api.post("/v1/persons", json=body)
        listing = await api.get(f"/v1/units/{unit_id}/persons", params={"page_size": 500})
    assert _named(response, "full_name").startswith(CONTROL_REFUSED)
    assert body["staff_number"] not in {p["staff_number"] for p in listing.json()["items"]}


@pytest.mark.parametrize("letter", ["ı", "ſ"], ids=["dotless-i", "long-s"])
async def test_a_unit_code_with_a_non_ascii_letter_is_refused(system: System, letter: str) -> None:
    """Both letters upper-case to ASCII ("ı" to "I", "ſ" to "S"), so upper-casing first let them in."""
    code = unique_code(f"Q{letter}")
    body = {"code": code, "name": "Đội Kiểm soát", "kind": "sub_unit", "parent_id": system.unit_ids["HQHN-NB"]}
    async with _api(system, system.gateway_url, "quantri") as api:
        response = await api.post("/v1/units", json=body)
        units = await api.get("/v1/units")
    _named(response, "code")
    assert code.upper() not in {unit["code"] for unit in units.json()}


async def test_a_name_given_in_nfd_is_stored_in_nfc_and_its_length_counted_there(system: System) -> None:
    composed = ("Nguyễn Thị Ngọc Hà " * 8)[:150].strip()  # at the 150-character limit in NFC
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(decomposed) > 150
    async with _api(system, system.gateway_url, "quantri") as api:
        created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], decomposed))
    assert created.status_code == 201, created.text
    assert created.json()["full_name"] == composed


def _account_request(holder_name: str) -> dict[str, Any]:
    return {
        "holder_name": holder_name,
        "holder_email": "holder@haiquan.example",
        "unit_path": "/TCHQ/HQHN/HQHN-NB",
        "division": "Đội Thủ tục hàng hóa xuất nhập khẩu",
        "position": "Công chức",
        "phone": "0912345678",
        "account_types": ["local-officer"],
        "reply_name": "Vũ Thị Hà",
        "reply_unit": "Phòng Tổ chức cán bộ, Cục Hải quan TP Hà Nội",
        "reply_email": "tccb.hanoi@qlcb.example",
        "reply_phone": "0243123456",
        "requester_name": "Vũ Thị Hà",
    }


@pytest.mark.parametrize("control", ["\u0007", "\u2066", "\t"], ids=["bell", "bidi-isolate", "tab"])
async def test_an_account_request_with_a_control_character_in_the_holder_name_is_refused(
    system: System, control: str
) -> None:
    async with _api(system, system.services.identity_url, "qthanoi") as identity:
        response = await identity.post("/v1/account-requests", json=_account_request(f"Nguyễn Thị{control} Lạ"))
    assert _named(response, "holder_name").startswith(CONTROL_REFUSED)


def _direct_person(system: System, **fields: str) -> personnel_pb2.CreatePersonRequest:
    body = person_body(system.unit_ids["HQHN-NB"], "Đỗ Văn Trực") | fields
    return personnel_pb2.CreatePersonRequest(
        personal_id=body["personal_id"],
        staff_number=body["staff_number"],
        full_name=body["full_name"],
        date_of_birth=body["date_of_birth"],
        sex=personnel_pb2.SEX_MALE,
        unit_id=body["unit_id"],
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("personal_id", ARABIC_INDIC_ID), ("full_name", "Đỗ Văn\u202e Trực"), ("staff_number", unique_code("P") + "\n")],
    ids=["arabic-indic-id", "bidi-override-name", "staff-number-ending-in-a-newline"],
)
async def test_personnel_refuses_the_same_when_called_directly(system: System, field: str, value: str) -> None:
    metadata = (("authorization", f"Bearer {system.token('quantri')}"),)
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.CreatePerson(_direct_person(system, **{field: value}), metadata=metadata, timeout=10)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert set(_violations(error.value)) == {field}


async def test_personnel_refuses_a_unit_code_that_upper_cases_to_ascii(system: System) -> None:
    metadata = (("authorization", f"Bearer {system.token('quantri')}"),)
    request = personnel_pb2.CreateUnitRequest(
        code=unique_code("Qı"),
        name="Đội Kiểm soát",
        kind=personnel_pb2.UNIT_KIND_SUB_UNIT,
        parent_id=system.unit_ids["HQHN-NB"],
    )
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await personnel_pb2_grpc.PersonnelServiceStub(channel).CreateUnit(request, metadata=metadata, timeout=10)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert set(_violations(error.value)) == {"code"}
