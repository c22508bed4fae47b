"""What personnel's API accepts in a person, a unit and a decision, field by field.

Personnel checks its requests with these, and every consumer of its events checks each event
against them again (`events.contracts`), so an event that personnel's API could not have
produced is refused with the same words. Each check appends a violation naming `field` and
returns the value as personnel stores it (trimmed, NFC, codes upper case).
"""

from __future__ import annotations

import re
from datetime import date

from qlcb.personnel.v1 import personnel_pb2
from qlcb_common.errors import FieldViolation
from qlcb_common.identifiers import PERSONAL_ID, STAFF_NUMBER, UNIT_CODE
from qlcb_common.text import clean, control_violation

SEXES = ("SEX_MALE", "SEX_FEMALE")
UNIT_KINDS = frozenset(personnel_pb2.UnitKind.keys()) - {"UNIT_KIND_UNSPECIFIED"}
MAX_FULL_NAME = 150
MAX_UNIT_NAME = 255
MAX_DECISION = 100
CATALOG_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
CATALOG_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,31}", re.ASCII)
MAX_CATALOG_LABEL = 255
MAX_CATALOG_GROUP = 32
MAX_LEGAL_BASIS = 1000
QUOTA_YEARS = (1990, 2100)
"""The calendar years a staffing quota (biên chế) may be set for."""
MAX_QUOTA = 1_000_000
"""More positions than any one unit's quota could hold: above it is a typing error."""


def personal_id(value: str, violations: list[FieldViolation], field: str = "personal_id") -> str:
    if refused := control_violation(field, value):
        violations.append(refused)
    elif not PERSONAL_ID.fullmatch(value.strip()):
        violations.append(FieldViolation(field, "Số định danh cá nhân phải gồm đúng 12 chữ số 0–9"))
    return value.strip()


def staff_number(value: str, violations: list[FieldViolation], field: str = "staff_number") -> str:
    if refused := control_violation(field, value):
        violations.append(refused)
    elif not STAFF_NUMBER.fullmatch(value.strip()):
        violations.append(FieldViolation(field, "Số hiệu cán bộ: 1–20 ký tự A–Z, a–z, 0–9, '.', '-', '/'"))
    return value.strip()


def full_name(value: str, violations: list[FieldViolation], field: str = "full_name") -> str:
    cleaned = clean(value)
    if refused := control_violation(field, value):
        violations.append(refused)
    elif not cleaned:
        violations.append(FieldViolation(field, "Họ và tên không được để trống"))
    elif len(cleaned) > MAX_FULL_NAME:
        violations.append(FieldViolation(field, f"Họ và tên dài quá {MAX_FULL_NAME} ký tự"))
    return cleaned


def unit_code(value: str, violations: list[FieldViolation], field: str = "code") -> str:
    stripped = value.strip()
    if refused := control_violation(field, value):
        violations.append(refused)
    elif not UNIT_CODE.fullmatch(stripped):
        violations.append(FieldViolation(field, "2–32 ký tự: chữ A–Z (lưu chữ in hoa), số 0–9, '-' hoặc '_'"))
    return stripped.upper()


def unit_name(value: str, violations: list[FieldViolation], field: str = "name") -> str:
    cleaned = clean(value)
    if refused := control_violation(field, value):
        violations.append(refused)
    elif not cleaned:
        violations.append(FieldViolation(field, "Tên đơn vị không được để trống"))
    elif len(cleaned) > MAX_UNIT_NAME:
        violations.append(FieldViolation(field, f"Tên đơn vị dài quá {MAX_UNIT_NAME} ký tự"))
    return cleaned


def unit_kind(value: str, violations: list[FieldViolation], field: str = "kind") -> str:
    if value not in UNIT_KINDS:
        violations.append(FieldViolation(field, f"Loại đơn vị phải là một trong {sorted(UNIT_KINDS)}"))
    return value


def sex(value: str, violations: list[FieldViolation], field: str = "sex") -> str:
    if value not in SEXES:
        violations.append(FieldViolation(field, "Giới tính phải là SEX_MALE hoặc SEX_FEMALE"))
    return value


def decision_number(value: str, violations: list[FieldViolation], field: str = "decision") -> str:
    """Số quyết định, e.g. "125/QĐ-TCHQ"."""
    number = clean(value)
    if refused := control_violation(field, value):
        violations.append(refused)
    elif not number or len(number) > MAX_DECISION:
        violations.append(FieldViolation(field, f"Số quyết định: 1–{MAX_DECISION} ký tự"))
    return number


def quota_year(value: int, violations: list[FieldViolation], field: str = "year") -> int:
    """The calendar year of a staffing quota."""
    low, high = QUOTA_YEARS
    if not low <= value <= high:
        violations.append(FieldViolation(field, f"Năm phải từ {low} đến {high}"))
    return value


def quota(value: int, violations: list[FieldViolation], field: str = "quota") -> int:
    """A number of civil-servant positions (biên chế)."""
    if not 0 <= value <= MAX_QUOTA:
        violations.append(FieldViolation(field, f"Biên chế phải là số nguyên từ 0 đến {MAX_QUOTA:,}".replace(",", ".")))
    return value


def catalog_code(value: str, violations: list[FieldViolation], field: str = "code") -> str:
    """A catalog value's code, e.g. "08.051" or "KHIEN_TRACH", kept upper case."""
    code = value.strip().upper()
    if not CATALOG_CODE.fullmatch(code):
        violations.append(FieldViolation(field, "1–32 ký tự A–Z, 0–9, '.', '_', '-'"))
    return code


def iso_date(value: str, violations: list[FieldViolation], field: str, message: str) -> date | None:
    """The date `value` writes as YYYY-MM-DD, or None with `message` for `field`."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        violations.append(FieldViolation(field, message))
        return None


def short_text(
    value: str, field: str, limit: int, violations: list[FieldViolation], *, required: bool = False
) -> str | None:
    """One line of text as stored (NFC, trimmed, spaces collapsed), None when empty or refused."""
    if refused := control_violation(field, value):
        violations.append(refused)
        return None
    text = clean(value)
    if required and not text:
        violations.append(FieldViolation(field, "bắt buộc"))
    elif len(text) > limit:
        violations.append(FieldViolation(field, f"dài quá {limit} ký tự"))
        return None
    return text or None
