"""A placement written through the placements-only tier names no leadership post (ADR 0059)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qlcb_personnel.record import leadership

POSTS = Path(leadership.__file__).parents[1] / "catalogs" / "data" / "posts.json"


@pytest.mark.parametrize(
    "post",
    [
        "Trưởng phòng",
        "Phó  trưởng phòng",
        "Đội Trưởng",
        "Chánh Văn phòng",
        "Giám đốc Trung tâm",
        "Phó Cục trưởng",
        "(Trưởng phòng)",
        "Đội trưởng,",
        "Trưởng/Phó phòng",
        "Giám đốc-Trung tâm",
        "P.Trưởng phòng",
    ],
)
def test_a_leadership_post_is_refused_by_its_words(post: str) -> None:
    reason = leadership.post_refusal({"post": post})
    assert reason is not None
    assert "là chức vụ lãnh đạo" in reason


@pytest.mark.parametrize("post", ["Chuyên viên", "Kiểm tra viên chính", "Điều tra viên", "Nhân viên lái xe"])
def test_a_post_leading_nothing_is_not(post: str) -> None:
    assert leadership.post_refusal({"post": post}) is None


def test_every_catalogued_leadership_post_is_named_a_leaders() -> None:
    labels = {value["label"] for value in json.loads(POSTS.read_text(encoding="utf-8"))["values"]}
    assert labels
    assert [label for label in sorted(labels) if leadership.post_refusal({"post": label}) is None] == []
