"""Outside development identity reaches Keycloak over https only, and a TLS file it cannot read
stops it at start-up naming the setting."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from qlcb_common.days import VIETNAM
from qlcb_common.settings import Environment
from qlcb_common.working_days import WorkingCalendar
from qlcb_identity.calendar import due_after_working_days
from qlcb_identity.settings import IdentitySettings, KeycloakAdminSettings

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _identity(tmp_path: Path, **values: Any) -> IdentitySettings:
    realm = tmp_path / "realm.json"
    realm.write_text("{}")
    return IdentitySettings(
        QLCB_ENVIRONMENT=Environment.PRODUCTION,
        keycloak_url="https://login.example",  # type: ignore[arg-type]
        keycloak_client_secret=SecretStr("secret"),
        realm_file=realm,
        database_url="sqlite+aiosqlite://",
        credential_keys=[SecretStr(Fernet.generate_key().decode())],
        smtp_host="mail.example",
        **values,
    )


def test_outside_development_an_http_keycloak_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        KeycloakAdminSettings(
            QLCB_ENVIRONMENT=Environment.PRODUCTION,
            keycloak_url="http://keycloak:8080",  # type: ignore[arg-type]
            keycloak_client_secret=SecretStr("the-client-secret-value"),
            realm_file=tmp_path / "realm.json",
        )
    message = str(refused.value)
    assert "QLCB_IDENTITY_KEYCLOAK_URL is http://keycloak:8080/, not https://" in message
    assert "the-client-secret-value" not in message, "the error shows none of the input"


def test_a_missing_or_lone_certificate_file_is_named_by_its_variable(tmp_path: Path) -> None:
    cert = tmp_path / "server.pem"
    cert.write_bytes(PEM)
    with pytest.raises(ValidationError) as missing:
        _identity(tmp_path, tls_cert_file=cert, tls_key_file=tmp_path / "absent.pem")
    assert f"QLCB_IDENTITY_TLS_KEY_FILE: cannot read {tmp_path / 'absent.pem'}: No such file or directory" in str(
        missing.value
    )
    with pytest.raises(ValidationError) as lone:
        _identity(tmp_path, tls_cert_file=cert)
    assert "QLCB_IDENTITY_TLS_CERT_FILE and QLCB_IDENTITY_TLS_KEY_FILE are given together" in str(lone.value)
    assert _identity(tmp_path, tls_cert_file=cert, tls_key_file=cert).tls_key_file == cert


def test_a_day_off_the_settings_add_moves_the_deadline_as_it_moves_personnels_and_reports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A bridge day the government announced after the holidays package's release: listed in
    QLCB_IDENTITY_CALENDAR_EXTRA_DAYS_OFF, it is skipped; a Saturday listed as worked counts."""
    monkeypatch.setenv("QLCB_IDENTITY_CALENDAR_EXTRA_DAYS_OFF", '["2026-11-17"]')
    monkeypatch.setenv("QLCB_IDENTITY_CALENDAR_EXTRA_WORKING_DAYS", '["2026-11-21"]')
    calendar = _identity(tmp_path).working_calendar()
    monday = datetime(2026, 11, 16, 9, 0, tzinfo=VIETNAM)
    assert due_after_working_days(monday, 3, WorkingCalendar()).date() == date(2026, 11, 19)
    assert due_after_working_days(monday, 3, calendar).date() == date(2026, 11, 20)  # Tue 17 off
    assert due_after_working_days(monday, 4, calendar).date() == date(2026, 11, 21)  # Sat 21 worked
