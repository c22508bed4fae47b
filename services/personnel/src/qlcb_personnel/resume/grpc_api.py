from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from qlcb.personnel.v1 import resume_pb2, resume_pb2_grpc
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.record.grpc_api import parse_as_of
from qlcb_personnel.resume import service
from qlcb_personnel.resume.form import Item

Context = Any
BATCH_CHUNK = 20
"""Resumes of a batch drawn in one unit of work, and sent once it has committed."""


class ResumeServicer(resume_pb2_grpc.ResumeServiceServicer):
    def __init__(self, db: Database, delegations: DelegationCopy) -> None:
        self._db = db
        self._delegations = delegations

    async def GetResume(self, request: resume_pb2.GetResumeRequest, context: Context) -> resume_pb2.GetResumeResponse:
        as_of = parse_as_of(request.as_of) or vietnam_today()
        async with self._db.unit_of_work() as session:
            drawn = await service.resume_of(
                session,
                actor=current_principal(),
                delegations=await self._delegations.for_caller(session, current_principal()),
                person_id=request.person_id,
                as_of=as_of,
            )
        return resume_pb2.GetResumeResponse(resume=_resume(drawn))

    async def GetUnitResumes(
        self, request: resume_pb2.GetUnitResumesRequest, context: Context
    ) -> AsyncIterator[resume_pb2.GetUnitResumesResponse]:
        """The batch noted in a unit of work of its own, committed before any resume is sent; then the
        resumes a few at a time, each few's reads committed before they are sent, so that whatever
        was sent is on record, however the call ends."""
        as_of = parse_as_of(request.as_of) or vietnam_today()
        actor = current_principal()
        async with self._db.unit_of_work() as session:
            delegations = await self._delegations.for_caller(session, actor)
            batch = await service.unit_batch(
                session,
                actor=actor,
                delegations=delegations,
                unit_id=request.unit_id,
                include_subtree=request.include_subtree,
                as_of=as_of,
                format=request.format,
                max_people=request.max_people,
            )
        total = len(batch.person_ids)
        for start in range(0, total, BATCH_CHUNK):
            async with self._db.unit_of_work() as session:
                drawn = [
                    await service.resume_of(
                        session,
                        actor=actor,
                        delegations=delegations,
                        person_id=person_id,
                        as_of=as_of,
                        batch_id=batch.id,
                    )
                    for person_id in batch.person_ids[start : start + BATCH_CHUNK]
                ]
            for one in drawn:
                yield resume_pb2.GetUnitResumesResponse(resume=_resume(one), total=total)


def _resume(drawn: service.Resume) -> resume_pb2.Resume:
    person = drawn.person
    return resume_pb2.Resume(
        person_id=person.id,
        managing_body=drawn.managing_body,
        employing_unit=drawn.employing_unit,
        staff_number=person.staff_number,
        full_name=person.full_name,
        as_of=drawn.as_of.isoformat(),
        items=[_item(i) for i in drawn.items],
    )


def _item(item: Item) -> resume_pb2.ResumeItem:
    return resume_pb2.ResumeItem(
        number=item.number,
        label=item.label,
        text=item.text,
        columns=item.columns,
        rows=[resume_pb2.ResumeRow(cells=row) for row in item.rows],
        withheld=item.withheld,
    )
