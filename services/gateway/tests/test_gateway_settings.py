"""Outside development the gateway calls its backends over TLS only, and a TLS setting it cannot
use stops it at start-up naming the setting; so does a web session key that is missing or not one."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from qlcb_common.settings import Environment
from qlcb_devstack.tls import TlsFiles, throwaway_authority
from qlcb_gateway.backends import channel_credentials, identity_verify
from qlcb_gateway.settings import GatewaySettings

TARGETS = {
    "personnel_target": "personnel:8101",
    "reports_target": "reports:8102",
    "backup_target": "backup:8103",
    "web_session_key": Fernet.generate_key().decode(),
}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return throwaway_authority(tmp_path_factory.mktemp("tls"))


def _settings(environment: Environment, **values: Any) -> GatewaySettings:
    return GatewaySettings(QLCB_ENVIRONMENT=environment, **{**TARGETS, **values})


def _refusal(environment: Environment, **values: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        _settings(environment, **values)
    return str(refused.value)


def test_outside_development_plaintext_backends_are_refused_naming_the_settings() -> None:
    message = _refusal(Environment.PRODUCTION, identity_url="http://identity:8081")
    assert "QLCB_GATEWAY_IDENTITY_URL is http://identity:8081/, not https://" in message
    assert (
        "QLCB_GATEWAY_GRPC_TLS_CA_FILE is unset, so QLCB_GATEWAY_PERSONNEL_TARGET, QLCB_GATEWAY_REPORTS_TARGET, "
        "QLCB_GATEWAY_BACKUP_TARGET would be called in plaintext gRPC" in message
    )
    assert "QLCB_ENVIRONMENT is production" in message


def test_development_allows_plaintext() -> None:
    settings = _settings(Environment.DEVELOPMENT, identity_url="http://127.0.0.1:8081")
    assert channel_credentials(settings) is None
    assert identity_verify(settings) is True


def test_production_with_tls_everywhere_starts(tls: TlsFiles) -> None:
    settings = _settings(
        Environment.PRODUCTION,
        identity_url="https://identity:8081",
        grpc_tls_ca_file=tls.ca,
        grpc_tls_cert_file=tls.client_cert,
        grpc_tls_key_file=tls.client_key,
        identity_tls_ca_file=tls.ca,
    )
    assert channel_credentials(settings) is not None
    verify = identity_verify(settings)
    assert isinstance(verify, ssl.SSLContext)
    assert verify.verify_mode is ssl.CERT_REQUIRED
    assert verify.check_hostname


def test_tls_settings_that_cannot_work_are_refused_naming_them(tls: TlsFiles, tmp_path: Path) -> None:
    https = {"identity_url": "https://identity:8081", "grpc_tls_ca_file": tls.ca}
    missing = tmp_path / "absent.pem"
    assert f"QLCB_GATEWAY_GRPC_TLS_CA_FILE: cannot read {missing}: No such file or directory" in _refusal(
        Environment.PRODUCTION, **{**https, "grpc_tls_ca_file": missing}
    )
    assert "QLCB_GATEWAY_GRPC_TLS_CERT_FILE and QLCB_GATEWAY_GRPC_TLS_KEY_FILE are given together" in _refusal(
        Environment.PRODUCTION, **https, grpc_tls_cert_file=tls.client_cert
    )
    assert "a client certificate needs TLS: set QLCB_GATEWAY_GRPC_TLS_CA_FILE" in _refusal(
        Environment.DEVELOPMENT,
        identity_url="http://identity:8081",
        grpc_tls_cert_file=tls.client_cert,
        grpc_tls_key_file=tls.client_key,
    )
    assert "QLCB_GATEWAY_IDENTITY_TLS_CA_FILE needs an https:// QLCB_GATEWAY_IDENTITY_URL" in _refusal(
        Environment.DEVELOPMENT, identity_url="http://identity:8081", identity_tls_ca_file=tls.ca
    )


def test_outside_development_the_web_session_key_is_required(tls: TlsFiles) -> None:
    encrypted = {
        "identity_url": "https://identity:8081",
        "grpc_tls_ca_file": tls.ca,
        "grpc_tls_cert_file": tls.client_cert,
        "grpc_tls_key_file": tls.client_key,
    }
    assert "QLCB_GATEWAY_WEB_SESSION_KEY is unset" in _refusal(
        Environment.PRODUCTION, **encrypted, web_session_key=None
    )
    development = _settings(Environment.DEVELOPMENT, identity_url="http://identity:8081", web_session_key=None)
    Fernet(development.session_key())  # made at start, a working key
    assert "QLCB_GATEWAY_WEB_SESSION_KEY is not a Fernet key" in _refusal(
        Environment.DEVELOPMENT, identity_url="http://identity:8081", web_session_key="not-a-key"
    )
