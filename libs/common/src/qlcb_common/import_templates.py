"""The templates of the bulk import (issue 9.4): for each kind of file, its columns in order, each
with the field it fills, its Vietnamese header and what an officer must write in it.

Two kinds: new people (`persons`: the fields `POST /v1/persons` takes, the unit by its code) and
the entries of one record section (its name: the person's personal id and/or staff number, the
entry's dates and decision where the section has them, then the section's fields, from its
declaration in `record_sections`). The gateway writes the templates and reads the header of an
uploaded file against them; personnel names the column of each fault from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from qlcb_common.record_sections import BY_NAME, Field, Kind, RecordSection, Timing

PERSONS = "persons"
DAY_FORMAT = "Ngày: dd/mm/yyyy (hoặc yyyy-mm-dd); trong XLSX có thể là ô kiểu ngày"


class Format(StrEnum):
    """How a column's cells are typed in the XLSX template."""

    TEXT = "text"  # kept as typed (ids with leading zeros stay text)
    DATE = "date"
    NUMBER = "number"


@dataclass(frozen=True)
class Column:
    field: str
    """The field it fills: `personal_id`, `valid_from`, `decision.number`, `values.rank_code`."""
    header: str
    required: bool
    explanation: str
    """What to write, for the template's "Hướng dẫn" sheet."""
    catalog: str | None = None
    format: Format = Format.TEXT
    width: float = 20


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    columns: tuple[Column, ...]
    one_of: tuple[str, ...] = ()
    """Fields of which at least one must be in the header and filled in each row (who the row is about)."""

    @property
    def by_field(self) -> Mapping[str, Column]:
        return {c.field: c for c in self.columns}

    def header_of(self, field: str) -> str:
        """The column of a field, or "" when the field is none of them (a fault of the row as a whole)."""
        column = self.by_field.get(field)
        return column.header if column is not None else ""


_PERSON_KEYS = (
    Column("personal_id", "Số định danh cá nhân", False, "12 chữ số, như trên căn cước", width=22),
    Column("staff_number", "Số hiệu cán bộ", False, "Số hiệu cán bộ trong ngành", width=16),
)

PERSONS_TEMPLATE = Template(
    kind=PERSONS,
    title="Hồ sơ cán bộ mới",
    columns=(
        Column("personal_id", "Số định danh cá nhân", True, "12 chữ số, như trên căn cước", width=22),
        Column("staff_number", "Số hiệu cán bộ", True, "Số hiệu cán bộ trong ngành, chưa cấp cho ai", width=16),
        Column("full_name", "Họ và tên", True, "Họ và tên khai sinh, tối đa 150 ký tự", width=30),
        Column("date_of_birth", "Ngày sinh", True, f"{DAY_FORMAT}; tuổi từ 15 đến 100", format=Format.DATE, width=14),
        Column("sex", "Giới tính", True, "Nam hoặc Nữ", width=10),
        Column("unit_code", "Mã đơn vị", True, "Mã của đơn vị (ví dụ HQHN-NB), trong phạm vi của tài khoản", width=16),
    ),
)


def _field_column(section: RecordSection, spec: Field) -> Column:
    explained = {
        Kind.TEXT: f"Văn bản, tối đa {spec.max_length} ký tự",
        Kind.LONG_TEXT: f"Văn bản, có thể nhiều dòng, tối đa {spec.max_length} ký tự",
        Kind.DATE: DAY_FORMAT,
        Kind.INTEGER: f"Số nguyên từ {spec.minimum} đến {spec.maximum}" if spec.minimum is not None else "Số nguyên",
        Kind.DECIMAL: "Số thập phân, ví dụ 4.98 (hoặc 4,98)",
        Kind.CODE: f"Mã trong danh mục {spec.catalog}, còn hiệu lực vào ngày của mục",
    }[spec.kind]
    if spec.within is not None:
        explained += f"; thuộc {section_field_label(section, spec.within)} ghi cùng dòng"
    kind_format = {Kind.DATE: Format.DATE, Kind.INTEGER: Format.NUMBER, Kind.DECIMAL: Format.NUMBER}
    return Column(
        f"values.{spec.name}",
        spec.label,
        spec.required,
        explained,
        catalog=spec.catalog,
        format=kind_format.get(spec.kind, Format.TEXT),
        width=max(14.0, min(40.0, len(spec.label) + 4.0)),
    )


def section_field_label(section: RecordSection, name: str) -> str:
    return next(f.label for f in section.fields if f.name == name)


def _section_template(section: RecordSection) -> Template:
    columns = list(_PERSON_KEYS)
    if section.dated:
        start = "Ngày" if section.timing is Timing.EVENTS else "Từ ngày"
        columns.append(
            Column("valid_from", start, True, f"{DAY_FORMAT}; ngày có hiệu lực", format=Format.DATE, width=14)
        )
        if section.timing is not Timing.EVENTS:
            columns.append(
                Column("valid_to", "Đến ngày", False, f"{DAY_FORMAT}; để trống nếu chưa kết thúc", format=Format.DATE)
            )
        columns += [
            Column(
                "decision.number",
                "Số quyết định",
                section.decision_required,
                "Số, ký hiệu của quyết định, ví dụ 123/QĐ-TCHQ",
                width=18,
            ),
            Column("decision.date", "Ngày quyết định", False, DAY_FORMAT, format=Format.DATE, width=14),
            Column("decision.body", "Cơ quan quyết định", False, "Tối đa 255 ký tự", width=24),
            Column("decision.signer", "Người ký", False, "Tối đa 255 ký tự", width=20),
            Column("decision.signer_post", "Chức vụ người ký", False, "Tối đa 255 ký tự", width=20),
        ]
    columns += [_field_column(section, spec) for spec in section.fields]
    return Template(
        kind=section.name, title=section.label, columns=tuple(columns), one_of=("personal_id", "staff_number")
    )


KINDS: tuple[str, ...] = (PERSONS, *BY_NAME)


@cache
def template(kind: str) -> Template | None:
    """The template of a kind, or None for a kind there is none of."""
    if kind == PERSONS:
        return PERSONS_TEMPLATE
    section = BY_NAME.get(kind)
    return _section_template(section) if section is not None else None
