"""The served certificate's expiry as a metric, so an alert warns before clients start refusing it."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from qlcb_common.metrics import TLS_CERTIFICATE_NOT_AFTER


def not_after(cert_file: Path) -> float:
    """The notAfter of the first certificate of a PEM file (the leaf of a chain), as a Unix time."""
    return x509.load_pem_x509_certificate(cert_file.read_bytes()).not_valid_after_utc.timestamp()


def export_certificate_expiry(service: str, listener: str, cert_file: Path) -> None:
    """Sets `qlcb_tls_certificate_not_after_timestamp_seconds{service, listener}` from the file served."""
    TLS_CERTIFICATE_NOT_AFTER.labels(service, listener).set(not_after(cert_file))
