"""The signing authority without the database: keys sealed under the secret, unit certificates
chained to the root and naming their unit, the revocation list, and PAdES signatures over them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509

from qlcb_reports.settings import ReportsSettings
from qlcb_reports.signing import authority, documents, pades

SECRET = "s" * 32


@pytest.fixture(scope="module")
def root() -> authority.Issued:
    return authority.new_root("Cơ quan chứng thực thử", days=365)


def test_a_sealed_key_opens_only_with_its_secret_and_for_its_owner(root: authority.Issued) -> None:
    sealer = authority.KeySealer(SECRET)
    sealed = sealer.seal(root.key, "root")
    assert sealer.open(sealed, "root").private_numbers() == root.key.private_numbers()
    # The key's bytes are not in the sealed value.
    assert root.key.private_numbers().private_value.to_bytes(32, "big") not in sealed
    with pytest.raises(authority.KeyUnreadable):
        sealer.open(sealed, "another-row")
    with pytest.raises(authority.KeyUnreadable):
        authority.KeySealer("t" * 32).open(sealed, "root")
    assert SECRET not in repr(sealer)


def test_a_unit_certificate_names_its_unit_and_chains_to_the_root(root: authority.Issued) -> None:
    unit = authority.issue_unit(root, unit_id="unit-1", unit_name="Chi cục Hải quan Nội Bài", days=30)
    unit.certificate.verify_directly_issued_by(root.certificate)
    assert authority.unit_of(unit.certificate) == ("unit-1", "Chi cục Hải quan Nội Bài")
    usage = unit.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not usage.key_cert_sign
    assert unit.certificate.not_valid_after_utc <= root.certificate.not_valid_after_utc
    assert (
        authority.issue_unit(root, unit_id="unit-1", unit_name="x", days=30).key.public_key() != unit.key.public_key()
    )


def test_the_revocation_list_names_the_revoked_certificates(root: authority.Issued) -> None:
    kept = authority.issue_unit(root, unit_id="a", unit_name="A", days=30)
    gone = authority.issue_unit(root, unit_id="b", unit_name="B", days=30)
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    crl = x509.load_der_x509_crl(
        authority.revocation_list(root, [authority.Revoked(gone.certificate.serial_number, at)], number=7)
    )
    assert crl.is_signature_valid(root.key.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(gone.certificate.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == at
    assert crl.get_revoked_certificate_by_serial_number(kept.certificate.serial_number) is None
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7


def _pdf() -> bytes:
    documents.register_fonts(ReportsSettings.model_fields["font_dir"].default)
    return documents.template_pdf(
        documents.Heading("BC-1", "Báo cáo số lượng cán bộ", "Quyết định 239/QĐ-UBND", 2),
        regime_id="regime-1",
        issuer_name="Vụ Tổ chức cán bộ",
        outline="I. Số lượng",
        indicators=[],
    )


async def test_a_signature_verifies_until_a_byte_changes_or_its_certificate_is_revoked(root: authority.Issued) -> None:
    unit = authority.issue_unit(root, unit_id="unit-1", unit_name="Vụ Tổ chức cán bộ", days=30)
    signed = await pades.sign(
        _pdf(), key=unit.key, certificate=unit.certificate, root=root.certificate, reason="Ban hành", signer_name="Vụ"
    )
    clean = authority.revocation_list(root, [], number=1)
    checked = await pades.verify(signed, root=root.certificate, revocation_list=clean)
    assert (checked.intact, checked.trusted, checked.revoked) == (True, True, False)
    assert authority.unit_of(checked.certificate) == ("unit-1", "Vụ Tổ chức cán bộ")
    assert documents.parse_keywords(checked.keywords) == ("template", "regime-1", 2)

    changed = bytearray(signed)
    changed[len(signed) // 4] ^= 0x01
    assert not (await pades.verify(bytes(changed), root=root.certificate, revocation_list=clean)).intact

    revoked = authority.revocation_list(
        root, [authority.Revoked(unit.certificate.serial_number, datetime.now(UTC))], number=2
    )
    assert (await pades.verify(signed, root=root.certificate, revocation_list=revoked)).revoked

    stranger = authority.new_root("Người lạ", days=30)
    forged_key = authority.issue_unit(stranger, unit_id="unit-1", unit_name="Vụ Tổ chức cán bộ", days=30)
    forged = await pades.sign(
        _pdf(),
        key=forged_key.key,
        certificate=forged_key.certificate,
        root=stranger.certificate,
        reason="x",
        signer_name="x",
    )
    assert not (await pades.verify(forged, root=root.certificate, revocation_list=clean)).trusted
    with pytest.raises(pades.NotSigned):
        await pades.verify(_pdf(), root=root.certificate, revocation_list=clean)


def test_a_long_vietnamese_unit_name_is_cut_to_whole_letters_within_the_common_names_bound(
    root: authority.Issued,
) -> None:
    name = "Đội Kiểm soát chống buôn lậu thuộc Cục Hải quan Hà Nội"
    assert len(name) < authority.COMMON_NAME_BYTES
    assert len(name.encode()) > authority.COMMON_NAME_BYTES
    unit = authority.issue_unit(root, unit_id="unit-long", unit_name=name, days=30)
    unit_id, named = authority.unit_of(unit.certificate)
    assert unit_id == "unit-long"
    assert name.startswith(named)
    assert 0 < len(named.encode()) <= authority.COMMON_NAME_BYTES
