from __future__ import annotations

import json

from qlcb.personnel.v1 import events_pb2, record_pb2
from qlcb_common.errors import FieldViolation
from qlcb_common.events import subjects
from qlcb_common.events.contracts import PERSONNEL_EVENTS
from qlcb_common.record_sections import BY_NAME, check_values


def test_values_are_stored_nfc_trimmed_and_typed() -> None:
    violations: list[FieldViolation] = []
    stored = check_values(
        BY_NAME["salary"],
        {"rank_code": " 08.051 ", "step": 3, "coefficient": "3", "note": "Ngạch\u0300  mới"},
        violations,
    )
    assert violations == []
    assert stored == {"rank_code": "08.051", "step": 3, "coefficient": "3.00", "note": "Ngạch̀ mới"}


def test_every_fault_is_named_by_its_field() -> None:
    violations: list[FieldViolation] = []
    check_values(
        BY_NAME["salary"],
        {"step": True, "coefficient": "bốn", "over_frame_percent": 70, "extra": 1, "note": "a\u202eb"},
        violations,
    )
    assert {v.field for v in violations} == {
        "values.extra",
        "values.rank_code",
        "values.step",
        "values.coefficient",
        "values.over_frame_percent",
        "values.note",
    }


def test_a_coefficient_is_refused_unless_written_as_the_grids_write_one() -> None:
    """Exponents, signs, NaN and a third decimal are refused by name, never rounded or left to fail
    later (1E+30 is five characters, inside the length limit)."""
    for written in ("1E+30", "-1", "NaN", "Infinity", "4.985", "4,98", "123456"):
        violations: list[FieldViolation] = []
        stored = check_values(BY_NAME["salary"], {"rank_code": "08.051", "step": 3, "coefficient": written}, violations)
        assert [v.field for v in violations] == ["values.coefficient"], written
        assert "coefficient" not in stored


def test_text_of_spaces_only_is_no_value() -> None:
    violations: list[FieldViolation] = []
    stored = check_values(
        BY_NAME["salary"], {"rank_code": "   ", "step": 3, "coefficient": "4.98", "note": " \t "}, violations
    )
    assert violations == [FieldViolation("values.rank_code", "Mã ngạch: bắt buộc")]
    assert stored == {"step": 3, "coefficient": "4.98"}


def _changed(values: dict[str, object], section: str = "family") -> events_pb2.RecordEntryChanged:
    return events_pb2.RecordEntryChanged(
        person_id="6f1c3c2e-5a7b-4d1e-9a51-2b1f0e6c7d80",
        personal_id="001088012345",
        entry=record_pb2.RecordEntry(
            entry_id="7f1c3c2e-5a7b-4d1e-9a51-2b1f0e6c7d80",
            section=section,
            change="recorded",
            values_json=json.dumps(values, ensure_ascii=False),
        ),
    )


def test_a_record_event_must_hold_what_the_declaration_accepts_as_stored() -> None:
    contract = PERSONNEL_EVENTS[subjects.PERSONNEL_RECORD_CHANGED]
    good = {"side": "BAN_THAN", "relation": "Bố", "full_name": "Lê Văn An", "birth_year": 1960}

    def faults(event: events_pb2.RecordEntryChanged) -> set[str]:
        return {v.field for v in contract.violations(event)}

    assert faults(_changed(good)) == set()
    assert faults(_changed(good | {"full_name": "Lê  Văn An"})) == {"entry.values_json"}
    assert faults(_changed(good | {"birth_year": "1960"})) == {"entry.values.birth_year"}
    assert faults(_changed(good, section="secrets")) == {"entry.section"}
