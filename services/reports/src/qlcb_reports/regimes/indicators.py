"""A template's indicators (chỉ tiêu) and the rules their values must pass.

Both are checked here, without the database: a template as the issuer defines it (codes, kinds,
bounds, the columns of a table), and a report's values against the template version its period
was opened with. Every fault names its place: `indicators[2].max` in a template,
`values.so_bien_che`, `values.bang_ke[3].ho_ten` (a table's row, numbered from 1 as the form shows it, and column)
in a report."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qlcb_common.errors import FieldViolation, InvalidArgument
from qlcb_common.text import control_violation

KINDS = ("number", "percent", "text", "table")
CELL_KINDS = ("number", "percent", "text")
CODE = re.compile(r"[a-z][a-z0-9_]{0,63}", re.ASCII)
MAX_INDICATORS = 200
MAX_COLUMNS = 50
MAX_LABEL = 500
MAX_UNIT = 50
DEFAULT_MAX_LENGTH = 2000
LONGEST_TEXT = 20_000
DEFAULT_MAX_ROWS = 1000
MOST_ROWS = 10_000
LARGEST = 1e15
"""Numbers beyond ±10^15 are not counts of anything a unit reports, and lose whole-number precision."""


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    kind: str
    unit: str = ""
    required: bool = False
    min: float | None = None
    max: float | None = None
    integer: bool = False
    max_length: int = 0
    columns: tuple[Indicator, ...] = field(default_factory=tuple)
    max_rows: int = 0

    def as_json(self) -> dict[str, Any]:
        """As the template row stores it."""
        stored: dict[str, Any] = {"code": self.code, "label": self.label, "kind": self.kind}
        for name in ("unit", "required", "min", "max", "integer", "max_length", "max_rows"):
            value = getattr(self, name)
            if value not in ("", False, None, 0) or (name in ("min", "max") and value == 0):
                stored[name] = value
        if self.columns:
            stored["columns"] = [c.as_json() for c in self.columns]
        return stored

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Indicator:
        return cls(
            code=stored["code"],
            label=stored["label"],
            kind=stored["kind"],
            unit=stored.get("unit", ""),
            required=stored.get("required", False),
            min=stored.get("min"),
            max=stored.get("max"),
            integer=stored.get("integer", False),
            max_length=stored.get("max_length", 0),
            columns=tuple(cls.from_json(c) for c in stored.get("columns", ())),
            max_rows=stored.get("max_rows", 0),
        )

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The bounds a value is held to: a percent is within 0–100 unless narrowed."""
        if self.kind == "percent":
            return (0.0 if self.min is None else self.min, 100.0 if self.max is None else self.max)
        return self.min, self.max


def _text(value: str, where: str, limit: int, found: list[FieldViolation], *, required: bool) -> str:
    if refused := control_violation(where, value):
        found.append(refused)
        return value
    cleaned = " ".join(unicodedata.normalize("NFC", value).split())
    if required and not cleaned:
        found.append(FieldViolation(where, "bắt buộc"))
    elif len(cleaned) > limit:
        found.append(FieldViolation(where, f"dài quá {limit} ký tự"))
    return cleaned


def check_template(indicators: Sequence[Indicator], field_name: str = "indicators") -> list[Indicator]:
    """The indicators as stored (labels in NFC); InvalidArgument naming every fault."""
    found = template_violations(indicators, field_name)
    if found:
        raise InvalidArgument(found)
    return [_cleaned(i) for i in indicators]


def _cleaned(indicator: Indicator) -> Indicator:
    return Indicator(
        code=indicator.code,
        label=" ".join(unicodedata.normalize("NFC", indicator.label).split()),
        kind=indicator.kind,
        unit=" ".join(unicodedata.normalize("NFC", indicator.unit).split()),
        required=indicator.required,
        min=indicator.min,
        max=indicator.max,
        integer=indicator.integer,
        max_length=indicator.max_length,
        columns=tuple(_cleaned(c) for c in indicator.columns),
        max_rows=indicator.max_rows,
    )


def template_violations(indicators: Sequence[Indicator], field_name: str = "indicators") -> list[FieldViolation]:
    found: list[FieldViolation] = []
    if not indicators:
        found.append(FieldViolation(field_name, "Mẫu báo cáo phải có ít nhất một chỉ tiêu"))
    elif len(indicators) > MAX_INDICATORS:
        found.append(FieldViolation(field_name, f"Nhiều nhất {MAX_INDICATORS} chỉ tiêu"))
    _indicators(indicators[:MAX_INDICATORS], field_name, KINDS, found)
    return found


