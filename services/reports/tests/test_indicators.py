"""A template's indicators and the rules of their values: each fault named by its place, with the
row (from 1) and column of a table."""

from __future__ import annotations

import unicodedata

import pytest

from qlcb_common.errors import InvalidArgument
from qlcb_reports.regimes.indicators import Indicator, check_template, check_values, consolidated

TABLE = Indicator(
    code="danh_sach",
    label="Danh sách",
    kind="table",
    max_rows=2,
    columns=(
        Indicator(code="ho_ten", label="Họ và tên", kind="text", required=True),
        Indicator(code="so_nam", label="Số năm", kind="number", integer=True, min=0, max=60),
    ),
)
TEMPLATE = [
    Indicator(code="so_bien_che", label="Số biên chế", kind="number", integer=True, min=0, required=True),
    Indicator(code="ty_le_nu", label="Tỷ lệ nữ", kind="percent"),
    Indicator(code="ghi_chu", label="Ghi chú", kind="text", max_length=10),
    TABLE,
]


def _faults(values: object, *, complete: bool = False, asked: tuple[str, ...] = ()) -> dict[str, str]:
    _, found = check_values(TEMPLATE, values, asked=asked, complete=complete, version=3)
    return {v.field: v.description for v in found}


def test_valid_values_are_stored_in_their_plain_form() -> None:
    decomposed = unicodedata.normalize("NFD", "Đủ  ngạch")
    stored, found = check_values(
        TEMPLATE,
        {"so_bien_che": 40.0, "ty_le_nu": 42.5, "ghi_chu": decomposed, "danh_sach": [{"ho_ten": "Lê Văn A"}]},
        complete=True,
        version=1,
    )
    assert found == []
    assert stored == {
        "so_bien_che": 40,
        "ty_le_nu": 42.5,
        "ghi_chu": "Đủ ngạch",
        "danh_sach": [{"ho_ten": "Lê Văn A"}],
    }
    assert isinstance(stored["so_bien_che"], int)


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({"so_bien_che": True}, "values.so_bien_che", "Phải là một số"),
        ({"so_bien_che": "40"}, "values.so_bien_che", "Phải là một số"),
        ({"so_bien_che": 4.5}, "values.so_bien_che", "Phải là số nguyên"),
        ({"so_bien_che": -1}, "values.so_bien_che", "Không được nhỏ hơn 0"),
        ({"so_bien_che": 1e16}, "values.so_bien_che", "Phải là số hữu hạn, trong ±10^15"),
        ({"so_bien_che": 10**400}, "values.so_bien_che", "Phải là số hữu hạn, trong ±10^15"),
        ({"ty_le_nu": float("nan")}, "values.ty_le_nu", "Phải là số hữu hạn, trong ±10^15"),
        ({"ty_le_nu": 100.5}, "values.ty_le_nu", "Không được lớn hơn 100%"),
        ({"ty_le_nu": -0.1}, "values.ty_le_nu", "Không được nhỏ hơn 0%"),
        ({"ghi_chu": "x" * 11}, "values.ghi_chu", "dài quá 10 ký tự"),
        ({"ghi_chu": "a\u202eb"}, "values.ghi_chu", "Không được chứa ký tự điều khiển: U+202E"),
        ({"khac": 1}, "values.khac", "Không có chỉ tiêu này trong mẫu báo cáo phiên bản 3"),
        ({"danh_sach": {"ho_ten": "A"}}, "values.danh_sach", "Phải là danh sách các dòng"),
        ({"danh_sach": [{}, {}, {}]}, "values.danh_sach", "Nhiều nhất 2 dòng"),
        ({"danh_sach": ["A"]}, "values.danh_sach[1]", "Mỗi dòng là một đối tượng JSON: mã cột → giá trị"),
        ({"danh_sach": [{"ho_ten": "A"}, {"so_nam": 3}]}, "values.danh_sach[2].ho_ten", "Cột bắt buộc"),
        ({"danh_sach": [{"ho_ten": "A", "so_nam": 61}]}, "values.danh_sach[1].so_nam", "Không được lớn hơn 60"),
        ({"danh_sach": [{"ho_ten": "A", "tuoi": 3}]}, "values.danh_sach[1].tuoi", "Bảng không có cột này"),
    ],
)
def test_a_value_failing_its_rule_is_named_with_the_reason(values: dict[str, object], field: str, reason: str) -> None:
    assert _faults(values) == {field: reason}


def test_required_indicators_are_required_only_when_sending() -> None:
    assert _faults({}) == {}
    assert _faults({}, complete=True) == {"values.so_bien_che": "Bắt buộc khi gửi báo cáo"}
    assert _faults({}, complete=True, asked=("ty_le_nu",)) == {}


def test_only_the_indicators_asked_of_a_unit_take_values() -> None:
    assert _faults({"ghi_chu": "x"}, asked=("so_bien_che",)) == {"values.ghi_chu": "Chỉ tiêu này không giao cho đơn vị"}


def test_values_that_are_not_an_object_are_refused() -> None:
    assert _faults([1, 2]) == {"values": "Phải là một đối tượng JSON: mã chỉ tiêu → giá trị"}


def test_a_template_that_does_not_hold_together_is_refused_naming_each_fault() -> None:
    broken = [
        Indicator(code="So", label="x", kind="number"),
        Indicator(code="a", label="", kind="number", min=5, max=1),
        Indicator(code="a", label="Lặp", kind="date"),
        Indicator(code="b", label="Bảng", kind="table"),
        Indicator(code="c", label="Tỷ lệ", kind="percent", max=101),
        Indicator(code="d", label="Chữ", kind="text", integer=True, min=1),
        Indicator(code="e", label="Bảng lồng", kind="table", columns=(TABLE,)),
    ]
    with pytest.raises(InvalidArgument) as refused:
        check_template(broken)
    assert {v.field for v in refused.value.violations} == {
        "indicators[0].code",
        "indicators[1].label",
        "indicators[1].max",
        "indicators[2].code",
        "indicators[2].kind",
        "indicators[3].columns",
        "indicators[4].max",
        "indicators[5].integer",
        "indicators[5].min",
        "indicators[6].columns[0].kind",
    }


def test_a_stored_indicator_reads_back_the_same() -> None:
    for indicator in TEMPLATE:
        assert Indicator.from_json(indicator.as_json()) == indicator


def test_consolidation_adds_numbers_and_puts_rows_one_after_the_other() -> None:
    answers = [
        {"so_bien_che": 10, "ty_le_nu": 40, "danh_sach": [{"ho_ten": "A"}]},
        {"so_bien_che": 5.5, "ty_le_nu": 60, "danh_sach": [{"ho_ten": "B"}]},
        {},
    ]
    merged = consolidated(TEMPLATE, ["so_bien_che", "ty_le_nu", "danh_sach", "ghi_chu"], answers)
    assert merged == {"so_bien_che": 15.5, "danh_sach": [{"ho_ten": "A"}, {"ho_ten": "B"}]}
