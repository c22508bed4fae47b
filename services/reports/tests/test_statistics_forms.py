"""The statutory forms as data: the layout files load, their columns count what they say (BM02 and
BM04 the communes' people alone, BM01 and BM03 everyone else's), and the day of a form is refused
naming `as_of` when it is in the future or before the sector existed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from qlcb_common.errors import InvalidArgument, NotFound
from qlcb_reports.headcount.models import UnitNode
from qlcb_reports.statistics import forms
from qlcb_reports.statistics.service import _quota, day_of, form_of

TODAY = date(2026, 12, 3)
FOUNDED = date(1945, 9, 10)


def test_bm01_has_the_columns_of_the_circular_with_their_catalog_groups() -> None:
    bm01 = form_of("bm01")
    assert bm01.code == "BM01"
    headers = list(dict.fromkeys(c.header for c in bm01.columns if c.header))
    assert headers == [
        "Trong đó",
        "Ngạch công chức",
        "Trình độ chuyên môn",
        "Lý luận chính trị",
        "Tin học",
        "Ngoại ngữ",
        "Quản lý nhà nước",
        "Độ tuổi",
    ]
    party = bm01.column("party")
    assert party is not None
    assert (party.fact, party.groups) == ("organisation", ("DANG_VIEN",))
    master = bm01.column("cm_ths")
    assert master is not None
    assert (master.kind, master.groups, master.unless) == ("CM", ("THS",), ("TS",))


def test_an_unknown_form_is_not_found_naming_it_and_those_there_are() -> None:
    with pytest.raises(NotFound, match=r"'BM99'.*BM01"):
        form_of("BM99")


@pytest.mark.parametrize(
    ("as_of", "reason"),
    [("2026-12-04", "sau hôm nay"), ("1945-09-09", "trước khi ngành"), ("2026-02-30", "YYYY-MM-DD"), ("x", "YYYY")],
)
def test_a_day_after_today_or_before_the_sector_is_refused_naming_as_of(as_of: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        day_of(as_of, FOUNDED, TODAY)
    [violation] = refused.value.violations
    assert violation.field == "as_of"
    assert reason in violation.description


def test_the_day_is_today_unless_asked() -> None:
    assert day_of("", FOUNDED, TODAY) == TODAY
    assert day_of("1945-09-10", FOUNDED, TODAY) == FOUNDED
    assert day_of("2026-12-03", FOUNDED, TODAY) == TODAY


@pytest.mark.parametrize(
    ("sex", "day", "months"),
    [
        ("SEX_MALE", date(2020, 6, 1), 720),
        ("SEX_MALE", date(2026, 1, 1), 738),
        ("SEX_MALE", date(2040, 1, 1), 744),
        ("SEX_FEMALE", date(2021, 1, 1), 664),
        ("SEX_FEMALE", date(2026, 12, 31), 684),
        ("SEX_FEMALE", date(2036, 1, 1), 720),
    ],
)
def test_the_retirement_age_follows_the_schedule_of_the_year(sex: str, day: date, months: int) -> None:
    assert forms.retirement_ages().months(sex, day) == months


def test_bm03_is_a_list_whose_columns_print_the_persons_salary() -> None:
    bm03 = form_of("BM03")
    assert bm03.kind == "list"
    assert [c.source for c in bm03.columns][:3] == ["name", "born", "born"]
    assert [c.sex for c in bm03.columns][1:3] == ["SEX_MALE", "SEX_FEMALE"]
    assert {c.source for c in bm03.columns if c.header == "Phụ cấp"} == {
        "allowance:CHUC_VU",
        "allowance:TRACH_NHIEM",
        "allowance:KHU_VUC",
        "salary:over_frame_percent",
    }


def test_the_yearly_movements_are_a_form_of_events() -> None:
    movements = form_of("BIENDONG")
    assert movements.kind == "events"
    assert [c.event for c in movements.columns] == [
        "recruited",
        "appointed",
        "transferred_in",
        "transferred_out",
        "status:PERSON_STATUS_RETIRED",
        "status:PERSON_STATUS_RESIGNED",
        "status:PERSON_STATUS_DECEASED",
        "status:PERSON_STATUS_MOVED_OUT",
        "discipline",
        "reward",
    ]


def test_bm02_is_bm01_for_the_communes_with_general_education_for_the_rank_groups() -> None:
    bm01, bm02 = form_of("BM01"), form_of("BM02")
    assert (bm02.unit_kinds, bm02.except_unit_kinds) == (("commune",), ())
    assert (bm01.unit_kinds, bm01.except_unit_kinds) == ((), ("commune",))
    assert bm02.counts_in("commune")
    assert not bm02.counts_in("sub_unit")
    assert not bm01.counts_in("commune")
    assert bm01.counts_in("provincial_department")
    education = [c for c in bm02.columns if c.header == "Trình độ giáo dục phổ thông"]
    assert [(c.label, c.fact, c.groups) for c in education] == [
        ("Trung học phổ thông", "education", ("THPT",)),
        ("Trung học cơ sở", "education", ("THCS",)),
        ("Tiểu học", "education", ("TH",)),
    ]
    assert not [c for c in bm02.columns if c.fact == "rank"], "no rank groups at commune level"
    shared = [c for c in bm01.columns if c.fact != "rank"]
    assert [c for c in bm02.columns if c.fact != "education" and c.key != "headcount"] == [
        c for c in shared if c.key != "headcount"
    ], "every other column as BM01's"


def test_bm04_is_bm03_for_the_communes_with_the_salary_step_for_the_rank_code() -> None:
    bm03, bm04 = form_of("BM03"), form_of("BM04")
    assert bm04.kind == "list"
    assert bm04.unit_kinds == ("commune",)
    assert bm03.except_unit_kinds == ("commune",)
    assert [c.source for c in bm04.columns] == ["salary:step" if c.source == "rank" else c.source for c in bm03.columns]
    step = bm04.column("step")
    assert step is not None
    assert step.label == "Bậc lương"


@pytest.fixture
def operator_folder(tmp_path: Path) -> Iterator[Path]:
    """The operator's folder of layouts; the packaged forms alone again after the test."""
    folder = tmp_path / "forms"
    folder.mkdir()
    try:
        yield folder
    finally:
        forms.use_folder(None)


