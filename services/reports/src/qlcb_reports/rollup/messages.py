"""Deliveries and records of reports sent outside the system as their proto messages."""

from __future__ import annotations

from datetime import datetime

from qlcb.reports.v1 import rollup_pb2
from qlcb_reports.rollup.models import RollupDelivery, SentOutside


def _at(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def sent_outside_to_proto(row: SentOutside) -> rollup_pb2.SentOutside:
    return rollup_pb2.SentOutside(
        assignment_id=row.assignment_id,
        sent_on=row.sent_on.isoformat(),
        channel=row.channel,
        reference=row.reference,
        note=row.note,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at.isoformat(),
    )


def delivery_to_proto(row: RollupDelivery, outside: SentOutside | None = None) -> rollup_pb2.Delivery:
    return rollup_pb2.Delivery(
        id=row.id,
        assignment_id=row.assignment_id,
        report_version=row.report_version,
        regime_id=row.regime_id,
        regime_code=row.regime_code,
        period_id=row.period_id,
        period_key=row.period_key,
        unit_id=row.unit_id,
        unit_name=row.unit_name,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=_at(row.next_attempt_at),
        last_error=row.last_error or "",
        last_status=row.last_status or 0,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at.isoformat(),
        acknowledged_at=_at(row.acknowledged_at),
        sent_outside=sent_outside_to_proto(outside) if outside is not None else None,
    )
