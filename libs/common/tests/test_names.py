"""Names as a search compares them and as a staff list sorts them (ADR 0015)."""

from __future__ import annotations

import unicodedata

import pytest

from qlcb_common.names import fold, sort_key, words


@pytest.mark.parametrize(
    "typed",
    [
        "Nguyễn Văn An",
        "nguyen van an",
        "NGUYỄN VĂN AN",
        unicodedata.normalize("NFD", "Nguyễn Văn An"),
        " nguyễn\tVăn  an ",
    ],
)
def test_a_name_folds_the_same_however_it_is_typed(typed: str) -> None:
    assert fold(typed) == "nguyen van an"


def test_d_with_stroke_folds_to_d_and_what_is_not_a_letter_separates_words() -> None:
    assert fold("Đặng Thị Đào") == "dang thi dao"
    assert words("ĐẶNG-đào, (Thị)") == ["dang", "dao", "thi"]
    assert words("!!! ---") == []


def test_staff_lists_order_by_given_name_in_the_vietnamese_alphabet() -> None:
    names = ["Nguyễn Minh Đức", "Vũ Văn Dũng", "Phạm Văn Bình", "Lê Thị Ánh", "Trần Văn An", "Nguyễn Văn An"]
    assert sorted(names, key=sort_key) == [
        "Nguyễn Văn An",
        "Trần Văn An",
        "Lê Thị Ánh",
        "Phạm Văn Bình",
        "Vũ Văn Dũng",
        "Nguyễn Minh Đức",
    ]


def test_letters_come_before_tones_and_tones_before_case() -> None:
    # ICU's Vietnamese order (PostgreSQL's vi-VN-x-icu): ă and â are letters of their own after a;
    # tones go none, huyền, hỏi, ngã, sắc, nặng; lower case first; a shorter word first.
    given = ["Ăn", "Ạn", "Anh", "An", "Án", "an", "Ân", "Ãn", "Ản", "Àn", "A"]
    assert sorted(given, key=sort_key) == ["A", "an", "An", "Àn", "Ản", "Ãn", "Án", "Ạn", "Anh", "Ăn", "Ân"]
    assert sorted(["Ơn", "Ôn", "On", "Ưng", "Ung"], key=sort_key) == ["On", "Ôn", "Ơn", "Ung", "Ưng"]


def test_the_key_is_the_same_for_nfc_and_nfd() -> None:
    name = "Nguyễn Thị Ánh"
    assert sort_key(unicodedata.normalize("NFD", name)) == sort_key(name)