def _layout(folder: Path, name: str, layout: dict[str, Any] | str) -> None:
    text = layout if isinstance(layout, str) else json.dumps(layout, ensure_ascii=False)
    (folder / name).write_text(text, encoding="utf-8")


def test_the_operators_folder_corrects_a_packaged_form_and_adds_one_without_a_release(operator_folder: Path) -> None:
    packaged = resources.files("qlcb_reports.statistics").joinpath("forms", "bm01.json").read_text(encoding="utf-8")
    corrected = json.loads(packaged)
    next(c for c in corrected["columns"] if c["key"] == "women")["label"] = "Nữ (đã đính chính)"
    _layout(operator_folder, "bm01.json", corrected)
    added: dict[str, Any] = {"form": "BM99", "title": "Đảng viên nữ", "legal_basis": "Quyết định của Bộ trưởng"}
    added["columns"] = [{"key": "women_party", "label": "Nữ đảng viên", "sex": "female"}]
    _layout(operator_folder, "bm99.json", added)
    schedule = json.loads(
        resources.files("qlcb_reports.statistics").joinpath("forms", "retirement_ages.json").read_text(encoding="utf-8")
    )
    schedule["SEX_MALE"]["after"] = 744
    _layout(operator_folder, "retirement_ages.json", schedule)

    forms.use_folder(operator_folder)

    women = form_of("BM01").column("women")
    assert women is not None
    assert women.label == "Nữ (đã đính chính)"
    assert len(form_of("BM01").columns) == len(corrected["columns"])
    assert [c.key for c in form_of("BM99").columns] == ["women_party"]
    assert {"BIENDONG", "BM02", "BM03", "BM04"} <= set(forms.forms()), "the packaged forms stay"
    assert forms.retirement_ages().months("SEX_MALE", date(2040, 1, 1)) == 744
    forms.use_folder(None)
    assert "BM99" not in forms.forms()


@pytest.mark.parametrize(
    ("layout", "named"),
    [
        ({"form": "X", "title": "X", "legal_basis": "X", "unit_kinds": ["district"], "columns": []}, "unit_kinds"),
        ({"form": "X", "title": "X", "legal_basis": "X", "rows": "by_sex", "columns": []}, "rows must be one of"),
        ({"form": "X", "title": "X", "columns": []}, "legal_basis"),
        (
            {"form": "X", "title": "X", "legal_basis": "X", "columns": [{"key": "a", "label": "A", "count": "x"}]},
            "count",
        ),
        ('{"form": "X", "title": ', "Expecting value"),
    ],
    ids=["unknown-unit-kind", "unknown-rows", "missing-legal-basis", "unknown-count", "not-json"],
)
def test_a_malformed_layout_stops_the_start_naming_its_file(
    operator_folder: Path, layout: dict[str, Any] | str, named: str
) -> None:
    _layout(operator_folder, "x.json", layout)
    with pytest.raises(ValueError, match=rf"x\.json: .*{named}"):
        forms.use_folder(operator_folder)


def test_a_folder_that_is_not_there_stops_the_start(tmp_path: Path) -> None:
    try:
        with pytest.raises(ValueError, match="does not exist"):
            forms.use_folder(tmp_path / "missing")
    finally:
        forms.use_folder(None)


def test_a_rows_quota_is_its_units_or_the_sum_of_the_highest_counted_units_below_it() -> None:
    counted = {"a": "/T/P/A", "c": "/T/P/A/C", "b": "/T/P/B", "x": "/T/Q/X"}
    quotas = {"a": 10, "c": 3, "b": 5}
    province = UnitNode(unit_id="p", path="/T/P", name="Tỉnh", kind="provincial_department")
    assert _quota(province, counted, quotas) == 15, "A's quota already covers C below it"
    assert _quota(UnitNode(unit_id="a", path="/T/P/A", name="Xã A", kind="commune"), counted, quotas) == 10
    assert (
        _quota(UnitNode(unit_id="q", path="/T/Q", name="Tỉnh Q", kind="provincial_department"), counted, quotas) is None
    )
