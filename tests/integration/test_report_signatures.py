"""Signed reports on the running system (issue 11 point 4, R-REP-4): the submit step stores the
report as a PDF signed by its unit (PAdES, a key the deployment's own authority issued), and the
verification says who signed, when, and whether the file changed; a unit's key rotated leaves its
older documents valid, a key revoked makes its signatures fail and appears on the authority's
revocation list; a template version is signed by its issuer; a copy that is forged, of another
unit or of an earlier version is refused naming `document`, and nothing changes.

Like test_report_workflow, each test builds its own branch of units under Cục Hải quan Hà Nội:
Hà Nội's admin (qthanoi) writes and sends the branch's reports, the sector's personnel department
(vutccb) issues the regimes and manages the units' keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import nats
from cryptography import x509

from qlcb.reports.v1 import events_pb2
from qlcb_common.events import streams, subjects
from qlcb_common.events.envelope import parse, unpack
from qlcb_reports.settings import ReportsSettings
from qlcb_reports.signing import authority, documents, pades
from tests.integration.test_report_workflow import (
    ABOVE,
    ELSEWHERE,
    ISSUER,
    _as,
    _assignments,
    _branch,
    _open,
    _regime,
    _send,
    _step,
)
from tests.support import System, eventually

PDF = {"content-type": "application/pdf"}


async def _submitted(system: System, *names: str) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """A branch with units `names` under P, a regime issued by P, its period, and each unit's
    report sent; the units and the reports by unit name."""
    units = await _branch(system, *(f"{n}<P" for n in names))
    period = await _open(system, await _regime(system, units["P"]), "2027-01")
    found = await _assignments(system, period["period"]["id"])
    reports = {n: found[units[n]] for n in names}
    async with _as(system, ABOVE) as api:
        for report in reports.values():
            await _send(api, report)
    return units, reports


async def _pdf(api: httpx.AsyncClient, report: dict[str, Any], version: int = 0) -> bytes:
    got = await api.get(f"/v1/report-assignments/{report['id']}/signed-document", params={"version": version})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    return got.content


async def _verified(api: httpx.AsyncClient, report: dict[str, Any], version: int = 0) -> dict[str, Any]:
    got = await api.get(
        f"/v1/report-assignments/{report['id']}/signed-document/verification", params={"version": version}
    )
    assert got.status_code == 200, got.text
    found: dict[str, Any] = got.json()
    return found


async def _check_copy(api: httpx.AsyncClient, report: dict[str, Any], content: bytes) -> httpx.Response:
    return await api.post(
        f"/v1/report-assignments/{report['id']}/signed-document/verification", content=content, headers=PDF
    )


def _refusal(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    faults: dict[str, str] = {".".join(str(p) for p in f["loc"][1:]): f["msg"] for f in response.json()["detail"]}
    assert list(faults) == ["document"], faults
    return faults["document"]


async def _version(api: httpx.AsyncClient, report: dict[str, Any]) -> int:
    got = await api.get(f"/v1/report-assignments/{report['id']}")
    version: int = got.json()["assignment"]["version"]
    return version


async def _key_changes(api: httpx.AsyncClient, unit_id: str) -> list[dict[str, Any]]:
    got = await api.get(f"/v1/report-signing/units/{unit_id}/key-changes")
    assert got.status_code == 200, got.text
    found: list[dict[str, Any]] = got.json()
    return found


async def _key_event(system: System, subject: str, unit_id: str) -> events_pb2.SigningKeyChanged:
    """The last event published on `subject`, once it is the unit's (the outbox relays it after
    the change commits)."""

    async def last() -> events_pb2.SigningKeyChanged | None:
        user, password = system.infra.nats.credentials("ops")
        nc = await nats.connect(system.infra.nats.url, user=user, password=password, allow_reconnect=False)
        try:
            message = await nc.jetstream().get_last_msg(streams.REPORTS.name, subject)
        except nats.js.errors.NotFoundError:
            return None
        finally:
            await nc.close()
        assert message.data is not None
        return unpack(parse(message.data), events_pb2.SigningKeyChanged)

    found = await eventually(
        last, lambda e: e is not None and e.change.unit_id == unit_id, timeout=15, what=f"{subject} of {unit_id}"
    )
    assert found is not None
    return found


async def _resubmit(api: httpx.AsyncClient, report: dict[str, Any]) -> None:
    assert (await _step(api, report, "recall")).status_code == 200
    assert (await _step(api, report, "submit")).status_code == 200


async def test_the_submit_step_stores_the_report_signed_by_its_unit(system: System) -> None:
    units, reports = await _submitted(system, "C1")
    report = reports["C1"]
    async with _as(system, ABOVE) as api, _as(system, ELSEWHERE) as stranger:
        content = await _pdf(api, report)
        assert content.startswith(b"%PDF-")
        verified = await _verified(api, report)
        version = await _version(api, report)
        # Stranger to the unit's reports: neither the file nor its verification.
        assert (await stranger.get(f"/v1/report-assignments/{report['id']}/signed-document")).status_code == 403
        refused = await stranger.get(f"/v1/report-assignments/{report['id']}/signed-document/verification")
        assert refused.status_code == 403
        # A copy as downloaded is the report's: the same answer.
        copy = await _check_copy(api, report, content)
        assert copy.status_code == 200, copy.text
        assert copy.json() == verified
        as_text = await api.post(
            f"/v1/report-assignments/{report['id']}/signed-document/verification",
            content=content,
            headers={"content-type": "text/plain"},
        )
        assert as_text.status_code == 415
    assert (
        verified
        | {
            "valid": True,
            "intact": True,
            "trusted": True,
            "revoked": False,
            "signer_unit_id": units["C1"],
            "signer_unit_name": "Tổ báo cáo C1",
            "version": version,
        }
        == verified
    )
    signed_at = datetime.fromisoformat(verified["signed_at"])
    assert datetime.now(UTC) - timedelta(minutes=5) < signed_at <= datetime.now(UTC)
    # The file names what it is: the report and its version.
    checked = await pades.verify(
        content,
        root=authority.load_pem((await _authority(system))["certificate_pem"]),
        revocation_list=await _crl(system),
    )
    assert documents.parse_keywords(checked.keywords) == ("submission", report["id"], version)


async def _authority(system: System) -> dict[str, Any]:
    async with _as(system, ABOVE) as api:
        got = await api.get("/v1/report-signing/authority")
    assert got.status_code == 200, got.text
    found: dict[str, Any] = got.json()
    return found


async def _crl(system: System) -> bytes:
    async with _as(system, ABOVE) as api:
        got = await api.get("/v1/report-signing/revocation-list")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pkix-crl"
    return got.content


async def test_one_byte_changed_and_the_copy_fails(system: System) -> None:
    _, reports = await _submitted(system, "C1")
    report = reports["C1"]
    async with _as(system, ABOVE) as api:
        content = await _pdf(api, report)
        # One byte of the report's own text (the page content, before the signature's update).
        changed = bytearray(content)
        changed[len(content) // 4] ^= 0x01
        assert "đã bị thay đổi sau khi ký" in _refusal(await _check_copy(api, report, bytes(changed)))
        assert "Không đọc được tệp PDF" in _refusal(await _check_copy(api, report, b"not a pdf at all"))
        # The stored one is untouched.
        assert (await _verified(api, report))["valid"] is True


async def test_a_rotated_key_leaves_older_documents_valid_and_signs_the_next(system: System) -> None:
    units, reports = await _submitted(system, "C1")
    report = reports["C1"]
    async with _as(system, ABOVE) as api, _as(system, ISSUER) as issuer:
        first_version = await _version(api, report)
        first = await _verified(api, report)
        assert (await api.post(f"/v1/report-signing/units/{units['C1']}/rotate")).status_code == 403
        rotated = await issuer.post(f"/v1/report-signing/units/{units['C1']}/rotate")
        assert rotated.status_code == 200, rotated.text
        new_serial = rotated.json()["serial"]
        assert new_serial != first["certificate_serial"]

        again = await _verified(api, report, first_version)
        assert again | {"valid": True, "certificate_serial": first["certificate_serial"]} == again

        await _resubmit(api, report)
        latest = await _verified(api, report)
        assert latest | {"valid": True, "certificate_serial": new_serial, "signer_unit_id": units["C1"]} == latest
        assert latest["version"] > first_version
        listed = await issuer.get(f"/v1/report-signing/units/{units['C1']}/certificates")
        assert [(c["serial"], c["state"]) for c in listed.json()] == [
            (new_serial, "active"),
            (first["certificate_serial"], "rotated"),
        ]

        # The rotation is in the unit's audit (the refused attempt is not) and was published.
        changes = await _key_changes(api, units["C1"])
        assert [(c["action"], c["previous_serial"], c["serial"], c["account"], c["reason"]) for c in changes] == [
            ("rotated", first["certificate_serial"], new_serial, ISSUER, None)
        ]
        event = await _key_event(system, subjects.REPORTS_SIGNING_KEY_ROTATED, units["C1"])
        assert (event.change.action, event.change.previous_serial, event.change.serial, event.change.account) == (
            "rotated",
            first["certificate_serial"],
            new_serial,
            ISSUER,
        )
        assert event.change.id == changes[0]["id"]


async def test_a_revoked_certificate_fails_verification_and_is_on_the_revocation_list(system: System) -> None:
    units, reports = await _submitted(system, "C1")
    report = reports["C1"]
    async with _as(system, ABOVE) as api, _as(system, ISSUER) as issuer:
        before = await _verified(api, report)
        without_reason = await issuer.post(f"/v1/report-signing/units/{units['C1']}/revoke", json={"reason": ""})
        assert without_reason.status_code == 422
        revoked = await issuer.post(
            f"/v1/report-signing/units/{units['C1']}/revoke", json={"reason": "Lộ khóa ký số của đơn vị"}
        )
        assert revoked.status_code == 200, revoked.text
        replacement = revoked.json()["serial"]

        after = await _verified(api, report)
        assert after | {"valid": False, "revoked": True, "intact": True, "trusted": True} == after
        assert after["revoked_at"] is not None
        assert "thu hồi" in after["summary"]

        crl = x509.load_der_x509_crl(await _crl(system))
        assert crl.get_revoked_certificate_by_serial_number(int(before["certificate_serial"], 16)) is not None
        assert crl.get_revoked_certificate_by_serial_number(int(replacement, 16)) is None

        # The unit signs its next submission with its new certificate, which verifies.
        await _resubmit(api, report)
        latest = await _verified(api, report)
        assert latest | {"valid": True, "revoked": False, "certificate_serial": replacement} == latest
        listed = await issuer.get(f"/v1/report-signing/units/{units['C1']}/certificates")
        states = {c["serial"]: (c["state"], c["revocation_reason"]) for c in listed.json()}
        assert states == {
            replacement: ("active", None),
            before["certificate_serial"]: ("revoked", "Lộ khóa ký số của đơn vị"),
        }

        # The revocation is in the unit's audit with its reason (the refused one without a reason is
        # not) and was published.
        changes = await _key_changes(api, units["C1"])
        assert [(c["action"], c["previous_serial"], c["serial"], c["account"], c["reason"]) for c in changes] == [
            ("revoked", before["certificate_serial"], replacement, ISSUER, "Lộ khóa ký số của đơn vị")
        ]
        event = await _key_event(system, subjects.REPORTS_SIGNING_KEY_REVOKED, units["C1"])
        assert (event.change.previous_serial, event.change.serial, event.change.reason) == (
            before["certificate_serial"],
            replacement,
            "Lộ khóa ký số của đơn vị",
        )
        assert event.change.id == changes[0]["id"]


async def test_a_template_version_is_signed_by_its_issuer(system: System) -> None:
    units = await _branch(system, "C1<P")
    regime = await _regime(system, units["P"])
    async with _as(system, ISSUER) as issuer, _as(system, ABOVE) as reader:
        added = await issuer.post(
            f"/v1/report-regimes/{regime['id']}/versions",
            json={"outline": "Đề cương mới", "indicators": regime["templates"][0]["indicators"]},
        )
        assert added.status_code == 201, added.text
        for version in (1, 2):
            got = await reader.get(f"/v1/report-regimes/{regime['id']}/versions/{version}/signed-document")
            assert got.status_code == 200, got.text
            assert got.content.startswith(b"%PDF-")
            verified = await reader.get(
                f"/v1/report-regimes/{regime['id']}/versions/{version}/signed-document/verification"
            )
            assert verified.status_code == 200, verified.text
            found = verified.json()
            assert found | {"valid": True, "signer_unit_id": units["P"], "version": version} == found
        missing = await reader.get(f"/v1/report-regimes/{regime['id']}/versions/3/signed-document")
        assert missing.status_code == 404


async def test_a_forged_or_stale_copy_is_refused_naming_the_document(system: System) -> None:
    units, reports = await _submitted(system, "C1", "C2")
    report = reports["C1"]
    async with _as(system, ABOVE) as api:
        stale = await _pdf(api, report)
        await _resubmit(api, report)
        version = await _version(api, report)
        latest = await _verified(api, report)

        # A PDF of an earlier version: genuine, but stale.
        assert "phiên bản" in _refusal(await _check_copy(api, report, stale))
        # Another unit's genuine report.
        assert "không phải đơn vị của báo cáo" in _refusal(
            await _check_copy(api, report, await _pdf(api, reports["C2"]))
        )
        # Signed by a key the deployment's authority never issued, naming the unit all the same.
        documents.register_fonts(ReportsSettings.model_fields["font_dir"].default)
        forger = authority.new_root("Giả mạo", days=30)
        key = authority.issue_unit(forger, unit_id=units["C1"], unit_name="Tổ báo cáo C1", days=30)
        page = documents.submission_pdf(
            documents.Heading("X", "Báo cáo giả", "Không", 1),
            assignment_id=report["id"],
            version=version,
            unit_name="Tổ báo cáo C1",
            period_key="2027-01",
            period_span="",
            indicators=[],
            asked=[],
            values={},
            submitted_at=datetime.now(UTC),
            submitted_by="ke-gia-mao",
        )
        forged = await pades.sign(
            page, key=key.key, certificate=key.certificate, root=forger.certificate, reason="Giả", signer_name="C1"
        )
        assert "chữ ký giả hoặc khóa lạ" in _refusal(await _check_copy(api, report, forged))

        # Nothing changed by the refusals.
        assert await _version(api, report) == version
        assert await _verified(api, report) == latest
