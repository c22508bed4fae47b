"""The rows of an import file as the checks of the single-row operations take them: each cell under
its template field, dates written dd/mm/yyyy turned ISO, the sex in words turned its code, numbers
typed; and the faults of the rows, each under its row and column."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from qlcb_common.errors import FieldViolation
from qlcb_common.import_templates import Template
from qlcb_common.limits import MAX_REPORTED_ERRORS
from qlcb_common.record_sections import Kind, RecordSection
from qlcb_personnel.persons.service import PersonCreate
from qlcb_personnel.record.service import DecisionInput, EntryInput

_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_INTEGER = re.compile(r"[+-]?[0-9]{1,9}(\.0+)?")
"""A whole number as a spreadsheet may write one (4, or 4.0); longer than any field holds is left as
text, for the declaration's check to refuse."""
SEXES = {"nam": "SEX_MALE", "nữ": "SEX_FEMALE", "male": "SEX_MALE", "female": "SEX_FEMALE"}


@dataclass(frozen=True)
class Row:
    number: int
    """As the officer sees it in the spreadsheet (the header is row 1)."""
    cells: Mapping[str, str]
    """Each cell's text under its template field; a field the file has no column for is absent."""

    def get(self, name: str) -> str:
        return self.cells.get(name, "").strip()


def rows_of(fields: Sequence[str], numbered: Sequence[tuple[int, Sequence[str]]]) -> list[Row]:
    return [Row(number, dict(zip(fields, cells, strict=False))) for number, cells in numbered]


def day(text: str) -> str:
    """A day as the rules read it (ISO 8601): dd/mm/yyyy as Vietnamese write it is turned around;
    anything else is left for the rules to refuse."""
    text = text.strip()
    found = _DAY.fullmatch(text)
    return f"{found[3]}-{int(found[2]):02d}-{int(found[1]):02d}" if found else text


def person_input(row: Row, unit_id: str, violations: list[FieldViolation]) -> PersonCreate:
    word = unicodedata.normalize("NFC", row.get("sex")).lower()
    sex = SEXES.get(word, "")
    if not sex:
        violations.append(FieldViolation("sex", "Giới tính phải là Nam hoặc Nữ"))
    return PersonCreate(
        personal_id=row.get("personal_id"),
        staff_number=row.get("staff_number"),
        full_name=row.get("full_name"),
        date_of_birth=day(row.get("date_of_birth")),
        sex=sex or "SEX_MALE",  # refused above; a placeholder the rules accept, so no second fault
        unit_id=unit_id,
    )


def entry_input(section: RecordSection, row: Row) -> EntryInput:
    """The entry a row writes, its values typed as the section declares them (a number that is not
    one is left as text, for the declaration's check to name)."""
    values: dict[str, object] = {}
    for spec in section.fields:
        text = row.get(f"values.{spec.name}")
        if not text:
            continue
        if spec.kind is Kind.INTEGER and _INTEGER.fullmatch(text):
            values[spec.name] = int(text.partition(".")[0])
        elif spec.kind is Kind.DECIMAL:
            values[spec.name] = text.replace(",", ".")
        elif spec.kind is Kind.DATE:
            values[spec.name] = day(text)
        elif spec.kind is Kind.LONG_TEXT:
            values[spec.name] = row.cells.get(f"values.{spec.name}", "").strip("\r\n ")
        else:
            values[spec.name] = text
    return EntryInput(
        values=values,
        valid_from=day(row.get("valid_from")),
        valid_to=day(row.get("valid_to")),
        decision=DecisionInput(
            number=row.get("decision.number"),
            date=day(row.get("decision.date")),
            body=row.get("decision.body"),
            signer=row.get("decision.signer"),
            signer_post=row.get("decision.signer_post"),
        ),
    )


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class Faults:
    """The faults found so far, by row: every bad row counted, the first MAX_REPORTED_ERRORS listed."""

    template: Template
    listed: list[RowError] = field(default_factory=list)
    omitted: int = 0
    bad_rows: set[int] = field(default_factory=set)

    def add(self, row: Row, field_name: str, reason: str) -> None:
        self.bad_rows.add(row.number)
        if len(self.listed) < MAX_REPORTED_ERRORS:
            self.listed.append(RowError(row.number, self.template.header_of(field_name), reason))
        else:
            self.omitted += 1

    def add_violations(self, row: Row, violations: Sequence[FieldViolation]) -> None:
        for violation in violations:
            self.add(row, violation.field, violation.description)

    def add_message(self, row: Row, message: str) -> None:
        """A refusal whose message starts with the field it is about ("valid_from: trùng …")."""
        head, _, rest = message.partition(": ")
        if rest and head in self.template.by_field:
            self.add(row, head, rest)
        else:
            self.add(row, "", message)

    def __bool__(self) -> bool:
        return bool(self.bad_rows)
