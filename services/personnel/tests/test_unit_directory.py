"""What the unit directory matches: a code's beginning in any case, or words of the name each
beginning one of its words, typed with or without marks, in any order."""

from __future__ import annotations

import pytest

from qlcb_common.names import fold, words
from qlcb_personnel.units.directory import matches
from qlcb_personnel.units.models import Unit

SG1 = Unit(code="HQHCM-SG1", name="Chi cục Hải quan cửa khẩu cảng Sài Gòn khu vực I", path="/TCHQ/HQHCM/HQHCM-SG1")


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        ("HQHCM", True),
        ("hqhcm-sg", True),
        ("HQHCM SG1", True),
        ("SG1", False),  # a code is matched from its beginning
        ("sài gòn", True),
        ("sai gon cang", True),
        ("SAI GON", True),
        ("gòn sài", True),
        ("ai gon", False),  # each word begins a word of the name
        ("Đà Nẵng", False),
    ],
)
def test_a_unit_is_found_by_its_codes_beginning_or_the_beginnings_of_its_names_words(asked: str, found: bool) -> None:
    assert matches(SG1, fold(asked), words(asked)) is found
