"""Periods, assignments and transitions as their proto messages."""

from __future__ import annotations

import json
from datetime import date, datetime

from qlcb.reports.v1 import workflow_pb2
from qlcb_reports.audit.models import ReportTransition
from qlcb_reports.workflow.models import Assignment, ReportPeriod


def _at(value: datetime | date | None) -> str:
    return value.isoformat() if value is not None else ""


def period_to_proto(period: ReportPeriod) -> workflow_pb2.Period:
    return workflow_pb2.Period(
        id=period.id,
        regime_id=period.regime_id,
        key=period.key,
        starts_on=period.starts_on.isoformat(),
        ends_on=period.ends_on.isoformat(),
        deadline=period.deadline.isoformat(),
        template_version=period.template_version,
        opened_at=period.opened_at.isoformat(),
        opened_by=period.opened_by,
    )


def assignment_to_proto(assignment: Assignment, period_key: str, *, locked: bool) -> workflow_pb2.Assignment:
    return workflow_pb2.Assignment(
        id=assignment.id,
        period_id=assignment.period_id,
        regime_id=assignment.regime_id,
        period_key=period_key,
        unit_id=assignment.unit_id,
        unit_name=assignment.unit_name,
        unit_path=assignment.unit_path,
        parent_assignment_id=assignment.parent_id or "",
        approver_unit_id=assignment.approver_unit_id,
        state=assignment.state,
        deadline=assignment.deadline.isoformat(),
        template_version=assignment.template_version,
        indicator_codes=assignment.indicator_codes,
        values_json=json.dumps(assignment.values, ensure_ascii=False, sort_keys=True),
        version=assignment.version,
        first_submitted_at=_at(assignment.first_submitted_at),
        submitted_at=_at(assignment.submitted_at),
        submitted_by=assignment.submitted_by or "",
        prepared_by=assignment.prepared_by or [],
        approved_at=_at(assignment.approved_at),
        approved_by=assignment.approved_by or "",
        returned_reason=assignment.returned_reason or "",
        locked=locked,
        reopened_until=_at(assignment.reopened_until),
        sent_otherwise_on=_at(assignment.sent_otherwise_on),
    )


def transition_to_proto(row: ReportTransition, holder_name: str | None = None) -> workflow_pb2.Transition:
    return workflow_pb2.Transition(
        action=row.action,
        from_state=row.from_state,
        to_state=row.to_state,
        reason=row.reason,
        account=row.account,
        holder_name=holder_name or "",
        occurred_at=row.occurred_at.isoformat(),
        version=row.version,
    )
