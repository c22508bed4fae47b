"""Two edits of one entry through personnel's gRPC API (issue 8.7): the version a correction or a
retraction names must be the entry's latest, else the call is ABORTED naming the versions, and
nothing is written; the REST edge's 412 is this status carried over."""

from __future__ import annotations

import json

import grpc
import pytest

from qlcb.personnel.v1 import record_pb2, record_pb2_grpc
from tests.support import System, api_client, person_body

PLACEMENT = {"unit_name": "Chi cục Hải quan Nội Bài", "post": "Công chức"}


async def test_a_stale_version_over_grpc_is_aborted_and_writes_nothing(system: System) -> None:
    token = system.token("qthanoi")
    async with api_client(system.gateway_url, token) as api:
        created = await api.post("/v1/persons", json=person_body(system.unit_ids["HQHN-NB"], "Lò Văn Phiên Bản"))
        assert created.status_code == 201, created.text
        person = created.json()["id"]
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        records = record_pb2_grpc.PersonRecordServiceStub(channel)

        def placed(post: str) -> record_pb2.RecordEntryInput:
            return record_pb2.RecordEntryInput(
                values_json=json.dumps(PLACEMENT | {"post": post}), valid_from="2015-01-01"
            )

        added = await records.AddRecordEntry(
            record_pb2.AddRecordEntryRequest(person_id=person, section="placements", input=placed("Công chức")),
            metadata=metadata,
            timeout=10,
        )
        entry = added.entry.entry_id
        # Two clerks opened version 1; the first one's correction wins.
        first = await records.CorrectRecordEntry(
            record_pb2.CorrectRecordEntryRequest(
                person_id=person,
                section="placements",
                entry_id=entry,
                expected_version=1,
                input=placed("Kiểm tra viên"),
            ),
            metadata=metadata,
            timeout=10,
        )
        assert (first.entry.version, first.entry.change) == (2, "corrected")
        second = record_pb2.CorrectRecordEntryRequest(
            person_id=person, section="placements", entry_id=entry, expected_version=1, input=placed("Chuyên viên")
        )
        with pytest.raises(grpc.aio.AioRpcError) as stale:
            await records.CorrectRecordEntry(second, metadata=metadata, timeout=10)
        assert stale.value.code() is grpc.StatusCode.ABORTED
        assert "2" in (stale.value.details() or ""), stale.value.details()
        retraction = record_pb2.RetractRecordEntryRequest(
            person_id=person, section="placements", entry_id=entry, expected_version=1
        )
        with pytest.raises(grpc.aio.AioRpcError) as stale_retraction:
            await records.RetractRecordEntry(retraction, metadata=metadata, timeout=10)
        assert stale_retraction.value.code() is grpc.StatusCode.ABORTED

        versions = await records.ListRecordEntryVersions(
            record_pb2.ListRecordEntryVersionsRequest(person_id=person, section="placements", entry_id=entry),
            metadata=metadata,
            timeout=10,
        )
    held = [(v.version, json.loads(v.values_json)["post"]) for v in versions.entries]
    assert held == [(1, "Công chức"), (2, "Kiểm tra viên")], "the stale edits wrote nothing"
