"""Request size limits on the running system: a body over 1 MiB gets 413 from the gateway and
identity before it is parsed or its token checked, and the lists of a merger or a split are
capped, at the gateway (422 naming the field) and in personnel before it loads any unit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2

from qlcb.personnel.v1 import personnel_pb2, personnel_pb2_grpc
from qlcb_common.limits import MAX_MERGE_SOURCES, MAX_SPLIT_SUCCESSORS
from tests.support import System, metric_value

TWO_MIB = 2 * 1024 * 1024
DECIDED = {"effective_date": "2026-12-01", "decision": "9/QĐ-TCHQ"}


def _too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "PayloadTooLarge"
    assert str(1024 * 1024) in detail["message"]


async def test_an_unauthenticated_oversized_merger_gets_413_not_401(system: System) -> None:
    labels = {"service": "gateway", "method": "POST", "status": "413"}
    counted_before = await metric_value(system, "gateway", "qlcb_http_server_requests_total", labels)
    async with httpx.AsyncClient(base_url=system.gateway_url, timeout=60) as api:
        response = await api.post(
            "/v1/unit-mergers", content=b"[" * TWO_MIB, headers={"Content-Type": "application/json"}
        )
    _too_large(response)
    assert await metric_value(system, "gateway", "qlcb_http_server_requests_total", labels) == counted_before + 1


async def test_identity_cuts_off_a_chunked_body_past_the_limit(system: System) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(TWO_MIB // 65536):
            yield b" " * 65536

    async with httpx.AsyncClient(base_url=system.services.identity_url, timeout=60) as identity:
        response = await identity.post(
            "/v1/delegations", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.request.headers["transfer-encoding"] == "chunked"
    _too_large(response)


def _successor(n: int) -> dict[str, str]:
    return {"code": f"CAP{n:03d}", "name": f"Đơn vị mới {n}", "kind": "sub_unit"}


def _random_ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/unit-mergers",
            {"source_unit_ids": _random_ids(MAX_MERGE_SOURCES + 1), "target_unit_id": str(uuid.uuid4())} | DECIDED,
            "source_unit_ids",
        ),
        (
            f"/v1/units/{uuid.uuid4()}/split",
            {"successors": [_successor(n) for n in range(MAX_SPLIT_SUCCESSORS + 1)]} | DECIDED,
            "successors",
        ),
    ],
    ids=["merger", "split"],
)
async def test_the_gateway_caps_the_lists_of_a_merger_and_a_split(
    system: System, path: str, body: dict[str, Any], field: str
) -> None:
    headers = {"Authorization": f"Bearer {system.token('quantri')}"}
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=headers, timeout=30) as api:
        response = await api.post(path, json=body)
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]


def _violated_fields(error: grpc.aio.AioRpcError) -> list[str]:
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
    details = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
    bad_request = error_details_pb2.BadRequest()
    assert status_pb2.Status.FromString(details).details[0].Unpack(bad_request)
    return [v.field for v in bad_request.field_violations]


async def test_personnel_caps_the_lists_before_loading_any_unit(system: System) -> None:
    """Unknown units everywhere: a check after loading would answer NOT_FOUND or name every id."""
    metadata = (("authorization", f"Bearer {system.token('quantri')}"),)
    merger = personnel_pb2.MergeUnitsRequest(
        source_unit_ids=_random_ids(MAX_MERGE_SOURCES + 1),
        target_unit_id=str(uuid.uuid4()),
        effective_date=DECIDED["effective_date"],
        decision=DECIDED["decision"],
    )
    split = personnel_pb2.SplitUnitRequest(
        unit_id=str(uuid.uuid4()),
        successors=[
            personnel_pb2.SplitSuccessor(code=f"CAP{n:03d}", name="Đơn vị mới", kind=personnel_pb2.UNIT_KIND_SUB_UNIT)
            for n in range(MAX_SPLIT_SUCCESSORS + 1)
        ],
        effective_date=DECIDED["effective_date"],
        decision=DECIDED["decision"],
    )
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        stub = personnel_pb2_grpc.PersonnelServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as merge_error:
            await stub.MergeUnits(merger, metadata=metadata, timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as split_error:
            await stub.SplitUnit(split, metadata=metadata, timeout=10)
    assert _violated_fields(merge_error.value) == ["source_unit_ids"]
    assert _violated_fields(split_error.value) == ["successors"]
