from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.personnel.v1 import decision_pb2, decision_pb2_grpc
from qlcb_common.authz import Delegation
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_common.errors import AlreadyExists, FieldViolation, InvalidArgument
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.decision_documents import messages, service
from qlcb_personnel.record import messages as record_messages

Context = Any


def _items(request: decision_pb2.CreateDecisionRequest) -> list[service.ItemInput]:
    items = []
    violations: list[FieldViolation] = []
    for index, item in enumerate(request.items):
        try:
            values = json.loads(item.values_json or "{}")
        except json.JSONDecodeError as exc:
            violations.append(FieldViolation(f"items[{index}].values", f"không phải JSON: {exc.msg}"))
            continue
        if not isinstance(values, dict):
            violations.append(FieldViolation(f"items[{index}].values", "phải là một đối tượng JSON"))
            continue
        items.append(service.ItemInput(person_id=item.person_id, values=values, valid_to=item.valid_to))
    if violations:
        raise InvalidArgument(violations)
    return items


class DecisionServicer(decision_pb2_grpc.DecisionServiceServicer):
    def __init__(self, db: Database, outbox: Outbox, delegations: DelegationCopy) -> None:
        self._db = db
        self._outbox = outbox
        self._delegations = delegations

    async def _granted(self, session: AsyncSession) -> list[Delegation]:
        return await self._delegations.for_caller(session, current_principal())

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """A unit of work whose race on a decision's number and date surfaces as ALREADY_EXISTS."""
        try:
            async with self._db.unit_of_work() as session:
                yield session
        except IntegrityError as exc:
            raise AlreadyExists("number: một quyết định cùng số và ngày vừa được ghi nhận") from exc

    async def CreateDecision(
        self, request: decision_pb2.CreateDecisionRequest, context: Context
    ) -> decision_pb2.CreateDecisionResponse:
        data = service.DecisionInput(
            kind=request.kind,
            number=request.number,
            decision_date=request.decision_date,
            effective_date=request.effective_date,
            body=request.body,
            signer=request.signer,
            signer_post=request.signer_post,
            summary=request.summary,
            items=_items(request),
        )
        async with self._write() as session:
            document, items = await service.create(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                data=data,
                today=vietnam_today(),
            )
        return decision_pb2.CreateDecisionResponse(decision=messages.to_proto(document, items, len(items)))

    async def GetDecision(
        self, request: decision_pb2.GetDecisionRequest, context: Context
    ) -> decision_pb2.GetDecisionResponse:
        async with self._db.unit_of_work() as session:
            document, items, total = await service.get(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                decision_id=request.decision_id,
            )
        return decision_pb2.GetDecisionResponse(decision=messages.to_proto(document, items, total))

    async def ListDecisions(
        self, request: decision_pb2.ListDecisionsRequest, context: Context
    ) -> decision_pb2.ListDecisionsResponse:
        async with self._db.unit_of_work() as session:
            found = await service.list_decisions(
                session,
                actor=current_principal(),
                delegations=await self._granted(session),
                person_id=request.person_id,
                unit_id=request.unit_id,
                include_subtree=request.include_subtree,
                state=messages.STATE_NAME.get(request.state, ""),
                kind=request.kind,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return decision_pb2.ListDecisionsResponse(
            decisions=[messages.to_proto(document, items, total) for document, items, total in found.found],
            next_page_token=found.next_page_token,
        )

    async def CancelDecision(
        self, request: decision_pb2.CancelDecisionRequest, context: Context
    ) -> decision_pb2.CancelDecisionResponse:
        async with self._db.unit_of_work() as session:
            document, items, reversed_entries = await service.cancel(
                session,
                outbox=self._outbox,
                actor=current_principal(),
                delegations=await self._granted(session),
                decision_id=request.decision_id,
                expected_version=request.expected_version,
                reason=request.reason,
                cancel_number=request.cancel_number,
            )
            total = len(await service.items_of(session, document.id))
        return decision_pb2.CancelDecisionResponse(
            decision=messages.to_proto(document, items, total),
            reversed=[record_messages.to_proto(e) for e in reversed_entries],
        )