def _indicators(indicators: Iterable[Indicator], where: str, kinds: Sequence[str], found: list[FieldViolation]) -> None:
    seen: set[str] = set()
    for index, indicator in enumerate(indicators):
        at = f"{where}[{index}]"
        if not CODE.fullmatch(indicator.code):
            found.append(
                FieldViolation(f"{at}.code", "Mã chỉ tiêu: chữ thường a–z, số và _, bắt đầu bằng chữ, tối đa 64")
            )
        elif indicator.code in seen:
            found.append(FieldViolation(f"{at}.code", f"Mã chỉ tiêu {indicator.code!r} bị trùng"))
        seen.add(indicator.code)
        _text(indicator.label, f"{at}.label", MAX_LABEL, found, required=True)
        _text(indicator.unit, f"{at}.unit", MAX_UNIT, found, required=False)
        if indicator.kind not in kinds:
            found.append(FieldViolation(f"{at}.kind", f"Kiểu chỉ tiêu phải là một trong {list(kinds)}"))
            continue
        _bounds(indicator, at, found)
        if indicator.kind == "text":
            if not 0 <= indicator.max_length <= LONGEST_TEXT:
                found.append(FieldViolation(f"{at}.max_length", f"Từ 0 đến {LONGEST_TEXT} ký tự"))
        elif indicator.max_length:
            found.append(FieldViolation(f"{at}.max_length", "Chỉ dùng cho chỉ tiêu kiểu text"))
        if indicator.kind == "table":
            if not indicator.columns:
                found.append(FieldViolation(f"{at}.columns", "Chỉ tiêu dạng bảng phải có ít nhất một cột"))
            elif len(indicator.columns) > MAX_COLUMNS:
                found.append(FieldViolation(f"{at}.columns", f"Nhiều nhất {MAX_COLUMNS} cột"))
            _indicators(indicator.columns[:MAX_COLUMNS], f"{at}.columns", CELL_KINDS, found)
            if not 0 <= indicator.max_rows <= MOST_ROWS:
                found.append(FieldViolation(f"{at}.max_rows", f"Từ 0 đến {MOST_ROWS} dòng"))
        else:
            if indicator.columns:
                found.append(FieldViolation(f"{at}.columns", "Chỉ chỉ tiêu dạng bảng mới có cột"))
            if indicator.max_rows:
                found.append(FieldViolation(f"{at}.max_rows", "Chỉ chỉ tiêu dạng bảng mới có số dòng"))


def _bounds(indicator: Indicator, at: str, found: list[FieldViolation]) -> None:
    numeric = indicator.kind in ("number", "percent")
    for name in ("min", "max"):
        value = getattr(indicator, name)
        if value is None:
            continue
        if not numeric:
            found.append(FieldViolation(f"{at}.{name}", "Chỉ dùng cho chỉ tiêu kiểu number hoặc percent"))
        elif not math.isfinite(value) or abs(value) > LARGEST:
            found.append(FieldViolation(f"{at}.{name}", "Phải là số hữu hạn, trong ±10^15"))
        elif indicator.kind == "percent" and not 0 <= value <= 100:
            found.append(FieldViolation(f"{at}.{name}", "Tỷ lệ phần trăm từ 0 đến 100"))
    if numeric and indicator.min is not None and indicator.max is not None and indicator.min > indicator.max:
        found.append(FieldViolation(f"{at}.max", "Giá trị lớn nhất nhỏ hơn giá trị nhỏ nhất"))
    if indicator.integer and not numeric:
        found.append(FieldViolation(f"{at}.integer", "Chỉ dùng cho chỉ tiêu kiểu number"))


