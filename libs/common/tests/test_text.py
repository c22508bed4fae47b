from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from qlcb_common.errors import FieldViolation
from qlcb_common.text import (
    MultiLineText,
    SingleLineText,
    VerbatimLine,
    clean,
    control_characters,
    control_violation,
)


class Form(BaseModel):
    name: SingleLineText = Field(min_length=1, max_length=5)
    note: MultiLineText = ""
    title: SingleLineText | None = None


@pytest.mark.parametrize(
    "char",
    [
        "\x00",  # NUL
        "\x07",  # BEL
        "\x1b",  # ESC
        "\x7f",  # DEL
        "\x85",  # NEXT LINE, a C1 control
        "\u200b",  # ZERO WIDTH SPACE
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "\u2066",  # LEFT-TO-RIGHT ISOLATE
        "\ufeff",  # BYTE ORDER MARK
        "\ud800",  # a lone surrogate
    ],
)
def test_controls_format_characters_and_lone_surrogates_are_found_in_any_text(char: str) -> None:
    assert control_characters(f"Hà{char}Nội") == [char]
    assert control_characters(f"Hà{char}Nội", multiline=True) == [char]


@pytest.mark.parametrize("char", ["\t", "\n", "\r"])
def test_tab_and_line_ends_are_refused_in_single_line_text_only(char: str) -> None:
    assert control_characters(f"a{char}b") == [char]
    assert control_characters(f"a{char}b", multiline=True) == []


@pytest.mark.parametrize("char", ["\u2028", "\u2029"])
def test_unicode_line_and_paragraph_separators_break_single_line_text(char: str) -> None:
    assert control_characters(f"a{char}b") == [char]
    assert control_characters(f"a{char}b", multiline=True) == []


def test_vietnamese_text_and_ordinary_punctuation_hold_no_control_character() -> None:
    assert control_characters("Nguyễn Thị Hà — 125/QĐ-TCHQ (Đội 1), «Nội Bài»") == []
    assert control_characters("Nguye\u0302\u0303n") == [], "combining marks are not controls"


def test_each_control_character_is_named_once_in_order() -> None:
    assert control_characters("\u202ea\x07b\u202e\x07") == ["\u202e", "\x07"]


def test_a_violation_names_the_field_and_the_code_points_in_vietnamese() -> None:
    assert control_violation("full_name", "Hà\x07Nội\u202e") == FieldViolation(
        "full_name", "Không được chứa ký tự điều khiển: U+0007, U+202E"
    )
    assert control_violation("full_name", "Hà Nội") is None
    assert control_violation("reason", "dòng 1\ndòng 2", multiline=True) is None


def test_clean_stores_nfc_trimmed_with_inner_whitespace_collapsed() -> None:
    assert clean("  Nguye\u0302\u0303n   Thi\u0323  ") == "Nguyễn Thị"


def test_single_line_text_is_nfc_before_its_length_is_counted() -> None:
    decomposed = "Ha\u0300 Đa"  # six code points, five characters in NFC
    assert Form(name=decomposed).name == "Hà Đa"


@pytest.mark.parametrize(("value", "char"), [("Hà\x07", "U+0007"), ("a\u202eb", "U+202E"), ("a\tb", "U+0009")])
def test_single_line_text_refuses_control_characters_naming_them(value: str, char: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Form(name=value)
    (error,) = refused.value.errors()
    assert error["loc"] == ("name",)
    assert error["type"] == "control_character"
    assert error["msg"] == f"Không được chứa ký tự điều khiển: {char}"


def test_a_lone_surrogate_is_refused_with_the_same_message_not_pydantics_own() -> None:
    with pytest.raises(ValidationError) as refused:
        Form(name="a\udc00")
    (error,) = refused.value.errors()
    assert (error["loc"], error["type"]) == (("name",), "control_character")


def test_multi_line_text_keeps_line_breaks_and_refuses_other_controls() -> None:
    assert Form(name="a", note="dòng 1\r\n\tdòng 2").note == "dòng 1\r\n\tdòng 2"
    with pytest.raises(ValidationError) as refused:
        Form(name="a", note="dòng 1\x1b[2J")
    assert [e["loc"] for e in refused.value.errors()] == [("note",)]


def test_optional_text_accepts_none_and_checks_a_string() -> None:
    assert Form(name="a").title is None
    with pytest.raises(ValidationError) as refused:
        Form(name="a", title="x\x00")
    assert [e["loc"][0] for e in refused.value.errors()] == ["title"]


def test_a_non_string_is_left_to_pydantics_own_type_check() -> None:
    with pytest.raises(ValidationError) as refused:
        Form.model_validate({"name": 12})
    assert [e["type"] for e in refused.value.errors()] == ["string_type"]


def test_the_json_schema_still_declares_the_length_limits() -> None:
    name = Form.model_json_schema()["properties"]["name"]
    assert (name["type"], name["minLength"], name["maxLength"]) == ("string", 1, 5)


def test_single_line_text_is_taken_as_stored_so_spaces_alone_are_no_text_and_limits_count_nfc() -> None:
    assert Form(name="  Hà   Nộ ").name == "Hà Nộ"
    with pytest.raises(ValidationError) as refused:
        Form(name="   ")
    assert refused.value.errors()[0]["loc"] == ("name",)
    decomposed = "e\u0302\u0323" * 5  # five "ệ" as three code points each: fifteen, five once in NFC
    assert Form(name=decomposed).name == "\u1ec7" * 5


def test_a_verbatim_line_keeps_its_spaces_and_still_refuses_controls() -> None:
    class Mapper(BaseModel):
        value: VerbatimLine = Field(min_length=1)

    assert Mapper(value=" Cục  A ").value == " Cục  A "
    with pytest.raises(ValidationError):
        Mapper(value="Cục\tA")
