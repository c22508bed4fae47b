"""An import's rows turned into what the single-row checks take, and its faults placed under their
row and column, without servers: dates as Vietnamese write them, the sex in words, numbers typed as
the section declares them; every bad row counted, the list capped."""

from __future__ import annotations

from qlcb_common.errors import FieldViolation
from qlcb_common.import_templates import template
from qlcb_common.limits import MAX_REPORTED_ERRORS
from qlcb_common.record_sections import BY_NAME
from qlcb_personnel.imports.rows import Faults, Row, day, entry_input, person_input, rows_of


def test_days_written_the_vietnamese_way_become_iso_and_others_are_left_to_the_rules() -> None:
    assert day("4/3/1990") == "1990-03-04"
    assert day(" 31.12.2020 ") == "2020-12-31"
    assert day("2021-01-05") == "2021-01-05"
    assert day("mùng 5") == "mùng 5"


def test_a_person_row_gives_the_sex_in_words_and_names_a_word_it_does_not_know() -> None:
    violations: list[FieldViolation] = []
    row = Row(
        2, {"personal_id": " 001090000001 ", "full_name": "Đỗ Thị Hà", "date_of_birth": "04/03/1990", "sex": "NỮ"}
    )
    data = person_input(row, "unit-1", violations)
    assert (data.personal_id, data.date_of_birth, data.sex, data.unit_id) == (
        "001090000001",
        "1990-03-04",
        "SEX_FEMALE",
        "unit-1",
    )
    assert violations == []
    person_input(Row(3, {"sex": "ông"}), "", violations)
    assert violations == [FieldViolation("sex", "Giới tính phải là Nam hoặc Nữ")]


def test_an_entry_row_types_its_values_as_the_section_declares_them() -> None:
    salary = BY_NAME["salary"]
    row = Row(
        5,
        {
            "valid_from": "01/07/2024",
            "decision.number": "12/QĐ-HQ",
            "values.rank_code": "08.051",
            "values.step": "2.0",
            "values.coefficient": "2,67",
            "values.over_frame_percent": "năm",
        },
    )
    entry = entry_input(salary, row)
    assert entry.valid_from == "2024-07-01"
    assert entry.decision.number == "12/QĐ-HQ"
    assert entry.values == {"rank_code": "08.051", "step": 2, "coefficient": "2.67", "over_frame_percent": "năm"}


def test_cells_map_to_the_headers_fields_in_order() -> None:
    rows = rows_of(["personal_id", "values.year"], [(2, ["001", "2021"]), (4, ["002"])])
    assert [(r.number, r.get("personal_id"), r.get("values.year")) for r in rows] == [
        (2, "001", "2021"),
        (4, "002", ""),
    ]


def test_faults_are_placed_under_their_templates_columns_and_capped() -> None:
    evaluations = template("evaluations")
    assert evaluations is not None
    faults = Faults(evaluations)
    row = Row(7, {})
    faults.add_violations(row, [FieldViolation("values.level", "Mức xếp loại: mã 'X' không có")])
    faults.add_message(row, "values.year: đã có mục e-1 với year = 2021")
    faults.add_message(row, "Không khớp")
    assert [(e.row, e.column) for e in faults.listed] == [(7, "Mức xếp loại"), (7, "Năm đánh giá"), (7, "")]
    for number in range(MAX_REPORTED_ERRORS + 5):
        faults.add(Row(number + 8, {}), "valid_from", "Sai ngày")
    assert len(faults.listed) == MAX_REPORTED_ERRORS
    assert faults.omitted == 8
    assert len(faults.bad_rows) == MAX_REPORTED_ERRORS + 6
