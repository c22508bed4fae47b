from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from qlcb_identity.settings import IdentitySettings

REQUIRED = {
    "QLCB_ENVIRONMENT": "development",
    "QLCB_IDENTITY_KEYCLOAK_URL": "http://127.0.0.1:8080",
    "QLCB_IDENTITY_KEYCLOAK_CLIENT_SECRET": "secret",
    "QLCB_IDENTITY_REALM_FILE": "realm.json",
    "QLCB_IDENTITY_DATABASE_URL": "sqlite+aiosqlite:///:memory:",
    "QLCB_IDENTITY_SMTP_HOST": "127.0.0.1",
}


def _settings(monkeypatch: pytest.MonkeyPatch, keys: str) -> IdentitySettings:
    for name, value in {**REQUIRED, "QLCB_IDENTITY_CREDENTIAL_KEYS": keys}.items():
        monkeypatch.setenv(name, value)
    return IdentitySettings()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("keys", "reason"),
    [("[]", "at least 1 item"), ('["mật-khẩu-đơn-giản"]', "key 0 is not a Fernet key")],
)
def test_credential_keys_that_cannot_seal_are_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, keys: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(monkeypatch, keys)
    assert "credential_keys" in str(refused.value)
    assert reason in str(refused.value)


def test_the_first_key_seals_and_every_key_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    new, old = Fernet.generate_key(), Fernet.generate_key()
    sealed_before = Fernet(old).encrypt(b"first-login")
    sealer = _settings(monkeypatch, json.dumps([new.decode(), old.decode()])).credential_sealer()
    assert sealer.decrypt(sealed_before) == b"first-login"
    assert Fernet(new).decrypt(sealer.encrypt(b"x")) == b"x"
    assert Fernet(new).decrypt(sealer.rotate(sealed_before)) == b"first-login"
