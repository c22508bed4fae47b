"""A report's values as a form: one input per indicator of the template version the report was
assigned with (those given to the unit, when only some were), a table indicator as rows of typed
cells with blank rows to add to; what the officer typed read back into the values reports takes
(numbers as numbers, empty inputs and blank rows left out), each input named by the path reports
uses for its refusals (`values.so_co_mat`, `values.danh_sach[2].ho_ten`), so that a refusal lands
next to its input."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from qlcb_gateway.routes.report_regimes import IndicatorPublic
from qlcb_gateway.web.entry_form import FormField

BLANK_ROWS = 2
"""Rows offered beyond those a table holds, to add to it."""
NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
NOT_A_NUMBER = "Phải là một số, ví dụ 12 hoặc 4,5"
TABLE_PATH = re.compile(r"^values\.([a-z][a-z0-9_]*)(?:\[(\d+)\](?:\.([a-z][a-z0-9_]*))?)?$")


def _typed(value: object) -> str:
    """A stored value as its input shows it: a decimal comma, no thousands separator."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return "" if value is None else str(value)


def _label(spec: IndicatorPublic) -> str:
    return f"{spec.label} ({spec.unit})" if spec.unit else spec.label


def _input(spec: IndicatorPublic, name: str, value: object) -> FormField:
    kind = "textarea" if spec.kind == "text" and (spec.max_length or 2000) > 200 else "text"
    return FormField(
        name,
        _label(spec),
        kind,
        required=spec.required,
        value=_typed(value),
        max_length=(spec.max_length or 2000) if spec.kind == "text" else None,
    )


@dataclass
class TableInput:
    """A table indicator: its columns, and a row of inputs for each row held and each blank one."""

    code: str
    label: str
    required: bool
    columns: list[IndicatorPublic]
    rows: list[list[FormField]]
    max_rows: int
    error: str = ""

    @property
    def name(self) -> str:
        """As reports names the whole table in a refusal, and the summary links to it."""
        return f"values.{self.code}"


@dataclass
class ValuesForm:
    """The inputs in the template's order: a FormField for a number, percent or text indicator, a
    TableInput for a table."""

    items: list[FormField | TableInput] = field(default_factory=list)

    def inputs(self) -> list[FormField]:
        """Every input, the cells of each table included."""
        found: list[FormField] = []
        for item in self.items:
            if isinstance(item, TableInput):
                found.extend(cell for row in item.rows for cell in row)
            else:
                found.append(item)
        return found

    def tables(self) -> list[TableInput]:
        return [item for item in self.items if isinstance(item, TableInput)]

    def faulty(self) -> bool:
        """Whether a fault is shown on an input or a table."""
        return any(cell.error for cell in self.inputs()) or any(table.error for table in self.tables())


def _cell_name(code: str, row: int, column: str) -> str:
    return f"values.{code}[{row}].{column}"


def _cell(table: IndicatorPublic, column: IndicatorPublic, row: int, value: object) -> FormField:
    """A cell's input, labelled with its table, row and column (for a screen reader, and for the
    summary of what was refused)."""
    cell = _input(column, _cell_name(table.code, row, column.code), value)
    cell.label = f"{table.label}, dòng {row}: {_label(column)}"
    return cell


def values_form(indicators: list[IndicatorPublic], asked: list[str], values: dict[str, Any]) -> ValuesForm:
    """The form drawn from the stored values; `asked` the codes given to the unit (empty: all)."""
    form = ValuesForm()
    for spec in indicators:
        if asked and spec.code not in asked:
            continue
        held = values.get(spec.code)
        if spec.kind != "table":
            form.items.append(_input(spec, f"values.{spec.code}", held))
            continue
        rows = held if isinstance(held, list) else []
        most = spec.max_rows or 1000
        shown = [*rows, *[{}] * min(BLANK_ROWS, max(0, most - len(rows)))]
        form.items.append(
            TableInput(
                spec.code,
                _label(spec),
                spec.required,
                spec.columns,
                [
                    [_cell(spec, column, number, row.get(column.code)) for column in spec.columns]
                    for number, row in enumerate(shown, start=1)
                ],
                most,
            )
        )
    return form


