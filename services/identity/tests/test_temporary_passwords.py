"""First-login passwords pass the realm's rule against parts of the account name (R-ACC-7): the parts
are found as the realm's `notContainsUsernamePart(3)` finds them, and a password drawn is never
refused by it, however short the parts."""

from __future__ import annotations

from qlcb_identity.keycloak_accounts import temporary_password, username_parts


def test_the_parts_are_the_pieces_between_separators_and_their_letters() -> None:
    assert username_parts("nhansu1.hanoi") == {"nhansu1", "nhansu", "hanoi"}
    assert username_parts("hqhn-nb.van_thu") == {"hqhn", "van", "thu"}
    assert username_parts("QuanTri") == {"quantri"}
    assert username_parts("a1.bc") == set(), "pieces under 3 characters hold nothing"


def test_a_drawn_password_never_holds_a_part_and_keeps_every_class() -> None:
    for _ in range(2000):
        password = temporary_password("ab1.xyz.abc")
        assert not {"xyz", "abc", "ab1"} & {password.lower()[i : i + 3] for i in range(len(password) - 2)}
        assert any(c.isupper() for c in password)
        assert any(c.islower() for c in password)
        assert any(c.isdigit() for c in password)
        assert not password.isalnum()
    assert len(temporary_password("quantri", 24)) == 24
