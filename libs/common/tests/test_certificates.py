"""The served certificate's expiry, read from its PEM file (a chain's leaf comes first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client import REGISTRY

from qlcb_common.certificates import export_certificate_expiry, not_after


def _certificate(common_name: str, expires: datetime) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(expires - timedelta(days=90))
        .not_valid_after(expires)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def test_the_leaf_of_a_chain_gives_the_expiry(tmp_path: Path) -> None:
    leaf_expires = datetime(2027, 3, 1, 12, 30, tzinfo=UTC)
    chain = tmp_path / "server.pem"
    chain.write_bytes(_certificate("leaf", leaf_expires) + _certificate("ca", datetime(2030, 1, 1, tzinfo=UTC)))
    assert not_after(chain) == leaf_expires.timestamp()


def test_the_expiry_is_exported_by_service_and_listener(tmp_path: Path) -> None:
    expires = datetime(2027, 5, 2, tzinfo=UTC)
    served = tmp_path / "server.pem"
    served.write_bytes(_certificate("127.0.0.1", expires))
    export_certificate_expiry("personnel", "grpc", served)
    value = REGISTRY.get_sample_value(
        "qlcb_tls_certificate_not_after_timestamp_seconds", {"service": "personnel", "listener": "grpc"}
    )
    assert value == expires.timestamp()
