from __future__ import annotations

from datetime import date
from typing import Any

from qlcb.personnel.v1 import resume_pb2, resume_pb2_grpc
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.record.grpc_api import parse_as_of
from qlcb_personnel.resume import service
from qlcb_personnel.resume.form import Item

Context = Any


class ResumeServicer(resume_pb2_grpc.ResumeServiceServicer):
    def __init__(self, db: Database, delegations: DelegationCopy) -> None:
        self._db = db
        self._delegations = delegations

    async def GetResume(self, request: resume_pb2.GetResumeRequest, context: Context) -> resume_pb2.GetResumeResponse:
        as_of = parse_as_of(request.as_of) or date.today()
        async with self._db.unit_of_work() as session:
            drawn = await service.resume_of(
                session,
                actor=current_principal(),
                delegations=await self._delegations.for_caller(session, current_principal()),
                person_id=request.person_id,
                as_of=as_of,
            )
        person = drawn.person
        return resume_pb2.GetResumeResponse(
            resume=resume_pb2.Resume(
                person_id=person.id,
                managing_body=drawn.managing_body,
                employing_unit=drawn.employing_unit,
                staff_number=person.staff_number,
                full_name=person.full_name,
                as_of=drawn.as_of.isoformat(),
                items=[_item(i) for i in drawn.items],
            )
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
