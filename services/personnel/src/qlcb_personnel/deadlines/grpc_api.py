from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToDict

from qlcb.personnel.v1 import deadlines_pb2, deadlines_pb2_grpc
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.audit import trail
from qlcb_personnel.deadlines import service
from qlcb_personnel.deadlines.rules import RULES

Context = Any


class EntryDeadlineServicer(deadlines_pb2_grpc.EntryDeadlineServiceServicer):
    def __init__(self, db: Database, delegations: DelegationCopy) -> None:
        self._db = db
        self._delegations = delegations

    async def GetLateEntries(
        self, request: deadlines_pb2.GetLateEntriesRequest, context: Context
    ) -> deadlines_pb2.GetLateEntriesResponse:
        asked = service.ReportRequest(
            unit_id=request.unit_id,
            from_date=request.from_date,
            to_date=request.to_date,
            include_subtree=request.include_subtree,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        async with self._db.unit_of_work() as session:
            actor = current_principal()
            found = await service.report(
                session, actor=actor, delegations=await self._delegations.for_caller(session, actor), request=asked
            )
            await trail.note_list(
                session,
                what="late_entries",
                unit_id=request.unit_id,
                criteria=MessageToDict(request, preserving_proto_field_name=True),
                rows=len(found.late_entries),
            )
        return deadlines_pb2.GetLateEntriesResponse(
            rule=found.rule.value,
            limits=[
                deadlines_pb2.DeadlineLimit(
                    kind=kind.value, days=limit.days, counting=limit.counting, basis=limit.basis
                )
                for kind, limit in RULES[found.rule].items()
            ],
            units=[_timeliness(u.entries, u.late, u.unit_id, u.code, u.name) for u in found.units],
            total=_timeliness(found.entries, found.late),
            late_entries=[_late(e) for e in found.late_entries],
            next_page_token=found.next_page_token,
        )


def _timeliness(
    entries: int, late: int, unit_id: str = "", code: str = "", name: str = ""
) -> deadlines_pb2.EntryTimeliness:
    return deadlines_pb2.EntryTimeliness(
        unit_id=unit_id,
        unit_code=code,
        unit_name=name,
        entries=entries,
        late=late,
        late_rate=late / entries if entries else 0.0,
    )


def _late(found: service.LateEntry) -> deadlines_pb2.LateEntry:
    entry = found.entry
    return deadlines_pb2.LateEntry(
        entry_id=entry.entry_id,
        person_id=entry.person_id,
        person_name=found.person_name,
        unit_id=entry.unit_id,
        section=entry.section,
        kind=entry.kind,
        event_date=entry.event_date.isoformat(),
        deadline=entry.deadline.isoformat(),
        entered_at=entry.entered_at.isoformat(),
        entered_by=entry.entered_by,
        days_late=found.days_late(),
    )
