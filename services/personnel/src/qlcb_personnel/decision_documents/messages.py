from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from qlcb.personnel.v1 import decision_pb2
from qlcb_personnel.decision_documents.models import DecisionDocument, DecisionItem

STATE = {
    "pending": decision_pb2.DECISION_STATE_PENDING,
    "applied": decision_pb2.DECISION_STATE_APPLIED,
    "failed": decision_pb2.DECISION_STATE_FAILED,
    "cancelled": decision_pb2.DECISION_STATE_CANCELLED,
}
STATE_NAME = {number: name for name, number in STATE.items()}


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _time(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def to_proto(document: DecisionDocument, items: Sequence[DecisionItem], people_total: int) -> decision_pb2.Decision:
    return decision_pb2.Decision(
        id=document.id,
        kind=document.kind,
        number=document.number,
        decision_date=_day(document.decision_date),
        effective_date=_day(document.effective_date),
        body=document.body,
        signer=document.signer,
        signer_post=document.signer_post,
        summary=document.summary,
        state=STATE[document.state],
        items=[
            decision_pb2.DecisionItem(
                person_id=item.person_id,
                values_json=json.dumps(item.values, ensure_ascii=False, sort_keys=True),
                valid_to=_day(item.valid_to),
                entry_id=item.entry_id or "",
            )
            for item in items
        ],
        people_total=people_total,
        version=document.version,
        created_by=document.created_by,
        created_at=_time(document.created_at),
        applied_at=_time(document.applied_at),
        failure=document.failure or "",
        cancelled_at=_time(document.cancelled_at),
        cancelled_by=document.cancelled_by or "",
        cancel_reason=document.cancel_reason or "",
        cancel_number=document.cancel_number or "",
    )
