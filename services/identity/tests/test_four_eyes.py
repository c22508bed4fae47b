"""The four-eyes rule of account requests holds across a realm switch, which gives an account a new
subject but keeps its username (ADR 0029)."""

from __future__ import annotations

import pytest

from qlcb_common.auth import Principal
from qlcb_common.errors import PermissionDenied
from qlcb_identity.account_requests.rules import require_distinct


def _caller(subject: str, username: str) -> Principal:
    return Principal(subject=subject, username=username, roles=frozenset(), unit_path=None, token="")


def test_the_same_username_under_a_new_subject_may_not_take_a_second_step() -> None:
    with pytest.raises(PermissionDenied, match="Người đã lập đề nghị này không được đồng ý"):
        require_distinct(_caller("new-id", "QTHANOI"), "đồng ý", {"lập": ("former-id", "qthanoi")})


def test_the_same_subject_may_not_either() -> None:
    with pytest.raises(PermissionDenied, match="Người đã đồng ý"):
        require_distinct(_caller("id-1", "a"), "phê duyệt", {"lập": ("id-0", "b"), "đồng ý": ("id-1", "c")})


def test_another_account_may_and_a_step_not_taken_yet_names_nobody() -> None:
    require_distinct(
        _caller("id-2", "c"), "cấp", {"lập": ("id-0", "a"), "đồng ý": ("id-1", "b"), "phê duyệt": (None, None)}
    )
    require_distinct(_caller("id-2", ""), "đồng ý", {"lập": ("id-0", "")})
