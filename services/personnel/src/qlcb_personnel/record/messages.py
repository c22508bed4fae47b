from __future__ import annotations

import json
from datetime import date, datetime

from qlcb.personnel.v1 import record_pb2
from qlcb_personnel.record.models import EntryView


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _time(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def to_proto(entry: EntryView) -> record_pb2.RecordEntry:
    return record_pb2.RecordEntry(
        id=entry.id,
        entry_id=entry.entry_id,
        version=entry.version,
        section=entry.section,
        valid_from=_day(entry.valid_from),
        valid_to=_day(entry.valid_to),
        values_json=json.dumps(entry.values, ensure_ascii=False, sort_keys=True),
        decision=record_pb2.RecordDecision(
            number=entry.decision_number or "",
            date=_day(entry.decision_date),
            body=entry.decision_body or "",
            signer=entry.decision_signer or "",
            signer_post=entry.decision_signer_post or "",
        ),
        change=entry.change,
        recorded_at=_time(entry.recorded_at),
        recorded_by=entry.recorded_by,
        superseded_at=_time(entry.superseded_at),
        decision_id=entry.decision_id or "",
    )
