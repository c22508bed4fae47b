"""Several entries of a record at once (`POST /v1/persons/{id}/record`, a record taken in from
paper): recorded in the order given, each checked and authorised as when recorded alone, all or
nothing, a refusal naming the entry; the events follow as for single entries."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import asyncpg
import grpc
import httpx
import pytest

from qlcb.personnel.v1 import record_pb2, record_pb2_grpc
from qlcb_common.events import subjects
from qlcb_common.record_sections import MAX_ENTRIES_AT_ONCE
from qlcb_devstack import demo, records
from tests.support import System, api_client, eventually, person_body

DECISION = {"number": "27/QĐ-HQHN", "date": "2009-12-20", "body": "Cục Hải quan TP Hà Nội"}


def _salary(step: int, coefficient: str, since: str) -> dict[str, Any]:
    return {
        "section": "salary",
        "values": {"rank_code": "08.051", "step": step, "coefficient": coefficient},
        "valid_from": since,
        "decision": DECISION,
    }


def _placement(since: str, until: str | None = None) -> dict[str, Any]:
    return {
        "section": "placements",
        "values": {"unit_name": "Chi cục Hải quan Nội Bài", "post": "Công chức"},
        "valid_from": since,
        "valid_to": until,
    }


async def _person(
    api: httpx.AsyncClient, system: System, name: str, unit: str = "HQHN-NB", born: str = "1985-03-14"
) -> str:
    created = await api.post("/v1/persons", json=person_body(system.unit_ids[unit], name, born=born))
    assert created.status_code == 201, created.text
    person_id: str = created.json()["id"]
    return person_id


async def _entries(api: httpx.AsyncClient, person: str) -> dict[str, list[dict[str, Any]]]:
    record = await api.get(f"/v1/persons/{person}/record")
    assert record.status_code == 200, record.text
    sections: dict[str, list[dict[str, Any]]] = record.json()["sections"]
    return {name: entries for name, entries in sections.items() if entries}


async def test_a_whole_record_is_recorded_in_order_and_each_change_is_an_event(system: System) -> None:
    person_of_demo = demo.personnel(1)[0]
    generated = [{"section": e.section, **e.body} for e in records.sections(person_of_demo)]
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Lò Văn Nhập", born=person_of_demo.date_of_birth.isoformat())
        before = await _record_events(system)
        recorded = await api.post(f"/v1/persons/{person}/record", json={"entries": generated})
        assert recorded.status_code == 201, recorded.text
        entries = recorded.json()["entries"]
        assert [e["section"] for e in entries] == [e["section"] for e in generated]
        assert all((e["version"], e["change"]) == (1, "recorded") for e in entries)

        # The salary steps were recorded one after the other: each closed by the next.
        salary = (await api.get(f"/v1/persons/{person}/salary")).json()
        steps = [s for s in generated if s["section"] == "salary"]
        assert [e["valid_from"] for e in salary] == [s["valid_from"] for s in steps]
        assert [e["change"] for e in salary] == ["closed"] * (len(steps) - 1) + ["recorded"]
        assert all(a["valid_to"] < b["valid_from"] for a, b in pairwise(salary))
        whole = await _entries(api, person)
        assert sum(len(e) for e in whole.values()) == len(generated)

    # One event for each version written: every entry, and every step closed by its successor.
    await eventually(
        lambda: _record_events(system),
        lambda n: n >= before + len(generated) + len(steps) - 1,
        timeout=30,
        what="the record's events in personnel's outbox",
    )


async def _record_events(system: System) -> int:
    connection = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM outbox WHERE subject = $1", subjects.PERSONNEL_RECORD_CHANGED
        )
    finally:
        await connection.close()
    return int(count)


@pytest.mark.parametrize(
    ("entries", "status", "named"),
    [
        # The third entry's coefficient is not the grid's for its step.
        (
            [_placement("2010-01-01"), _salary(1, "2.34", "2010-01-01"), _salary(2, "2.99", "2013-01-01")],
            422,
            "entries[2].values.coefficient",
        ),
        # The second period overlaps the first, which the batch itself recorded.
        (
            [_placement("2010-01-01", "2014-12-31"), _placement("2014-01-01", "2016-12-31")],
            409,
            "entries[1].valid_from",
        ),
        # A decision is required for a salary step.
        ([_placement("2010-01-01"), _salary(1, "2.34", "2010-01-01") | {"decision": {}}], 422, "entries[1].decision"),
    ],
    ids=["coefficient", "overlap", "decision"],
)
async def test_one_refused_entry_refuses_them_all_naming_it(
    system: System, entries: list[dict[str, Any]], status: int, named: str
) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Lò Văn Trả")
        refused = await api.post(f"/v1/persons/{person}/record", json={"entries": entries})
        assert refused.status_code == status, refused.text
        assert named in refused.text
        assert await _entries(api, person) == {}, "nothing of the batch was recorded"


async def test_the_batch_is_authorised_section_by_section_in_the_callers_scope(system: System) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as admin:
        person = await _person(admin, system, "Lò Thị Quyền")
    elsewhere = await _admin_person(system, "HQHCM", "Lò Văn Xa")
    async with api_client(system.gateway_url, system.token("nhansu1.hanoi")) as officer:
        # Hà Nội's officer was granted identity and work history: placements, not salary.
        mixed = await officer.post(
            f"/v1/persons/{person}/record",
            json={"entries": [_placement("2010-01-01"), _salary(1, "2.34", "2010-01-01")]},
        )
        assert mixed.status_code == 403, mixed.text
        assert await _entries(officer, person) == {}, "nothing was recorded"
        granted = await officer.post(f"/v1/persons/{person}/record", json={"entries": [_placement("2010-01-01")]})
        assert granted.status_code == 201, granted.text
        outside = await officer.post(f"/v1/persons/{elsewhere}/record", json={"entries": [_placement("2010-01-01")]})
        assert outside.status_code == 404, "a record outside the officer's subtree is not found"


async def _admin_person(system: System, unit: str, name: str) -> str:
    async with api_client(system.gateway_url, system.token("quantri")) as sector:
        return await _person(sector, system, name, unit)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entries": []}, "entries"),
        ({"entries": [_placement("2010-01-01")] * (MAX_ENTRIES_AT_ONCE + 1)}, "entries"),
        ({"entries": [{"section": "no_such_section", "values": {}}]}, "section"),
        ({"entries": [_placement("2010-01-01") | {"section": "salary"}]}, "rank_code"),
    ],
    ids=["empty", "too-many", "unknown-section", "values-of-another-section"],
)
async def test_a_malformed_batch_is_refused_before_it_reaches_the_record(
    system: System, body: dict[str, Any], field: str
) -> None:
    async with api_client(system.gateway_url, system.token("qthanoi")) as api:
        person = await _person(api, system, "Lò Văn Khuôn")
        refused = await api.post(f"/v1/persons/{person}/record", json=body)
        assert refused.status_code == 422, refused.text
        assert field in refused.text
        assert await _entries(api, person) == {}


def _item(
    section: str, values_json: str = '{"unit_name": "Chi cục", "post": "Công chức"}'
) -> record_pb2.RecordEntryItem:
    return record_pb2.RecordEntryItem(
        section=section, input=record_pb2.RecordEntryInput(values_json=values_json, valid_from="2010-01-01")
    )


@pytest.mark.parametrize(
    ("entries", "field"),
    [
        ([], "entries"),
        ([_item("placements")] * (MAX_ENTRIES_AT_ONCE + 1), "entries"),
        ([_item("placements"), _item("no_such_section")], "entries[1].section"),
        ([_item("placements"), _item("placements", "[1, 2]")], "entries[1].values"),
    ],
    ids=["empty", "too-many", "unknown-section", "values-not-an-object"],
)
async def test_personnel_refuses_a_malformed_batch_itself(
    system: System, entries: list[record_pb2.RecordEntryItem], field: str
) -> None:
    """What the gateway's schema stops, personnel's gRPC API refuses too, naming the field."""
    token = system.token("qthanoi")
    async with api_client(system.gateway_url, token) as api:
        person = await _person(api, system, "Lò Văn Gốc")
    async with grpc.aio.insecure_channel(system.services.personnel_target) as channel:
        call = record_pb2_grpc.PersonRecordServiceStub(channel).AddRecordEntries(
            record_pb2.AddRecordEntriesRequest(person_id=person, entries=entries),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field in (refused.value.details() or "")