def check_values(
    indicators: Sequence[Indicator],
    values: object,
    *,
    asked: Iterable[str] = (),
    complete: bool,
    version: int,
) -> tuple[dict[str, Any], list[FieldViolation]]:
    """A report's values as stored (text in NFC, whole numbers as int), and what is wrong with them.

    Only the indicators `asked` of the unit (all when empty) may hold a value; `complete` (sending,
    not saving a draft) also requires every required one."""
    found: list[FieldViolation] = []
    if not isinstance(values, dict):
        return {}, [FieldViolation("values", "Phải là một đối tượng JSON: mã chỉ tiêu → giá trị")]
    by_code = {i.code: i for i in indicators}
    asked_codes = set(asked) or set(by_code)
    stored: dict[str, Any] = {}
    for code, value in values.items():
        indicator = by_code.get(code)
        if indicator is None:
            found.append(
                FieldViolation(f"values.{code}", f"Không có chỉ tiêu này trong mẫu báo cáo phiên bản {version}")
            )
        elif code not in asked_codes:
            found.append(FieldViolation(f"values.{code}", "Chỉ tiêu này không giao cho đơn vị"))
        elif value is not None:
            stored[code] = _value(indicator, value, f"values.{code}", found)
    if complete:
        for indicator in indicators:
            if indicator.required and indicator.code in asked_codes and indicator.code not in stored:
                found.append(FieldViolation(f"values.{indicator.code}", "Bắt buộc khi gửi báo cáo"))
    return stored, found


def _value(indicator: Indicator, value: object, where: str, found: list[FieldViolation]) -> Any:
    if indicator.kind == "table":
        return _table(indicator, value, where, found)
    if indicator.kind == "text":
        if not isinstance(value, str):
            found.append(FieldViolation(where, "Phải là chuỗi ký tự"))
            return value
        return _text(value, where, indicator.max_length or DEFAULT_MAX_LENGTH, found, required=False)
    if isinstance(value, bool) or not isinstance(value, int | float):
        found.append(FieldViolation(where, "Phải là một số"))
        return value
    if abs(value) > LARGEST or not math.isfinite(value):
        found.append(FieldViolation(where, "Phải là số hữu hạn, trong ±10^15"))
        return value
    if indicator.integer and value != int(value):
        found.append(FieldViolation(where, "Phải là số nguyên"))
        return value
    low, high = indicator.bounds
    unit = "%" if indicator.kind == "percent" else ""
    if low is not None and value < low:
        found.append(FieldViolation(where, f"Không được nhỏ hơn {_plain(low)}{unit}"))
    elif high is not None and value > high:
        found.append(FieldViolation(where, f"Không được lớn hơn {_plain(high)}{unit}"))
    return int(value) if value == int(value) else value


def _plain(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


def _table(indicator: Indicator, value: object, where: str, found: list[FieldViolation]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        found.append(FieldViolation(where, "Phải là danh sách các dòng"))
        return []
    most = indicator.max_rows or DEFAULT_MAX_ROWS
    if len(value) > most:
        found.append(FieldViolation(where, f"Nhiều nhất {most} dòng"))
        return []
    columns = {c.code: c for c in indicator.columns}
    rows: list[dict[str, Any]] = []
    for number, row in enumerate(value, start=1):
        at = f"{where}[{number}]"
        if not isinstance(row, dict):
            found.append(FieldViolation(at, "Mỗi dòng là một đối tượng JSON: mã cột → giá trị"))
            continue
        stored: dict[str, Any] = {}
        for code, cell in row.items():
            column = columns.get(code)
            if column is None:
                found.append(FieldViolation(f"{at}.{code}", "Bảng không có cột này"))
            elif cell is not None:
                stored[code] = _value(column, cell, f"{at}.{code}", found)
        for column in indicator.columns:
            if column.required and column.code not in stored:
                found.append(FieldViolation(f"{at}.{column.code}", "Cột bắt buộc"))
        rows.append(stored)
    return rows


def consolidated(
    indicators: Sequence[Indicator], codes: Iterable[str], answers: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The sum of the sub-units' answers for `codes`: numbers added, table rows one after the other,
    texts one per line; a percent is not additive and is left for the unit to fill."""
    by_code = {i.code: i for i in indicators}
    merged: dict[str, Any] = {}
    for code in codes:
        indicator = by_code[code]
        present = [a[code] for a in answers if code in a]
        if not present:
            continue
        if indicator.kind == "number":
            total = sum(present)
            merged[code] = int(total) if total == int(total) else total
        elif indicator.kind == "table":
            merged[code] = [row for rows in present for row in rows]
        elif indicator.kind == "text":
            merged[code] = "; ".join(present)
    return merged
