"""The JSON body the national report system receives for one approved report (its contract with
this sector's system): what the report is (regime, period, template version, unit), what was
approved (the values with the indicators they answer), when and by whom, and the idempotency key
the receiver deduplicates on, which is also sent as the `Idempotency-Key` header."""

from __future__ import annotations

from typing import Any

from qlcb_reports.regimes.models import ReportRegime, TemplateVersion
from qlcb_reports.workflow.models import Assignment, ReportPeriod

SCHEMA = "qlcb.reports.rollup/v1"


def idempotency_key(assignment_id: str, version: int) -> str:
    """Stable per report and version: a resend of one version is the same delivery to the receiver,
    a correction (the report reopened and approved again) a new one."""
    return f"qlcb-rollup-{assignment_id}-v{version}"


def body(
    assignment: Assignment, regime: ReportRegime, period: ReportPeriod, template: TemplateVersion
) -> dict[str, Any]:
    asked = set(assignment.indicator_codes)
    assert assignment.approved_at is not None
    return {
        "schema": SCHEMA,
        "idempotency_key": idempotency_key(assignment.id, assignment.version),
        "regime": {
            "id": regime.id,
            "code": regime.code,
            "name": regime.name,
            "kind": regime.kind,
            "legal_basis": regime.legal_basis,
        },
        "period": {
            "id": period.id,
            "key": period.key,
            "starts_on": period.starts_on.isoformat(),
            "ends_on": period.ends_on.isoformat(),
            "deadline": period.deadline.isoformat(),
        },
        "template_version": assignment.template_version,
        "unit": {"id": assignment.unit_id, "name": assignment.unit_name, "path": assignment.unit_path},
        "report": {"id": assignment.id, "version": assignment.version},
        "indicators": [i for i in template.indicators if not asked or i["code"] in asked],
        "values": assignment.values,
        "approved_at": assignment.approved_at.isoformat(),
        "approved_by": assignment.approved_by,
    }
