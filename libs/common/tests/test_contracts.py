"""The contracts consumers hold personnel's and identity's events to: what either producer's API
produces passes; anything it would have refused is a PoisonMessage naming the field."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.message import Message

from qlcb.backup.v1 import backup_pb2
from qlcb.backup.v1 import events_pb2 as backup_events
from qlcb.identity.v1 import events_pb2 as identity_events
from qlcb.personnel.v1 import decision_pb2, personnel_pb2, quota_pb2, record_pb2
from qlcb.personnel.v1 import events_pb2 as personnel_events
from qlcb.reports.v1 import events_pb2 as reports_events
from qlcb.reports.v1 import rollup_pb2 as reports_rollup
from qlcb.reports.v1 import signatures_pb2, workflow_pb2
from qlcb_common.events import subjects
from qlcb_common.events.contracts import BACKUP_EVENTS, IDENTITY_EVENTS, PERSONNEL_EVENTS, REPORTS_EVENTS, accept
from qlcb_common.events.envelope import PoisonMessage, wrap

ROOT_ID, HANOI_ID, NOI_BAI_ID = (str(uuid.uuid4()) for _ in range(3))
DECIDED: dict[str, Any] = {"effective_date": "2026-11-30", "decision": "125/QĐ-TCHQ"}
ACTIVE, RETIRED = personnel_pb2.PERSON_STATUS_ACTIVE, personnel_pb2.PERSON_STATUS_RETIRED


def _unit(code: str = "HQHN-NB", parent_path: str = "/TCHQ/HQHN", **fields: Any) -> personnel_pb2.Unit:
    values: dict[str, Any] = {
        "id": NOI_BAI_ID,
        "code": code,
        "name": "Chi cục Hải quan Nội Bài",
        "kind": personnel_pb2.UNIT_KIND_SUB_UNIT,
        "parent_id": HANOI_ID,
        "path": f"{parent_path}/{code}",
    }
    return personnel_pb2.Unit(**(values | fields))


def _person(**fields: Any) -> personnel_pb2.Person:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "personal_id": "001088000123",
        "staff_number": "HQ-0123",
        "full_name": "Nguyễn Thị Thủy",
        "date_of_birth": "1988-05-19",
        "sex": personnel_pb2.SEX_FEMALE,
        "unit_id": NOI_BAI_ID,
        "status": ACTIVE,
    }
    return personnel_pb2.Person(**(values | fields))


def _status(status: personnel_pb2.PersonStatus.ValueType, previous: personnel_pb2.PersonStatus.ValueType) -> Message:
    return personnel_events.PersonStatusChanged(person=_person(status=status), previous_status=previous, **DECIDED)


HANOI = _unit("HQHN", "/TCHQ", id=HANOI_ID, name="Cục Hải quan Hà Nội", parent_id=ROOT_ID)
GONE = {"dissolved_on": DECIDED["effective_date"]}

VALID: dict[str, Callable[[], Message]] = {
    subjects.PERSONNEL_UNIT_ESTABLISHED: lambda: personnel_events.UnitEstablished(
        unit=_unit(), established_on=DECIDED["effective_date"]
    ),
    subjects.PERSONNEL_UNIT_RENAMED: lambda: personnel_events.UnitRenamed(
        unit=_unit(), previous_name="Chi cục Nội Bài", **DECIDED
    ),
    subjects.PERSONNEL_UNIT_MOVED: lambda: personnel_events.UnitMoved(
        unit=_unit(), previous_path="/TCHQ/HQNB/HQHN-NB", **DECIDED
    ),
    subjects.PERSONNEL_UNIT_DISSOLVED: lambda: personnel_events.UnitDissolved(unit=_unit(**GONE), **DECIDED),
    subjects.PERSONNEL_UNIT_MERGED: lambda: personnel_events.UnitsMerged(
        sources=[_unit(**GONE)], target=HANOI, **DECIDED
    ),
    subjects.PERSONNEL_UNIT_SPLIT: lambda: personnel_events.UnitSplit(
        source=_unit(**GONE),
        successors=[_unit("HQHN-NB1", id=str(uuid.uuid4())), _unit("HQHN-NB2", id=str(uuid.uuid4()))],
        **DECIDED,
    ),
    subjects.PERSONNEL_UNIT_QUOTA_SET: lambda: personnel_events.UnitQuotaSet(
        unit=_unit(),
        change=quota_pb2.UnitQuotaChange(
            unit_id=NOI_BAI_ID,
            year=2026,
            quota=120,
            previous_quota=110,
            change="changed",
            effective_date="2026-03-01",
            decision="45/QĐ-HQHN",
            recorded_at="2026-03-02T08:15:00+00:00",
            recorded_by="5b0e7a4c-9a43-4d1e-8f51-0c8f2d1e6a7b",
        ),
    ),
    subjects.PERSONNEL_PERSON_CREATED: lambda: personnel_events.PersonCreated(person=_person()),
    subjects.PERSONNEL_PERSON_RETIRED: lambda: _status(RETIRED, ACTIVE),
    subjects.PERSONNEL_PERSON_RESIGNED: lambda: _status(personnel_pb2.PERSON_STATUS_RESIGNED, ACTIVE),
    subjects.PERSONNEL_PERSON_DIED: lambda: _status(personnel_pb2.PERSON_STATUS_DECEASED, ACTIVE),
    subjects.PERSONNEL_PERSON_MOVED_OUT: lambda: _status(personnel_pb2.PERSON_STATUS_MOVED_OUT, ACTIVE),
    subjects.PERSONNEL_PERSON_REINSTATED: lambda: _status(ACTIVE, RETIRED),
    subjects.PERSONNEL_RECORD_CHANGED: lambda: personnel_events.RecordEntryChanged(
        person_id=str(uuid.uuid4()),
        personal_id="001088000123",
        entry=record_pb2.RecordEntry(
            entry_id=str(uuid.uuid4()),
            section="evaluations",
            change="recorded",
            values_json='{"level": "HTTNV", "year": 2025}',
        ),
        coded=[personnel_events.CodedValue(field="level", catalog="evaluation_levels", code="HTTNV")],
    ),
    subjects.PERSONNEL_DECISION_CHANGED: lambda: personnel_events.DecisionChanged(
        decision=decision_pb2.Decision(
            id=str(uuid.uuid4()),
            kind="reward",
            number="125/QĐ-TCHQ",
            decision_date="2026-11-20",
            effective_date="2026-11-30",
            state=decision_pb2.DECISION_STATE_APPLIED,
            items=[decision_pb2.DecisionItem(person_id=str(uuid.uuid4()), values_json='{"form": "LDTT"}')],
            people_total=1,
        )
    ),
    subjects.PERSONNEL_AUDIT_SEALED: lambda: personnel_events.AuditChainSealed(
        seq=1042, hash="5" * 64, sealed_at="2026-12-06T12:50:01.25+00:00"
    ),
    subjects.PERSONNEL_CATALOG_CHANGED: lambda: personnel_events.CatalogValueChanged(
        value=record_pb2.CatalogValue(
            catalog="provinces",
            code="36",
            label="Tỉnh Nam Định",
            stat_group="TINH",
            valid_from="2008-08-01",
            valid_to="2025-06-30",
            attributes_json='{"merged_into": "37"}',
            legal_basis="Nghị quyết 15/2008/QH12",
        ),
        change="ended",
        changed_by="5b0e7a4c-9a43-4d1e-8f51-0c8f2d1e6a7b",
    ),
    subjects.PERSONNEL_PERSON_TRANSFERRED: lambda: personnel_events.PersonTransferred(
        person=_person(unit_id=HANOI_ID),
        from_unit=_unit(),
        to_unit=HANOI,
        reason=personnel_events.MOVE_REASON_TRANSFER,
        transfer_id=str(uuid.uuid4()),
        **DECIDED,
    ),
    subjects.IDENTITY_DELEGATION_GRANTED: lambda: identity_events.DelegationGranted(
        delegation=identity_events.Delegation(
            id=str(uuid.uuid4()),
            unit_path="/TCHQ/CDTCBL",
            tiers=["hq-unit"],
            sections=["identity"],
            actions=["read"],
            target_unit_path="/TCHQ/HQHN",
            valid_from="2026-01-01",
        )
    ),
    subjects.IDENTITY_DELEGATION_REVOKED: lambda: identity_events.DelegationRevoked(id=str(uuid.uuid4())),
    subjects.IDENTITY_HOLDER_RECORDED: lambda: identity_events.HolderRecorded(
        assignment=identity_events.HolderAssignment(
            id=str(uuid.uuid4()),
            account_username="nhansu1.hanoi",
            unit_path="/TCHQ/HQHN",
            holder_name="Nguyễn Thị Giữ",
            holder_personal_id="001088000123",
            valid_from="2026-01-01",
            valid_to="2026-07-01",
        )
    ),
}
REPORT_ID, PERIOD_ID, REGIME_ID = (str(uuid.uuid4()) for _ in range(3))


def _report(state: str, **fields: Any) -> workflow_pb2.Assignment:
    values: dict[str, Any] = {
        "id": REPORT_ID,
        "period_id": PERIOD_ID,
        "regime_id": REGIME_ID,
        "period_key": "2026-11",
        "unit_id": NOI_BAI_ID,
        "unit_name": "Chi cục Hải quan Nội Bài",
        "unit_path": "/TCHQ/HQHN/HQHN-NB",
        "parent_assignment_id": str(uuid.uuid4()),
        "approver_unit_id": HANOI_ID,
        "state": state,
        "deadline": "2026-11-20",
        "template_version": 1,
        "values_json": '{"so_bien_che": 40}',
        "version": 4,
    }
    return workflow_pb2.Assignment(**(values | fields))


def _step(action: str, before: str, after: str, reason: str = "", **report: Any) -> Message:
    return reports_events.SubmissionChanged(
        regime_code="BC-NS-THANG",
        assignment=_report(after, **report),
        transition=workflow_pb2.Transition(
            action=action,
            from_state=before,
            to_state=after,
            reason=reason,
            account="qthanoi",
            holder_name="",
            occurred_at="2026-11-18T03:00:00+00:00",
            version=4,
        ),
    )


def _key_change(action: str, reason: str = "") -> Message:
    return reports_events.SigningKeyChanged(
        change=signatures_pb2.SigningKeyChange(
            id="7c0f1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
            unit_id=NOI_BAI_ID,
            unit_name="Chi cục Hải quan Nội Bài",
            unit_path="/TCHQ/HQHN/HQHN-NB",
            action=action,
            previous_serial="3f9a0c6d2b1e",
            serial="5e7b1a9c04d8",
            reason=reason,
            account="vutccb",
            occurred_at="2026-12-02T03:00:00+00:00",
        )
    )


VALID.update(
    {
        subjects.REPORTS_PERIOD_OPENED: lambda: reports_events.PeriodOpened(
            regime_code="BC-NS-THANG",
            period=workflow_pb2.Period(
                id=PERIOD_ID,
                regime_id=REGIME_ID,
                key="2026-11",
                starts_on="2026-10-15",
                ends_on="2026-11-14",
                deadline="2026-11-20",
                template_version=1,
                opened_at="2026-10-01T01:00:00+00:00",
                opened_by="vutccb",
            ),
            assignments=24,
        ),
        subjects.REPORTS_SUBMISSION_SUBMITTED: lambda: _step("submitted", "draft", "submitted"),
        subjects.REPORTS_SUBMISSION_RECALLED: lambda: _step("recalled", "submitted", "draft"),
        subjects.REPORTS_SUBMISSION_RETURNED: lambda: _step("returned", "submitted", "returned", "Thiếu danh sách"),
        subjects.REPORTS_SUBMISSION_APPROVED: lambda: _step("approved", "submitted", "approved"),
        subjects.REPORTS_SUBMISSION_REOPENED: lambda: _step("reopened", "approved", "returned", "Cần đính chính"),
        subjects.REPORTS_ASSIGNMENT_UNLOCKED: lambda: _step(
            "unlocked", "not_started", "not_started", "Gửi bằng văn bản (đến 2026-11-25)", reopened_until="2026-11-25"
        ),
        subjects.REPORTS_REMINDER_DUE: lambda: reports_events.ReminderDue(
            regime_code="BC-NS-THANG", assignment=_report("draft"), working_days_left=2
        ),
        subjects.REPORTS_SIGNING_KEY_ROTATED: lambda: _key_change("rotated"),
        subjects.REPORTS_SIGNING_KEY_REVOKED: lambda: _key_change("revoked", "Lộ khóa: máy tính bị nhiễm mã độc"),
    }
)


def _delivery(status: str, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "assignment_id": str(uuid.uuid4()),
        "report_version": 4,
        "regime_id": REGIME_ID,
        "regime_code": "BC-NS-THANG",
        "period_id": PERIOD_ID,
        "period_key": "2026-11",
        "unit_id": HANOI_ID,
        "unit_name": "Cục Hải quan Hà Nội",
        "status": status,
        "attempts": 3,
        "idempotency_key": "qlcb-rollup-0b7c1c9e-5a7e-4c1e-9f0e-3d2b1a0c9e8f-v4",
        "created_at": "2026-11-25T03:00:00+00:00",
    }
    if status == "sent":
        values |= {"last_status": 201, "acknowledged_at": "2026-11-25T03:00:05+00:00"}
    else:
        values |= {"last_status": 400, "last_error": "HTTP 400: Thiếu chỉ tiêu bắt buộc"}
    return reports_rollup.RollupDeliveryChanged(delivery=reports_rollup.Delivery(**(values | fields)))


VALID.update(
    {
        subjects.REPORTS_ROLLUP_SENT: lambda: _delivery("sent"),
        subjects.REPORTS_ROLLUP_FAILED: lambda: _delivery("failed"),
    }
)


def _statistics_read(form: str, **fields: Any) -> Message:
    return reports_events.StatisticsRead(
        account="qthanoi",
        subject="5b0e7a4c-9a43-4d1e-8f51-0c8f2d1e6a7b",
        tiers=["default-roles-qlcb", "local-admin"],
        read_at="2026-12-06T03:04:05.123456+00:00",
        form=form,
        unit_id=HANOI_ID,
        unit_path="/TCHQ/HQHN",
        as_of="2026-12-01",
        **fields,
    )


VALID.update(
    {
        subjects.REPORTS_STATISTICS_FORM_READ: lambda: _statistics_read("BM03", people=120),
        subjects.REPORTS_STATISTICS_FORM_EXPORTED: lambda: _statistics_read("BM04", format="pdf", people=0),
        subjects.REPORTS_STATISTICS_PEOPLE_READ: lambda: _statistics_read(
            "BM01", row=NOI_BAI_ID, column="rank_cv", page=3, total=41, people=1, person_ids=[PERIOD_ID]
        ),
        subjects.REPORTS_REPORT_EXPORTED: lambda: _statistics_read("BC-NS-THANG", format="xlsx", people=12),
    }
)
SET_ID = str(uuid.uuid4())


def _backup(store: str = "personnel") -> backup_pb2.Backup:
    return backup_pb2.Backup(
        id=str(uuid.uuid4()), store=store, size_bytes=4096, sha256="ab" * 32, content_digest="cd" * 32, set_id=SET_ID
    )


def _backup_set(status: str, **fields: Any) -> backup_pb2.BackupSet:
    values: dict[str, Any] = {"id": SET_ID, "status": status, "stores": ["personnel", "reports"], "key_id": "k2026"}
    if status in ("good", "pruned"):
        values |= {"manifest_sha256": "ef" * 32, "parts": [_backup("personnel"), _backup("reports")]}
    else:
        values |= {"failure": "OSError: No space left on device"}
    return backup_pb2.BackupSet(**(values | fields))


def _restored(store: str, *, verified: bool, kept: bool) -> backup_pb2.RestoredPart:
    return backup_pb2.RestoredPart(
        store=store,
        backup_id=str(uuid.uuid4()),
        target=f"{store}_su_co_0412",
        expected_digest="cd" * 32,
        content_digest="cd" * 32 if verified else "",
        verified=verified,
        kept_as=f"{store}_truoc_su_co_0412" if kept else "",
    )


def _restore(status: str, **fields: Any) -> backup_pb2.Restore:
    done = status in ("verified", "switched")
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "set_id": SET_ID,
        "status": status,
        "target_suffix": "su_co_0412",
        "reason": "Sự cố ổ đĩa máy chủ CSDL ngày 04/12",
        "requested_by": "5b0e7a4c-9a43-4d1e-8f51-0c8f2d1e6a7b",
        "confirmed_by": "0f3e5a2b-6c1d-4e8f-9a7b-2d4c6e8f0a1b" if done else "",
        "parts": [_restored(s, verified=done, kept=status == "switched") for s in ("personnel", "reports")],
    }
    return backup_pb2.Restore(**(values | fields))


def _drill(status: str, **fields: Any) -> backup_pb2.Drill:
    values: dict[str, Any] = {"id": str(uuid.uuid4()), "status": status, "started_by": "qlcb-backup-drill"}
    if status == "passed":
        values |= {"set_id": SET_ID, "parts": [_restored("personnel", verified=True, kept=False)]}
    return backup_pb2.Drill(**(values | fields))


VALID.update(
    {
        subjects.BACKUP_RUN_COMPLETED: lambda: backup_events.BackupCompleted(backup=_backup()),
        subjects.BACKUP_SET_COMPLETED: lambda: backup_events.BackupSetCompleted(set=_backup_set("good")),
        subjects.BACKUP_SET_FAILED: lambda: backup_events.BackupSetFailed(set=_backup_set("failed")),
        subjects.BACKUP_SET_PRUNED: lambda: backup_events.BackupSetPruned(set=_backup_set("pruned")),
        subjects.BACKUP_RESTORE_REQUESTED: lambda: backup_events.RestoreRequested(restore=_restore("requested")),
        subjects.BACKUP_RESTORE_CANCELLED: lambda: backup_events.RestoreCancelled(
            restore=_restore("cancelled", failure="Hết hạn: không có quản trị viên thứ hai xác nhận")
        ),
        subjects.BACKUP_RESTORE_VERIFIED: lambda: backup_events.RestoreVerified(restore=_restore("verified")),
        subjects.BACKUP_RESTORE_FAILED: lambda: backup_events.RestoreFailed(
            restore=_restore("failed", failure="personnel.part: SHA-256 không khớp với bản kê đã ký")
        ),
        subjects.BACKUP_RESTORE_SWITCHED: lambda: backup_events.RestoreSwitched(restore=_restore("switched")),
        subjects.BACKUP_DRILL_PASSED: lambda: backup_events.DrillFinished(drill=_drill("passed")),
        subjects.BACKUP_DRILL_FAILED: lambda: backup_events.DrillFinished(
            drill=_drill("failed", failure="Chưa có bộ sao lưu hoàn tất nào để diễn tập phục hồi")
        ),
    }
)
CONTRACTS = {**PERSONNEL_EVENTS, **IDENTITY_EVENTS, **REPORTS_EVENTS, **BACKUP_EVENTS}


def _envelope(subject: str, payload: Message, /, **envelope: Any) -> bytes:
    wrapped = wrap(subject, payload, actor="5b0e7a4c-9a43-4d1e-8f51-0c8f2d1e6a7b", occurred_at=datetime.now(UTC))
    for name, value in envelope.items():
        setattr(wrapped, name, value)
    return wrapped.SerializeToString()


def _refusal(subject: str, payload: Message, /, **envelope: Any) -> str:
    with pytest.raises(PoisonMessage) as refused:
        accept(subject, _envelope(subject, payload, **envelope), CONTRACTS)
    return str(refused.value)


def test_every_subject_either_producer_publishes_on_has_a_contract() -> None:
    published = {
        value
        for name, value in vars(subjects).items()
        if isinstance(value, str)
        and name.startswith(("PERSONNEL_", "IDENTITY_", "REPORTS_", "BACKUP_"))
        and "*" not in value
    } - {subjects.PERSONNEL_ALL}
    assert set(PERSONNEL_EVENTS) | set(IDENTITY_EVENTS) | set(REPORTS_EVENTS) | set(BACKUP_EVENTS) == published
    assert published == set(VALID)


@pytest.mark.parametrize("subject", sorted(VALID))
def test_what_the_producer_publishes_is_accepted(subject: str) -> None:
    envelope = accept(subject, _envelope(subject, VALID[subject]()), CONTRACTS)
    assert envelope.subject == subject


def test_a_holding_ended_the_day_it_began_is_accepted() -> None:
    """Its holder left the day the account was handed over: held for no day, and told so."""
    held = VALID[subjects.IDENTITY_HOLDER_RECORDED]()
    assert isinstance(held, identity_events.HolderRecorded)
    held.assignment.valid_to = held.assignment.valid_from
    subject = subjects.IDENTITY_HOLDER_RECORDED
    assert accept(subject, _envelope(subject, held), CONTRACTS).subject == subject


def test_a_unit_taken_in_without_an_establishing_decision_is_accepted() -> None:
    """Its establishment tells no day (ADR 0041), as every establishment published before the field."""
    subject = subjects.PERSONNEL_UNIT_ESTABLISHED
    accept(subject, _envelope(subject, personnel_events.UnitEstablished(unit=_unit())), CONTRACTS)


def _change(subject: str, change: Callable[[Any], None]) -> Message:
    event = VALID[subject]()
    change(event)
    return event


CREATED, RETIRE = subjects.PERSONNEL_PERSON_CREATED, subjects.PERSONNEL_PERSON_RETIRED
MOVE, SPLIT = subjects.PERSONNEL_PERSON_TRANSFERRED, subjects.PERSONNEL_UNIT_SPLIT
ESTABLISHED, DISSOLVED = subjects.PERSONNEL_UNIT_ESTABLISHED, subjects.PERSONNEL_UNIT_DISSOLVED
DECIDED_ON = subjects.PERSONNEL_DECISION_CHANGED
CATALOG = subjects.PERSONNEL_CATALOG_CHANGED
QUOTA = subjects.PERSONNEL_UNIT_QUOTA_SET
RECORDED = subjects.PERSONNEL_RECORD_CHANGED
SEALED = subjects.PERSONNEL_AUDIT_SEALED
APPROVED, RETURNED = subjects.REPORTS_SUBMISSION_APPROVED, subjects.REPORTS_SUBMISSION_RETURNED
SET_GOOD, SET_FAILED = subjects.BACKUP_SET_COMPLETED, subjects.BACKUP_SET_FAILED
ROLLUP_SENT, ROLLUP_FAILED = subjects.REPORTS_ROLLUP_SENT, subjects.REPORTS_ROLLUP_FAILED
UNLOCKED, REMINDED, OPENED = (
    subjects.REPORTS_ASSIGNMENT_UNLOCKED,
    subjects.REPORTS_REMINDER_DUE,
    subjects.REPORTS_PERIOD_OPENED,
)
KEY_ROTATED, KEY_REVOKED = subjects.REPORTS_SIGNING_KEY_ROTATED, subjects.REPORTS_SIGNING_KEY_REVOKED
FORM_READ, FORM_EXPORTED = subjects.REPORTS_STATISTICS_FORM_READ, subjects.REPORTS_STATISTICS_FORM_EXPORTED
PEOPLE_READ = subjects.REPORTS_STATISTICS_PEOPLE_READ


@pytest.mark.parametrize(
    ("subject", "change", "reason"),
    [
        (SET_GOOD, lambda e: e.set.parts.pop(), "set.parts: phải có đúng một phần cho mỗi kho"),
        (SET_GOOD, lambda e: setattr(e.set.parts[0], "sha256", "x"), "set.parts[0].sha256: không phải SHA-256"),
        (SET_FAILED, lambda e: setattr(e.set, "failure", ""), "set.failure"),
        (ROLLUP_SENT, lambda e: setattr(e.delivery, "acknowledged_at", ""), "delivery.acknowledged_at"),
        (ROLLUP_SENT, lambda e: setattr(e.delivery, "status", "failed"), "delivery.status: phải là sent"),
        (ROLLUP_FAILED, lambda e: setattr(e.delivery, "last_error", ""), "delivery.last_error"),
        (subjects.BACKUP_SET_PRUNED, lambda e: e.set.parts.pop(), "set.parts: phải có đúng một phần cho mỗi kho"),
        (
            subjects.BACKUP_RESTORE_VERIFIED,
            lambda e: setattr(e.restore, "confirmed_by", e.restore.requested_by),
            "restore.confirmed_by: phải là một tài khoản khác người yêu cầu",
        ),
        (
            subjects.BACKUP_RESTORE_VERIFIED,
            lambda e: setattr(e.restore.parts[1], "verified", False),
            "restore.parts: mọi phần phải khớp",
        ),
        (subjects.BACKUP_RESTORE_SWITCHED, lambda e: setattr(e.restore.parts[0], "kept_as", ""), "kept_as"),
        (subjects.BACKUP_RESTORE_FAILED, lambda e: setattr(e.restore, "failure", ""), "restore.failure"),
        (subjects.BACKUP_RESTORE_REQUESTED, lambda e: e.restore.parts.pop() and e.restore.parts.pop(), "restore.parts"),
        (subjects.BACKUP_DRILL_FAILED, lambda e: setattr(e.drill, "failure", ""), "drill.failure"),
        (subjects.BACKUP_DRILL_PASSED, lambda e: setattr(e.drill.parts[0], "verified", False), "drill.parts"),
        (CREATED, lambda e: setattr(e.person, "personal_id", "٠٠١٠٨٨٠٠٠١٢٣"), "person.personal_id: Số định danh"),
        (CREATED, lambda e: setattr(e.person, "staff_number", "HQ 0123"), "person.staff_number: Số hiệu cán bộ"),
        (RETIRE, lambda e: setattr(e.person, "full_name", "Nguyễn\u202eThủy"), "person.full_name: Không được chứa"),
        (
            RETIRE,
            lambda e: setattr(e.person, "full_name", unicodedata.normalize("NFD", "Nguyễn Thị Thủy")),
            "person.full_name: không ở dạng lưu trữ",
        ),
        (RETIRE, lambda e: setattr(e.person, "full_name", " Nguyễn Thị Thủy"), "person.full_name: không ở dạng"),
        (CREATED, lambda e: setattr(e.person, "date_of_birth", "19880519"), "person.date_of_birth"),
        (CREATED, lambda e: setattr(e.person, "sex", 0), "person.sex"),
        (CREATED, lambda e: setattr(e.person, "unit_id", "HQHN-NB"), "person.unit_id: không phải UUID"),
        (CREATED, lambda e: setattr(e.person, "status", RETIRED), "person.status"),
        (RETIRE, lambda e: setattr(e.person, "status", ACTIVE), "person.status: phải là PERSON_STATUS_RETIRED"),
        (RETIRE, lambda e: setattr(e, "previous_status", 42), "previous_status"),
        (RETIRE, lambda e: setattr(e, "effective_date", "2026-13-01"), "effective_date"),
        (RETIRE, lambda e: setattr(e, "decision", "125/QĐ\nTCHQ"), "decision: Không được chứa"),
        (RETIRE, lambda e: setattr(e, "decision", ""), "decision: Số quyết định"),
        (MOVE, lambda e: setattr(e.to_unit, "path", "/"), "to_unit.path"),
        (MOVE, lambda e: setattr(e.person, "unit_id", NOI_BAI_ID), "to_unit.id"),
        (MOVE, lambda e: setattr(e, "reason", 0), "reason"),
        (MOVE, lambda e: setattr(e, "transfer_id", ""), "transfer_id: không phải UUID"),
        (ESTABLISHED, lambda e: setattr(e.unit, "code", "hqhn-nb"), "unit.code: không ở dạng lưu trữ"),
        (ESTABLISHED, lambda e: setattr(e.unit, "kind", 99), "unit.kind"),
        (ESTABLISHED, lambda e: setattr(e.unit, "parent_id", ""), "unit.parent_id: chỉ đơn vị gốc"),
        (ESTABLISHED, lambda e: setattr(e.unit, "name", ""), "unit.name: Tên đơn vị không được để trống"),
        (ESTABLISHED, lambda e: setattr(e, "established_on", "1/7/2025"), "established_on"),
        (DISSOLVED, lambda e: setattr(e.unit, "dissolved_on", ""), "unit.dissolved_on"),
        (SPLIT, lambda e: e.successors.pop(), "successors: 2–50 đơn vị"),
        (DECIDED_ON, lambda e: setattr(e.decision, "kind", "promotion"), "decision.kind"),
        (DECIDED_ON, lambda e: setattr(e.decision, "people_total", 2), "decision.items"),
        (DECIDED_ON, lambda e: setattr(e.decision.items[0], "values_json", '{"form": "ldtt "}'), "values_json"),
        (DECIDED_ON, lambda e: setattr(e.decision.items[0], "values_json", '{"x": 1}'), "items[0].values.x"),
        (SPLIT, lambda e: setattr(e.successors[1], "path", "/TCHQ/HQHN/X"), "successors[1].path"),
        (QUOTA, lambda e: setattr(e.change, "quota", -1), "change.quota: Biên chế phải là số nguyên từ 0"),
        (QUOTA, lambda e: setattr(e.change, "year", 1900), "change.year: Năm phải từ 1990"),
        (QUOTA, lambda e: setattr(e.change, "unit_id", HANOI_ID), "change.unit_id"),
        (QUOTA, lambda e: setattr(e.change, "change", "assigned"), "change.previous_quota"),
        (QUOTA, lambda e: setattr(e.change, "decision", ""), "change.decision: Số quyết định"),
        (CATALOG, lambda e: setattr(e.value, "code", "36 "), "value.code: không ở dạng lưu trữ"),
        (CATALOG, lambda e: setattr(e.value, "code", "tỉnh"), "value.code: 1–32 ký tự"),
        (CATALOG, lambda e: setattr(e.value, "catalog", "Provinces"), "value.catalog"),
        (CATALOG, lambda e: setattr(e.value, "label", ""), "value.label: bắt buộc"),
        (CATALOG, lambda e: setattr(e.value, "label", "Tỉnh  Nam Định"), "value.label: không ở dạng lưu trữ"),
        (CATALOG, lambda e: setattr(e.value, "stat_group", "T" * 33), "value.stat_group: dài quá 32"),
        (CATALOG, lambda e: setattr(e.value, "valid_to", "2008-07-31"), "value.valid_to: trước ngày bắt đầu"),
        (CATALOG, lambda e: setattr(e.value, "valid_to", ""), "value.valid_to: phiên bản đã kết thúc"),
        (CATALOG, lambda e: setattr(e.value, "attributes_json", "[1]"), "value.attributes_json"),
        (CATALOG, lambda e: setattr(e, "change", "deleted"), "change: phải là một trong"),
        (CATALOG, lambda e: setattr(e, "changed_by", ""), "changed_by: 1–64"),
        (
            subjects.IDENTITY_DELEGATION_GRANTED,
            lambda e: e.delegation.tiers.append("self"),
            "delegation.tiers",
        ),
        (subjects.IDENTITY_DELEGATION_REVOKED, lambda e: setattr(e, "id", "x"), "id: not a UUID"),
        (APPROVED, lambda e: setattr(e.transition, "action", "returned"), "transition.action: phải là approved"),
        (APPROVED, lambda e: setattr(e.assignment, "state", "draft"), "assignment.state: phải là approved"),
        (RETURNED, lambda e: setattr(e.transition, "reason", ""), "transition.reason: bắt buộc"),
        (RETURNED, lambda e: setattr(e.assignment, "unit_path", "TCHQ"), "assignment.unit_path"),
        (UNLOCKED, lambda e: setattr(e.assignment, "reopened_until", ""), "assignment.reopened_until"),
        (REMINDED, lambda e: setattr(e.assignment, "state", "approved"), "assignment.state: chỉ nhắc báo cáo chưa gửi"),
        (OPENED, lambda e: setattr(e.period, "ends_on", "2026-10-01"), "period.ends_on: trước ngày bắt đầu"),
        (OPENED, lambda e: setattr(e, "regime_code", "bc thang"), "regime_code"),
        (KEY_ROTATED, lambda e: setattr(e.change, "action", "revoked"), "change.action: phải là rotated"),
        (KEY_REVOKED, lambda e: setattr(e.change, "reason", " "), "change.reason: bắt buộc khi thu hồi"),
        (KEY_REVOKED, lambda e: setattr(e.change, "previous_serial", ""), "change.previous_serial"),
        (KEY_ROTATED, lambda e: setattr(e.change, "serial", "3f9a0c6d2b1e"), "change.serial: phải là chứng thư mới"),
        (KEY_ROTATED, lambda e: setattr(e.change, "serial", "5E:7B"), "change.serial: không phải số hiệu"),
        (KEY_REVOKED, lambda e: setattr(e.change, "unit_path", "HQHN-NB"), "change.unit_path"),
        (
            subjects.IDENTITY_HOLDER_RECORDED,
            lambda e: setattr(e.assignment, "valid_to", "2025-12-31"),
            "assignment.valid_to: trước ngày bắt đầu giữ",
        ),
        (SEALED, lambda e: setattr(e, "seq", 0), "seq: phải từ 1"),
        (SEALED, lambda e: setattr(e, "hash", "5" * 63), "hash: không phải mã băm SHA-256"),
        (SEALED, lambda e: setattr(e, "sealed_at", "2026-12-06T12:50:01"), "sealed_at: thiếu múi giờ"),
        (SEALED, lambda e: setattr(e, "sealed_at", "hôm nay"), "sealed_at: không phải thời điểm"),
        (FORM_READ, lambda e: setattr(e, "format", "xlsx"), "format: chỉ khi xuất tệp"),
        (FORM_EXPORTED, lambda e: setattr(e, "format", ""), "format: phải là một trong"),
        (subjects.REPORTS_REPORT_EXPORTED, lambda e: setattr(e, "format", ""), "format: phải là một trong"),
        (subjects.REPORTS_REPORT_EXPORTED, lambda e: setattr(e, "form", "bc thang"), "form: không phải mã chế độ"),
        (FORM_READ, lambda e: setattr(e, "account", ""), "account: 1–255"),
        (FORM_READ, lambda e: setattr(e, "read_at", "2026-12-06T03:04:05"), "read_at"),
        (FORM_READ, lambda e: setattr(e, "unit_path", "HQHN"), "unit_path"),
        (FORM_READ, lambda e: e.person_ids.append(PERIOD_ID), "row: chỉ khi xem những người của một ô"),
        (PEOPLE_READ, lambda e: e.person_ids.append(PERIOD_ID), "person_ids: mỗi người đã đưa ra một mã"),
        (PEOPLE_READ, lambda e: setattr(e, "row", "p01"), "row: total, own"),
        (PEOPLE_READ, lambda e: setattr(e, "page", 0), "page: từ 1"),
        (PEOPLE_READ, lambda e: e.person_ids.__setitem__(0, "x"), "person_ids[0]"),
        (RECORDED, lambda e: e.coded.add(field="level", catalog="evaluation_levels", code="HTXSNV"), "coded[1]"),
        (RECORDED, lambda e: e.coded.add(field="year", catalog="evaluation_levels", code="HTTNV"), "coded[1]"),
        (
            RECORDED,
            lambda e: e.coded.add(field="level", catalog="evaluation_levels", code="HTTNV", stat_group="X" * 40),
            "coded[1].stat_group",
        ),
    ],
)
def test_what_the_producers_api_would_refuse_is_poison_naming_the_field(
    subject: str, change: Callable[[Any], None], reason: str
) -> None:
    assert reason in _refusal(subject, _change(subject, change))


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        ({"subject": RETIRE}, "subject: the envelope says"),
        ({"event_id": "1"}, "event_id: not a UUID"),
        ({"actor": ""}, "actor: 1–64"),
        ({"actor": "quantri\u0007"}, "actor: Không được chứa"),
    ],
)
def test_an_envelope_its_producer_would_not_write_is_poison(envelope: dict[str, str], reason: str) -> None:
    assert reason in _refusal(CREATED, VALID[CREATED](), **envelope)


def test_a_payload_of_another_type_is_poison() -> None:
    assert "payload: is qlcb.personnel.v1.PersonCreated" in _refusal(RETIRE, VALID[CREATED]())


def test_a_subject_no_producer_publishes_on_is_poison() -> None:
    subject = "qlcb.personnel.person.promoted"
    with pytest.raises(PoisonMessage, match="subject: no event is published on it"):
        accept(subject, _envelope(subject, VALID[CREATED]()), CONTRACTS)
