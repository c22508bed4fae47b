"""Settings that would send tokens in clear, or name a TLS file the service cannot read, stop the
service at start-up with the setting named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from qlcb_common.events import streams
from qlcb_common.settings import Environment, GrpcServiceSettings, OidcSettings

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


class ExampleSettings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QLCB_EXAMPLE_", extra="ignore")


def _pem(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(PEM)
    return path


def test_outside_development_an_http_issuer_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError) as refused:
        OidcSettings(issuer="http://keycloak.test/realms/qlcb", QLCB_ENVIRONMENT=Environment.PRODUCTION)  # type: ignore[arg-type]
    message = str(refused.value)
    assert "QLCB_OIDC_ISSUER is http://keycloak.test/realms/qlcb, not https://" in message
    assert "QLCB_ENVIRONMENT is production" in message


def test_outside_development_an_http_jwks_url_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValidationError) as refused:
        OidcSettings(
            issuer="https://keycloak.test/realms/qlcb",  # type: ignore[arg-type]
            jwks_url="http://keycloak.test/certs",  # type: ignore[arg-type]
            QLCB_ENVIRONMENT=Environment.PRODUCTION,
        )
    assert "QLCB_OIDC_JWKS_URL is http://keycloak.test/certs, not https://" in str(refused.value)


def test_production_is_the_default_and_development_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QLCB_ENVIRONMENT", raising=False)
    monkeypatch.setenv("QLCB_OIDC_ISSUER", "http://keycloak.test/realms/qlcb")
    with pytest.raises(ValidationError, match="QLCB_OIDC_ISSUER"):
        OidcSettings()  # type: ignore[call-arg]
    monkeypatch.setenv("QLCB_OIDC_ENVIRONMENT", "development")  # not the variable: no prefix applies
    with pytest.raises(ValidationError, match="QLCB_OIDC_ISSUER"):
        OidcSettings()  # type: ignore[call-arg]
    monkeypatch.setenv("QLCB_ENVIRONMENT", "development")
    assert OidcSettings().environment is Environment.DEVELOPMENT  # type: ignore[call-arg]
    monkeypatch.setenv("QLCB_ENVIRONMENT", "staging")
    with pytest.raises(ValidationError, match="'production' or 'development'"):
        OidcSettings()  # type: ignore[call-arg]


def test_https_passes_outside_development() -> None:
    settings = OidcSettings(issuer="https://keycloak.test/realms/qlcb", QLCB_ENVIRONMENT=Environment.PRODUCTION)  # type: ignore[arg-type]
    assert settings.resolved_jwks_url == "https://keycloak.test/realms/qlcb/protocol/openid-connect/certs"


def test_a_missing_certificate_file_is_named_by_its_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QLCB_EXAMPLE_DATABASE_URL", "sqlite+aiosqlite://")
    monkeypatch.setenv("QLCB_EXAMPLE_GRPC_TLS_CERT_FILE", str(tmp_path / "absent.pem"))
    monkeypatch.setenv("QLCB_EXAMPLE_GRPC_TLS_KEY_FILE", str(_pem(tmp_path, "key.pem")))
    with pytest.raises(ValidationError) as refused:
        ExampleSettings()  # type: ignore[call-arg]
    assert f"QLCB_EXAMPLE_GRPC_TLS_CERT_FILE: cannot read {tmp_path / 'absent.pem'}: No such file or directory" in str(
        refused.value
    )


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("grpc_tls_key_file", "QLCB_EXAMPLE_GRPC_TLS_KEY_FILE"),
        ("grpc_tls_client_ca_file", "QLCB_EXAMPLE_GRPC_TLS_CLIENT_CA_FILE"),
        ("nats_tls_ca_file", "QLCB_EXAMPLE_NATS_TLS_CA_FILE"),
    ],
)
def test_an_unreadable_or_wrong_tls_file_is_named_by_its_variable(tmp_path: Path, field: str, variable: str) -> None:
    files: dict[str, Any] = {
        "grpc_tls_cert_file": _pem(tmp_path, "cert.pem"),
        "grpc_tls_key_file": _pem(tmp_path, "key.pem"),
    }
    with pytest.raises(ValidationError) as unreadable:
        ExampleSettings(database_url="sqlite+aiosqlite://", **{**files, field: tmp_path})
    assert f"{variable}: cannot read {tmp_path}: Is a directory" in str(unreadable.value)
    der = tmp_path / "der.crt"
    der.write_bytes(b"\x30\x82\x01\x0a")
    with pytest.raises(ValidationError) as wrong:
        ExampleSettings(database_url="sqlite+aiosqlite://", **{**files, field: der})
    assert f"{variable}: {der} is not a PEM file" in str(wrong.value)


def test_a_server_certificate_comes_with_its_key_and_client_certificates_need_tls(tmp_path: Path) -> None:
    cert = _pem(tmp_path, "cert.pem")
    with pytest.raises(ValidationError, match="QLCB_EXAMPLE_GRPC_TLS_CERT_FILE and QLCB_EXAMPLE_GRPC_TLS_KEY_FILE"):
        ExampleSettings(database_url="sqlite+aiosqlite://", grpc_tls_cert_file=cert)
    with pytest.raises(ValidationError, match="QLCB_EXAMPLE_GRPC_TLS_CLIENT_CA_FILE needs TLS"):
        ExampleSettings(database_url="sqlite+aiosqlite://", grpc_tls_client_ca_file=cert)
    served = ExampleSettings(
        database_url="sqlite+aiosqlite://",
        grpc_tls_cert_file=cert,
        grpc_tls_key_file=_pem(tmp_path, "key.pem"),
        grpc_tls_client_ca_file=_pem(tmp_path, "ca.pem"),
    )
    assert served.grpc_tls_client_ca_file == tmp_path / "ca.pem"


def test_a_stream_is_kept_on_one_to_five_nats_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QLCB_EXAMPLE_NATS_STREAM_REPLICAS", "3")
    settings = ExampleSettings(database_url="sqlite+aiosqlite://")
    assert streams.PERSONNEL.config(settings.nats_stream_replicas).num_replicas == 3
    for refused in ("0", "6"):
        monkeypatch.setenv("QLCB_EXAMPLE_NATS_STREAM_REPLICAS", refused)
        with pytest.raises(ValidationError, match="nats_stream_replicas"):
            ExampleSettings(database_url="sqlite+aiosqlite://")
