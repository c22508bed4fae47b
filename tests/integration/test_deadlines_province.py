"""A province's deadlines for entering data (issue 9 point 6, R-PER-4; QĐ 539/QĐ-UBND-HC Điều 9–10):
a personnel process set to the province rule (`QLCB_PERSONNEL_DEADLINE_RULE=province`, on the suite's
own store beside the Customs one) judges a new record by 30 calendar days and an update by 15, where
Customs gives 3 working days to both. The entries are dated well clear of either limit (and of any
holiday that could stretch one), so each is on time or late whatever day the suite runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import grpc
import pytest

from qlcb.personnel.v1 import deadlines_pb2, deadlines_pb2_grpc, record_pb2, record_pb2_grpc
from tests.support import System, api_client, person_body, running_beside, unique_code

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DECISION = record_pb2.RecordDecision(number="21/QĐ-UBND", date="2026-01-05", body="Ủy ban nhân dân tỉnh")


@pytest.fixture
def province_personnel(system: System, tmp_path: Path) -> Iterator[str]:
    """A second personnel process with the province rule; its gRPC address."""
    with running_beside(system, "personnel", {"QLCB_PERSONNEL_DEADLINE_RULE": "province"}, tmp_path) as target:
        yield target


def _item(section: str, values: dict[str, Any], day: str) -> record_pb2.RecordEntryItem:
    entry = record_pb2.RecordEntryInput(values_json=json.dumps(values), valid_from=day, decision=DECISION)
    return record_pb2.RecordEntryItem(section=section, input=entry)


async def test_a_province_gives_30_days_to_a_new_record_and_15_to_an_update(
    system: System, province_personnel: str
) -> None:
    today = datetime.now(VIETNAM).date()
    token = system.token("quantri")
    metadata = (("authorization", f"Bearer {token}"),)
    async with api_client(system.gateway_url, token) as api:
        body = {"code": unique_code("TINH"), "name": "Phòng Nội vụ thử hạn", "kind": "sub_unit"}
        body |= {"parent_id": system.unit_ids["HQHN"], "effective_date": "2020-01-01", "decision": "4/QĐ"}
        created = await api.post("/v1/units", json=body)
        assert created.status_code == 201, created.text
        unit = created.json()["id"]
        people = []
        for name in ("Hà Văn Kịp", "Hà Thị Muộn"):
            made = await api.post("/v1/persons", json=person_body(unit, name))
            assert made.status_code == 201, made.text
            people.append(made.json()["id"])
    # Their paper records were taken in 40 days ago: updates since then are measured.
    connection = await asyncpg.connect(system.postgres_dsn("personnel"))
    try:
        await connection.execute(
            "UPDATE persons SET created_at = created_at - interval '40 days' WHERE id = ANY($1::varchar[])", people
        )
    finally:
        await connection.close()

    def day(days_ago: int) -> str:
        return (today - timedelta(days=days_ago)).isoformat()

    recruited = {"body": "Ủy ban nhân dân tỉnh"}
    placed = {"unit_name": "Phòng Nội vụ", "post": "Chuyên viên"}
    timely, tardy = people
    batches = {
        # Recruited 20 days ago, placed 8 days ago: within 30 and 15 days, past Customs' 3 working days.
        timely: [_item("recruitment", recruited, day(20)), _item("placements", placed, day(8))],
        # Recruited 45 days ago, placed 25 days ago: past 30 and 15 days, however weekends fall.
        tardy: [_item("recruitment", recruited, day(45)), _item("placements", placed, day(25))],
    }
    async with grpc.aio.insecure_channel(province_personnel) as channel:
        records = record_pb2_grpc.PersonRecordServiceStub(channel)
        for person, items in batches.items():
            await records.AddRecordEntries(
                record_pb2.AddRecordEntriesRequest(person_id=person, entries=items), metadata=metadata, timeout=10
            )
        report = await deadlines_pb2_grpc.EntryDeadlineServiceStub(channel).GetLateEntries(
            deadlines_pb2.GetLateEntriesRequest(unit_id=unit, from_date=day(1), to_date=day(-1)),
            metadata=metadata,
            timeout=10,
        )
    assert report.rule == "province"
    assert {(x.kind, x.days, x.counting) for x in report.limits} == {
        ("new_record", 30, "calendar_days"),
        ("update", 15, "calendar_days"),
    }
    assert (report.total.entries, report.total.late) == (4, 2)
    late = {(e.person_id, e.section, e.kind, e.event_date) for e in report.late_entries}
    assert late == {(tardy, "recruitment", "new_record", day(45)), (tardy, "placements", "update", day(25))}
    # The deadline is kept with the entry: the Customs process reads the province's judgement.
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        kept = await api.get(f"/v1/units/{unit}/late-entries", params={"from": day(1), "to": day(-1)})
    assert kept.status_code == 200, kept.text
    assert (kept.json()["total"]["entries"], kept.json()["total"]["late"]) == (4, 2)