def _number(text: str) -> int | float | None:
    compact = text.replace(" ", "").replace("\u00a0", "")
    if not NUMBER.fullmatch(compact):
        return None
    number = float(compact.replace(",", "."))
    return int(number) if "," not in compact and "." not in compact else number


def _read(spec: IndicatorPublic, cell: FormField, sent: dict[str, str]) -> object | None:
    """The value of one input as reports takes it, or None when it was left empty or is at fault
    (its error set)."""
    text = sent.get(cell.name, "").strip()
    cell.value = text
    if not text:
        return None
    if spec.kind == "text":
        return text
    number = _number(text)
    if number is None:
        cell.error = NOT_A_NUMBER
    return number


def read_values(
    indicators: list[IndicatorPublic], asked: list[str], sent: dict[str, str]
) -> tuple[ValuesForm, dict[str, Any] | None]:
    """The form as sent (each input's text kept, a fault next to its input) and the values to save,
    or None when an input is at fault. A table saves the rows with a cell filled, in their order
    (a row emptied is deleted); the form keeps every row sent, and blank ones to add to."""
    form = ValuesForm()
    values: dict[str, Any] = {}
    for spec in indicators:
        if asked and spec.code not in asked:
            continue
        if spec.kind != "table":
            cell = _input(spec, f"values.{spec.code}", None)
            value = _read(spec, cell, sent)
            if value is not None:
                values[spec.code] = value
            form.items.append(cell)
            continue
        offered = _rows_sent(spec.code, sent)
        most = spec.max_rows or 1000
        rows: list[list[FormField]] = []
        kept: list[dict[str, Any]] = []
        for number in range(1, offered + 1):
            cells = [_cell(spec, column, number, None) for column in spec.columns]
            row = {column.code: _read(column, cell, sent) for column, cell in zip(spec.columns, cells, strict=True)}
            rows.append(cells)
            if any(cell.value for cell in cells):
                kept.append({code: value for code, value in row.items() if value is not None})
        while rows and not any(cell.value for cell in rows[-1]):
            rows.pop()  # blank rows at the end: offered afresh below, not piled up on each refusal
        rows.extend(
            [_cell(spec, column, number, None) for column in spec.columns]
            for number in range(len(rows) + 1, min(len(rows) + BLANK_ROWS, most) + 1)
        )
        values[spec.code] = kept
        form.items.append(TableInput(spec.code, _label(spec), spec.required, spec.columns, rows, most))
    if form.faulty():
        return form, None
    return form, values


def _rows_sent(code: str, sent: dict[str, str]) -> int:
    """How many rows of the table the form held (the highest row number among its inputs)."""
    pattern = re.compile(rf"^values\.{re.escape(code)}\[(\d{{1,4}})\]\.")
    numbers = [int(match.group(1)) for name in sent if (match := pattern.match(name))]
    return max(numbers, default=0)


def placed(form: ValuesForm, violations: list[tuple[str, str]]) -> list[str]:
    """Puts each of reports' refusals next to its input: a cell's by its row among those saved (the
    blank rows were not), a whole row's or table's on the table. Those naming no input are returned."""
    tables = {table.code: table for table in form.tables()}
    cells = {cell.name: cell for cell in form.inputs()}
    elsewhere: list[str] = []
    for name, reason in violations:
        match = TABLE_PATH.match(name)
        table = tables.get(match.group(1)) if match else None
        if match is None or table is None:
            target = cells.get(name)
            if target is None:
                elsewhere.append(reason)
            else:
                target.error = reason
            continue
        saved = [number for number, row in enumerate(table.rows, start=1) if any(cell.value for cell in row)]
        place = int(match.group(2)) if match.group(2) else 0
        if not 0 < place <= len(saved):
            table.error = reason
            continue
        row = saved[place - 1]
        cell = cells.get(_cell_name(table.code, row, match.group(3))) if match.group(3) else None
        if cell is None:
            table.error = f"Dòng {row}: {reason}"
        else:
            cell.error = reason
    return elsewhere
