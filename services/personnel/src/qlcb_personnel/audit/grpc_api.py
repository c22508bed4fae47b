from __future__ import annotations

import json
from typing import Any

from qlcb.personnel.v1 import audit_pb2, audit_pb2_grpc
from qlcb_common.db import Database
from qlcb_common.grpc_interceptor import current_principal
from qlcb_personnel.audit import service
from qlcb_personnel.audit.published import PublishedHeads
from qlcb_personnel.audit.service import Found

Context = Any


def _to_proto(found: Found) -> audit_pb2.AuditEntry:
    entry = found.entry
    return audit_pb2.AuditEntry(
        id=entry.id,
        seq=entry.seq or 0,
        occurred_at=entry.occurred_at.isoformat(),
        transaction_id=entry.transaction_id,
        account=entry.account,
        tiers=[t for t in entry.tiers.split(",") if t],
        holder_name=found.holder_name,
        holder_personal_id=found.holder_personal_id,
        action=entry.action,
        target=entry.target,
        target_id=entry.target_id or "",
        person_id=entry.person_id or "",
        unit_path=entry.unit_path or "",
        details_json=json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
        hash=entry.hash or "",
    )


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, db: Database, heads: PublishedHeads) -> None:
        self._db = db
        self._heads = heads

    async def ListAuditEntries(
        self, request: audit_pb2.ListAuditEntriesRequest, context: Context
    ) -> audit_pb2.ListAuditEntriesResponse:
        criteria = service.Criteria(
            person_id=request.person_id,
            unit_id=request.unit_id,
            include_subtree=request.include_subtree,
            account=request.account,
            holder=request.holder,
            action=request.action,
            occurred_from=request.occurred_from,
            occurred_to=request.occurred_to,
            page=request.page or 1,
            page_size=request.page_size or 50,
        )
        async with self._db.unit_of_work() as session:
            found, total = await service.list_entries(session, actor=current_principal(), criteria=criteria)
        return audit_pb2.ListAuditEntriesResponse(entries=[_to_proto(f) for f in found], total=total)

    async def VerifyAuditChain(
        self, request: audit_pb2.VerifyAuditChainRequest, context: Context
    ) -> audit_pb2.VerifyAuditChainResponse:
        async with self._db.unit_of_work() as session:
            result = await service.verify(session, actor=current_principal(), published=self._heads.latest)
        return audit_pb2.VerifyAuditChainResponse(
            intact=result.intact,
            checked=result.checked,
            unsealed=result.unsealed,
            first_broken_seq=result.first_broken_seq or 0,
            first_broken_id=result.first_broken_id or "",
            reason=result.reason or "",
            head_hash=result.head_hash,
            published_seq=result.published_seq or 0,
            published_unreadable=result.published_unreadable or "",
        )
