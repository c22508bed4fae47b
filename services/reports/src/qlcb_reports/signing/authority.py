"""The deployment's own certificate authority for signed reports, without the database: a root
key and certificate, a key and certificate per unit, the revocation list, and the sealing of every
private key under a key-encryption key derived from a secret the settings give.

Keys are ECDSA P-256: small, fast to make, and what PAdES validators accept. A sealed key is
AES-256-GCM over its PKCS#8 DER with the owner's identifier as associated data, so a sealed key
copied onto another row does not open."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

NONCE_BYTES = 12
CLOCK_SKEW = timedelta(minutes=5)
"""Certificates start this much before their issuance, so that a verifier whose clock is a little
behind does not find them not yet valid."""
CRL_LIFETIME = timedelta(days=7)
COMMON_NAME_BYTES = 64
"""X.520's upper bound for a common name, which the certificate library counts in UTF-8 bytes: a
Vietnamese unit name of fewer than 64 letters can pass it."""
UNIT_ID_OID = NameOID.SERIAL_NUMBER
"""The subject attribute that carries the unit's identifier (X.520 serialNumber, a printable string)."""


class KeyUnreadable(RuntimeError):
    """A sealed key does not open with this secret (the secret changed, or the row was altered)."""


class KeySealer:
    """Seals and opens private keys with a key derived from the deployment's signing secret."""

    def __init__(self, secret: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"qlcb-reports-signing-kek-v1")
        self._aead = AESGCM(derived.derive(secret.encode()))

    def seal(self, key: ec.EllipticCurvePrivateKey, owner: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return nonce + self._aead.encrypt(nonce, der, owner.encode())

    def open(self, sealed: bytes, owner: str) -> ec.EllipticCurvePrivateKey:
        try:
            der = self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], owner.encode())
        except Exception as error:  # InvalidTag, or a value too short to hold a nonce
            raise KeyUnreadable(f"the signing key of {owner} does not open with the configured secret") from error
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyUnreadable(f"the signing key of {owner} is not an EC key")
        return key

    def __repr__(self) -> str:
        return "KeySealer(<secret>)"


@dataclass(frozen=True)
class Issued:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def __repr__(self) -> str:
        return f"Issued(serial={self.certificate.serial_number:x})"


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def common_name(name: str) -> str:
    """The name cut to whole characters within `COMMON_NAME_BYTES` bytes of UTF-8 (the certificate
    then names a unit by the start of its name; its identifier is in `serialNumber`)."""
    return name.encode()[:COMMON_NAME_BYTES].decode(errors="ignore").rstrip()


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def new_root(name: str, *, days: int, now: datetime | None = None) -> Issued:
    """A self-signed root that may sign unit certificates and revocation lists, nothing else."""
    at = now or datetime.now(UTC)
    key = new_key()
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, common_name(name)), x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - CLOCK_SKEW)
        .not_valid_after(at + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, certificate)


def issue_unit(root: Issued, *, unit_id: str, unit_name: str, days: int, now: datetime | None = None) -> Issued:
    """A new key and a certificate naming the unit (its name, and its identifier)."""
    at = now or datetime.now(UTC)
    key = new_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name(unit_name)),
            x509.NameAttribute(UNIT_ID_OID, unit_id),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - CLOCK_SKEW)
        .not_valid_after(min(at + timedelta(days=days), root.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True, ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
        .sign(root.key, hashes.SHA256())
    )
    return Issued(key, certificate)


def unit_of(certificate: x509.Certificate) -> tuple[str, str]:
    """The unit identifier and name a unit certificate names ("" where it names none)."""
    ids = certificate.subject.get_attributes_for_oid(UNIT_ID_OID)
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return (str(ids[0].value) if ids else "", str(names[0].value) if names else "")


@dataclass(frozen=True)
class Revoked:
    serial: int
    at: datetime


def revocation_list(root: Issued, revoked: list[Revoked], *, number: int, now: datetime | None = None) -> bytes:
    """The authority's CRL (DER), naming every revoked unit certificate with when it was revoked."""
    at = now or datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.certificate.subject)
        .last_update(at - CLOCK_SKEW)
        .next_update(at + CRL_LIFETIME)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(entry.serial).revocation_date(entry.at).build()
        )
    return builder.sign(root.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def load_pem(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode())
