"""A purpose account's lock-out between a realm switch and identity's relink (ADR 0029): Keycloak
does not know the id identity holds, and the caller is told to try again; an account the restored
realm left out is not looked for in Keycloak at all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from keycloak.exceptions import KeycloakPutError

from qlcb_common.errors import Unavailable
from qlcb_identity.purpose_accounts.models import PurposeAccount
from qlcb_identity.purpose_accounts.service import lock_out


class _Session:
    async def execute(self, statement: Any) -> None:
        return None


class _Keycloak:
    """The live realm's accounts by id; records every password set and sign-out."""

    def __init__(self, *known: str) -> None:
        self.known = set(known)
        self.calls: list[tuple[str, str]] = []

    def set_user_password(self, user_id: str, password: str, temporary: bool) -> None:
        if user_id not in self.known:
            raise KeycloakPutError(error_message='{"error":"User not found"}', response_code=404)
        self.calls.append(("password", user_id))

    def user_logout(self, user_id: str) -> None:
        self.calls.append(("logout", user_id))


def _account(keycloak_user_id: str, *, unlinked_at: datetime | None = None) -> PurposeAccount:
    return PurposeAccount(username="hqhn.nhan-su-1", keycloak_user_id=keycloak_user_id, unlinked_at=unlinked_at)


async def test_a_linked_account_gets_a_password_nobody_knows_and_no_session() -> None:
    keycloak = _Keycloak("new-id")
    await lock_out(_Session(), keycloak, _account("new-id"))  # type: ignore[arg-type]
    assert keycloak.calls == [("password", "new-id"), ("logout", "new-id")]


async def test_an_id_of_the_former_realm_answers_try_again_naming_the_account() -> None:
    keycloak = _Keycloak("new-id")
    with pytest.raises(Unavailable, match=r"hqhn\.nhan-su-1 .* liên kết lại theo tên đăng nhập"):
        await lock_out(_Session(), keycloak, _account("former-id"))  # type: ignore[arg-type]
    assert keycloak.calls == []


async def test_an_account_the_restored_realm_left_out_is_not_looked_for_in_keycloak() -> None:
    keycloak = _Keycloak("new-id")
    await lock_out(_Session(), keycloak, _account("former-id", unlinked_at=datetime.now(UTC)))  # type: ignore[arg-type]
    assert keycloak.calls == []
