from __future__ import annotations

from typing import Any

from qlcb.personnel.v1 import personnel_pb2, search_pb2, search_pb2_grpc
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.persons import messages
from qlcb_personnel.search import service
from qlcb_personnel.search.service import Found

Context = Any


class PersonSearchServicer(search_pb2_grpc.PersonSearchServiceServicer):
    def __init__(self, db: Database, delegations: DelegationCopy) -> None:
        self._db = db
        self._delegations = delegations

    async def SearchPersons(
        self, request: search_pb2.SearchPersonsRequest, context: Context
    ) -> search_pb2.SearchPersonsResponse:
        criteria = service.SearchRequest(
            q=request.q,
            personal_id=request.personal_id,
            staff_number=request.staff_number,
            unit_id=request.unit_id,
            include_subtree=request.include_subtree,
            status=request.status,
            rank=request.rank,
            rank_group=request.rank_group,
            post=request.post,
            qualification=request.qualification,
            political_theory=request.political_theory,
            evaluation_year=request.evaluation_year if request.HasField("evaluation_year") else None,
            evaluation_level=request.evaluation_level,
            sex=request.sex,
            ethnicity=request.ethnicity,
            party_member=request.party_member if request.HasField("party_member") else None,
            born_from=request.born_from,
            born_to=request.born_to,
            age_min=request.age_min if request.HasField("age_min") else None,
            age_max=request.age_max if request.HasField("age_max") else None,
            recruited_from=request.recruited_from,
            recruited_to=request.recruited_to,
            as_of=request.as_of,
            sort=request.sort,
            page=request.page,
            page_size=request.page_size,
        )
        async with self._db.unit_of_work() as session:
            actor = current_principal()
            page = await service.search(
                session,
                actor=actor,
                delegations=await self._delegations.for_caller(session, actor),
                request=criteria,
            )
        return search_pb2.SearchPersonsResponse(
            persons=[_message(found) for found in page.found],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
        )


def _message(found: Found) -> personnel_pb2.Person:
    person = messages.to_proto(found.person, found.status)
    person.unit_id = found.unit_id
    return person
