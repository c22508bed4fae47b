"""The decision (quyết định) behind every dated change of a record or of the unit tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qlcb_common import personnel_rules as rules
from qlcb_common.errors import FieldViolation
from qlcb_common.text import control_violation


@dataclass(frozen=True)
class Decision:
    number: str  # số quyết định, e.g. "125/QĐ-TCHQ"
    effective: date


def parse_decision(effective_date: str, decision: str, violations: list[FieldViolation]) -> Decision | None:
    """The decision, or None with the reasons appended to `violations`."""
    before = len(violations)
    number = rules.decision_number(decision, violations)
    if refused := control_violation("effective_date", effective_date):
        violations.append(refused)
        return None
    effective = rules.iso_date(effective_date, violations, "effective_date", "Ngày hiệu lực phải theo dạng YYYY-MM-DD")
    return Decision(number, effective) if effective is not None and len(violations) == before else None
