"""The decision (quyết định) behind every dated change of a record or of the unit tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qlcb_common.errors import FieldViolation
from qlcb_common.text import clean, control_violation

MAX_DECISION = 100


@dataclass(frozen=True)
class Decision:
    number: str  # số quyết định, e.g. "125/QĐ-TCHQ"
    effective: date


def parse_decision(effective_date: str, decision: str, violations: list[FieldViolation]) -> Decision | None:
    """The decision, or None with the reasons appended to `violations`."""
    number = clean(decision)
    valid = True
    if refused := control_violation("decision", decision):
        violations.append(refused)
        valid = False
    elif not number or len(number) > MAX_DECISION:
        violations.append(FieldViolation("decision", f"Số quyết định: 1–{MAX_DECISION} ký tự"))
        valid = False
    if refused := control_violation("effective_date", effective_date):
        violations.append(refused)
        return None
    try:
        effective = date.fromisoformat(effective_date.strip())
    except ValueError:
        violations.append(FieldViolation("effective_date", "Ngày hiệu lực phải theo dạng YYYY-MM-DD"))
        return None
    return Decision(number, effective) if valid else None
