"""What each subject may carry, checked by every consumer before anything is applied.

NATS lets a producer publish only its own subjects (`events.permissions`); this catches what such
a producer could still send: an event its own API would never have produced (a personal id in
Arabic-Indic digits, a name with a bidi override or not in NFC, a unit path that is not one, an
unknown enum value, a delegation with a sector tier). Personnel's events are checked with the
rules personnel's API applies (`personnel_rules`), identity's with the delegation rules of
`authz.delegations`. An event that fails is a `PoisonMessage` naming the field; the consumer
dead-letters it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from qlcb.backup.v1 import backup_pb2
from qlcb.backup.v1 import events_pb2 as backup_events
from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb.identity.v1 import events_pb2 as identity_events
from qlcb.personnel.v1 import decision_pb2, personnel_pb2
from qlcb.personnel.v1 import events_pb2 as personnel_events
from qlcb.reports.v1 import events_pb2 as reports_events
from qlcb.reports.v1 import rollup_pb2 as reports_rollup
from qlcb.reports.v1 import workflow_pb2 as reports_workflow
from qlcb_common import decision_kinds, record_sections
from qlcb_common import personnel_rules as rules
from qlcb_common.authz import delegations
from qlcb_common.errors import FieldViolation
from qlcb_common.events import subjects
from qlcb_common.events.envelope import PoisonMessage, parse, unpack
from qlcb_common.identifiers import PERSONAL_ID, UNIT_PATH, UUID
from qlcb_common.limits import MAX_MERGE_SOURCES, MAX_SPLIT_SUCCESSORS, MAX_STATISTICS_PEOPLE_PAGE
from qlcb_common.text import control_violation

M = TypeVar("M", bound=Message)

MAX_ACTOR = 64
MAX_USERNAME = 255
"""The producers record who decided in 64 characters (a Keycloak subject is a UUID)."""


@dataclass(frozen=True)
class Contract(Generic[M]):
    """The payload type of one subject and what is wrong with a payload (nothing: acceptable)."""

    payload: type[M]
    violations: Callable[[M], list[FieldViolation]]

    def check(self, envelope: Envelope) -> None:
        if found := self.violations(unpack(envelope, self.payload)):
            raise PoisonMessage(found)


Contracts = Mapping[str, Contract[Any]]


def accept(subject: str, data: bytes, contracts: Contracts) -> Envelope:
    """The envelope published on `subject`, if it is one its producer could have sent."""
    envelope = parse(data)
    found: list[FieldViolation] = []
    if envelope.subject != subject:
        found.append(FieldViolation("subject", f"the envelope says {envelope.subject!r}"))
    elif subject not in contracts:
        found.append(FieldViolation("subject", "no event is published on it"))
    if not UUID.fullmatch(envelope.event_id):
        found.append(FieldViolation("event_id", "not a UUID"))
    if refused := control_violation("actor", envelope.actor):
        found.append(refused)
    elif not 0 < len(envelope.actor) <= MAX_ACTOR:
        found.append(FieldViolation("actor", f"1–{MAX_ACTOR} characters"))
    if envelope.occurred_at == Timestamp():
        found.append(FieldViolation("occurred_at", "missing"))
    if found:
        raise PoisonMessage(found)
    contracts[subject].check(envelope)
    return envelope


# Personnel's events carry what personnel stored: values its checks accept, in the form it keeps.


def _stored(field: str, value: str, stored: str, found: list[FieldViolation], before: int) -> None:
    """A value its check let through must also be as personnel stores it (trimmed, NFC, upper-case code)."""
    if len(found) == before and value != stored:
        found.append(FieldViolation(field, "không ở dạng lưu trữ (NFC, không khoảng trắng thừa)"))


def _text(
    check: Callable[[str, list[FieldViolation], str], str], value: str, field: str, found: list[FieldViolation]
) -> None:
    before = len(found)
    _stored(field, value, check(value, found, field), found, before)


def _uuid(value: str, field: str, found: list[FieldViolation]) -> None:
    if not UUID.fullmatch(value):
        found.append(FieldViolation(field, "không phải UUID"))


def _date(value: str, field: str, found: list[FieldViolation]) -> None:
    before = len(found)
    parsed = rules.iso_date(value, found, field, "Ngày phải theo dạng YYYY-MM-DD")
    _stored(field, value, parsed.isoformat() if parsed else value, found, before)


def _enum(enum: EnumDescriptor, value: int, allowed: frozenset[str], field: str, found: list[FieldViolation]) -> str:
    """The name of an enum value, which must be one of `allowed` (an unknown number has none)."""
    known = enum.values_by_number.get(value)
    name = known.name if known is not None else ""
    if name not in allowed:
        found.append(FieldViolation(field, f"phải là một trong {sorted(allowed)}"))
    return name


_STATUSES = frozenset(personnel_pb2.PersonStatus.keys()) - {"PERSON_STATUS_UNSPECIFIED"}
_MOVE_REASONS = frozenset(personnel_events.MoveReason.keys()) - {"MOVE_REASON_UNSPECIFIED"}


def _unit(unit: personnel_pb2.Unit, field: str, found: list[FieldViolation]) -> None:
    _uuid(unit.id, f"{field}.id", found)
    _text(rules.unit_code, unit.code, f"{field}.code", found)
    _text(rules.unit_name, unit.name, f"{field}.name", found)
    _enum(personnel_pb2.UnitKind.DESCRIPTOR, unit.kind, rules.UNIT_KINDS, f"{field}.kind", found)
    if unit.parent_id:
        _uuid(unit.parent_id, f"{field}.parent_id", found)
    if not UNIT_PATH.fullmatch(unit.path) or not unit.path.endswith(f"/{unit.code}"):
        found.append(FieldViolation(f"{field}.path", "không phải đường dẫn mã đơn vị kết thúc bằng mã của nó"))
    elif bool(unit.parent_id) != (unit.path.count("/") > 1):
        found.append(FieldViolation(f"{field}.parent_id", "chỉ đơn vị gốc không có đơn vị cấp trên"))
    if unit.dissolved_on:
        _date(unit.dissolved_on, f"{field}.dissolved_on", found)


def _person(person: personnel_pb2.Person, field: str, found: list[FieldViolation]) -> None:
    _uuid(person.id, f"{field}.id", found)
    _text(rules.personal_id, person.personal_id, f"{field}.personal_id", found)
    _text(rules.staff_number, person.staff_number, f"{field}.staff_number", found)
    _text(rules.full_name, person.full_name, f"{field}.full_name", found)
    _date(person.date_of_birth, f"{field}.date_of_birth", found)
    _enum(personnel_pb2.Sex.DESCRIPTOR, person.sex, frozenset(rules.SEXES), f"{field}.sex", found)
    _uuid(person.unit_id, f"{field}.unit_id", found)
    _enum(personnel_pb2.PersonStatus.DESCRIPTOR, person.status, _STATUSES, f"{field}.status", found)


def _decided(effective_date: str, decision: str, found: list[FieldViolation]) -> None:
    _date(effective_date, "effective_date", found)
    _text(rules.decision_number, decision, "decision", found)


def _established(event: personnel_events.UnitEstablished) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _unit(event.unit, "unit", found)
    if event.unit.dissolved_on:
        found.append(FieldViolation("unit.dissolved_on", "đơn vị mới thành lập chưa giải thể"))
    if event.established_on:
        _date(event.established_on, "established_on", found)
    return found


def _renamed(event: personnel_events.UnitRenamed) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _unit(event.unit, "unit", found)
    _text(rules.unit_name, event.previous_name, "previous_name", found)
    _decided(event.effective_date, event.decision, found)
    return found


def _moved(event: personnel_events.UnitMoved) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _unit(event.unit, "unit", found)
    if not UNIT_PATH.fullmatch(event.previous_path):
        found.append(FieldViolation("previous_path", "không phải đường dẫn mã đơn vị"))
    _decided(event.effective_date, event.decision, found)
    return found


def _dissolved(event: personnel_events.UnitDissolved) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _unit(event.unit, "unit", found)
    _decided(event.effective_date, event.decision, found)
    if event.unit.dissolved_on != event.effective_date:
        found.append(FieldViolation("unit.dissolved_on", "phải là ngày hiệu lực của quyết định"))
    return found


def _units(units: Any, field: str, least: int, most: int, found: list[FieldViolation]) -> None:
    if not least <= len(units) <= most:
        found.append(FieldViolation(field, f"{least}–{most} đơn vị"))
    for index, unit in enumerate(units[:most]):
        _unit(unit, f"{field}[{index}]", found)


def _merged(event: personnel_events.UnitsMerged) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _units(event.sources, "sources", 1, MAX_MERGE_SOURCES, found)
    _unit(event.target, "target", found)
    _decided(event.effective_date, event.decision, found)
    return found


def _split(event: personnel_events.UnitSplit) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _unit(event.source, "source", found)
    _units(event.successors, "successors", 2, MAX_SPLIT_SUCCESSORS, found)
    _decided(event.effective_date, event.decision, found)
    return found


_QUOTA_CHANGES = frozenset({"assigned", "changed", "corrected"})


def _quota_set(event: personnel_events.UnitQuotaSet) -> list[FieldViolation]:
    """A quota personnel's API would set: of the unit named, for a year and of a size it accepts,
    from a decision; the first of a year has no previous quota, a later one has one."""
    found: list[FieldViolation] = []
    _unit(event.unit, "unit", found)
    change = event.change
    if change.unit_id != event.unit.id:
        found.append(FieldViolation("change.unit_id", "phải là đơn vị của sự kiện"))
    rules.quota_year(change.year, found, "change.year")
    rules.quota(change.quota, found, "change.quota")
    if change.HasField("previous_quota"):
        rules.quota(change.previous_quota, found, "change.previous_quota")
    if change.change not in _QUOTA_CHANGES:
        found.append(FieldViolation("change.change", f"phải là một trong {sorted(_QUOTA_CHANGES)}"))
    elif (change.change == "assigned") == change.HasField("previous_quota"):
        found.append(FieldViolation("change.previous_quota", "chỉ lần giao đầu tiên không có biên chế trước đó"))
    _date(change.effective_date, "change.effective_date", found)
    _text(rules.decision_number, change.decision, "change.decision", found)
    _date(change.recorded_at[:10], "change.recorded_at", found)
    if refused := control_violation("change.recorded_by", change.recorded_by):
        found.append(refused)
    elif not 0 < len(change.recorded_by) <= MAX_ACTOR:
        found.append(FieldViolation("change.recorded_by", f"1–{MAX_ACTOR} ký tự"))
    return found


def _created(event: personnel_events.PersonCreated) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _person(event.person, "person", found)
    if event.person.status != personnel_pb2.PERSON_STATUS_ACTIVE:
        found.append(FieldViolation("person.status", "hồ sơ mới phải đang công tác"))
    if event.HasField("unit"):
        _unit(event.unit, "unit", found)
        if event.unit.id != event.person.unit_id:
            found.append(FieldViolation("unit.id", "phải là đơn vị của hồ sơ"))
    return found


def _status_changed(
    status: personnel_pb2.PersonStatus.ValueType,
) -> Callable[[personnel_events.PersonStatusChanged], list[FieldViolation]]:
    """The check of one status subject: the person must stand in the status it announces."""

    def violations(event: personnel_events.PersonStatusChanged) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        _person(event.person, "person", found)
        if event.person.status != status:
            found.append(FieldViolation("person.status", f"phải là {personnel_pb2.PersonStatus.Name(status)}"))
        previous = _enum(
            personnel_pb2.PersonStatus.DESCRIPTOR, event.previous_status, _STATUSES, "previous_status", found
        )
        if previous == personnel_pb2.PersonStatus.Name(status):
            found.append(FieldViolation("previous_status", "phải khác tình trạng mới"))
        _decided(event.effective_date, event.decision, found)
        return found

    return violations


def _transferred(event: personnel_events.PersonTransferred) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _person(event.person, "person", found)
    _unit(event.from_unit, "from_unit", found)
    _unit(event.to_unit, "to_unit", found)
    if event.person.unit_id != event.to_unit.id or event.from_unit.id == event.to_unit.id:
        found.append(FieldViolation("to_unit.id", "phải là đơn vị mới của hồ sơ, khác đơn vị cũ"))
    reason = _enum(personnel_events.MoveReason.DESCRIPTOR, event.reason, _MOVE_REASONS, "reason", found)
    if reason == "MOVE_REASON_TRANSFER":
        _uuid(event.transfer_id, "transfer_id", found)
    elif event.transfer_id:
        found.append(FieldViolation("transfer_id", "chỉ có khi điều động"))
    _decided(event.effective_date, event.decision, found)
    return found


_CHANGES = frozenset({"recorded", "corrected", "closed", "reopened", "retracted"})


def _record_changed(event: personnel_events.RecordEntryChanged) -> list[FieldViolation]:
    """The entry's values must be what the section's declaration accepts, as personnel stores them."""
    found: list[FieldViolation] = []
    _uuid(event.person_id, "person_id", found)
    _text(rules.personal_id, event.personal_id, "personal_id", found)
    entry = event.entry
    _uuid(entry.entry_id, "entry.entry_id", found)
    section = record_sections.BY_NAME.get(entry.section)
    if section is None:
        found.append(FieldViolation("entry.section", "không phải mục hồ sơ đã khai báo"))
        return found
    if entry.change not in _CHANGES:
        found.append(FieldViolation("entry.change", f"phải là một trong {sorted(_CHANGES)}"))
    try:
        values = json.loads(entry.values_json)
    except json.JSONDecodeError:
        found.append(FieldViolation("entry.values_json", "không phải JSON"))
        return found
    if not isinstance(values, dict):
        found.append(FieldViolation("entry.values_json", "phải là một đối tượng JSON"))
        return found
    violations: list[FieldViolation] = []
    stored = record_sections.check_values(section, values, violations)
    found += [FieldViolation(f"entry.{v.field}", v.description) for v in violations]
    if not violations and stored != values:
        found.append(FieldViolation("entry.values_json", "không ở dạng lưu trữ (NFC, đã chuẩn hóa)"))
    catalogs = {f.name: f.catalog for f in section.fields if f.catalog is not None}
    for i, coded in enumerate(event.coded):
        if catalogs.get(coded.field) != coded.catalog or values.get(coded.field) != coded.code:
            found.append(FieldViolation(f"coded[{i}]", "không phải mã danh mục trong các giá trị của mục"))
        _short(coded.stat_group, f"coded[{i}].stat_group", rules.MAX_CATALOG_GROUP, found)
        _short(coded.kind, f"coded[{i}].kind", rules.MAX_CATALOG_GROUP, found)
    return found


_DECISION_STATES = frozenset(decision_pb2.DecisionState.keys()) - {"DECISION_STATE_UNSPECIFIED"}


def _decision_changed(event: personnel_events.DecisionChanged) -> list[FieldViolation]:
    """A decision names a declared kind and at least one person; an item of a kind that makes
    entries carries values its section accepts, as personnel stores them."""
    found: list[FieldViolation] = []
    decision = event.decision
    _uuid(decision.id, "decision.id", found)
    kind = decision_kinds.KIND_BY_NAME.get(decision.kind)
    if kind is None:
        found.append(FieldViolation("decision.kind", "không phải loại quyết định đã khai báo"))
    _decided(decision.effective_date, decision.number, found)
    _date(decision.decision_date, "decision.decision_date", found)
    _enum(decision_pb2.DecisionState.DESCRIPTOR, decision.state, _DECISION_STATES, "decision.state", found)
    if not decision.items or decision.people_total != len(decision.items):
        found.append(FieldViolation("decision.items", "phải nêu mọi người của quyết định, ít nhất một"))
    section = kind.record_section if kind is not None else None
    for index, item in enumerate(decision.items):
        where = f"decision.items[{index}]"
        _uuid(item.person_id, f"{where}.person_id", found)
        if section is None:
            continue
        try:
            values = json.loads(item.values_json)
        except json.JSONDecodeError:
            found.append(FieldViolation(f"{where}.values_json", "không phải JSON"))
            continue
        violations: list[FieldViolation] = []
        stored = record_sections.check_values(section, values if isinstance(values, dict) else {}, violations)
        found += [FieldViolation(f"{where}.{v.field}", v.description) for v in violations]
        if not violations and stored != values:
            found.append(FieldViolation(f"{where}.values_json", "không ở dạng lưu trữ (NFC, đã chuẩn hóa)"))
    return found


_CATALOG_CHANGES = frozenset({"added", "closed", "ended"})


def _short(value: str, field: str, limit: int, found: list[FieldViolation], *, required: bool = False) -> None:
    before = len(found)
    _stored(field, value, rules.short_text(value, field, limit, found, required=required) or "", found, before)


def _catalog_changed(event: personnel_events.CatalogValueChanged) -> list[FieldViolation]:
    """A catalog value as personnel's API stores it: a code of the catalog's form, a label, a
    group and a legal basis within their limits, a period that does not end before it starts,
    attributes as a JSON object; and who changed it."""
    found: list[FieldViolation] = []
    value = event.value
    if not rules.CATALOG_NAME.fullmatch(value.catalog):
        found.append(FieldViolation("value.catalog", "không phải tên danh mục"))
    _text(rules.catalog_code, value.code, "value.code", found)
    _short(value.label, "value.label", rules.MAX_CATALOG_LABEL, found, required=True)
    _short(value.stat_group, "value.stat_group", rules.MAX_CATALOG_GROUP, found)
    _short(value.legal_basis, "value.legal_basis", rules.MAX_LEGAL_BASIS, found, required=True)
    _date(value.valid_from, "value.valid_from", found)
    if value.valid_to:
        _date(value.valid_to, "value.valid_to", found)
        if value.valid_to < value.valid_from:
            found.append(FieldViolation("value.valid_to", "trước ngày bắt đầu"))
    elif event.change != "added":
        found.append(FieldViolation("value.valid_to", "phiên bản đã kết thúc phải có ngày cuối"))
    try:
        attributes = json.loads(value.attributes_json)
    except json.JSONDecodeError:
        attributes = None
    if not isinstance(attributes, dict):
        found.append(FieldViolation("value.attributes_json", "phải là một đối tượng JSON"))
    if event.change not in _CATALOG_CHANGES:
        found.append(FieldViolation("change", f"phải là một trong {sorted(_CATALOG_CHANGES)}"))
    if refused := control_violation("changed_by", event.changed_by):
        found.append(refused)
    elif not 0 < len(event.changed_by) <= MAX_ACTOR:
        found.append(FieldViolation("changed_by", f"1–{MAX_ACTOR} ký tự"))
    return found


SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _audit_sealed(event: personnel_events.AuditChainSealed) -> list[FieldViolation]:
    """The audit chain's head: a number in the chain, a SHA-256 in hex, an instant with its offset."""
    found: list[FieldViolation] = []
    if event.seq < 1:
        found.append(FieldViolation("seq", "phải từ 1"))
    if not SHA256_HEX.fullmatch(event.hash):
        found.append(FieldViolation("hash", "không phải mã băm SHA-256 dạng hex"))
    try:
        sealed_at = datetime.fromisoformat(event.sealed_at)
    except ValueError:
        found.append(FieldViolation("sealed_at", "không phải thời điểm ISO 8601"))
    else:
        if sealed_at.tzinfo is None:
            found.append(FieldViolation("sealed_at", "thiếu múi giờ"))
    return found


PERSONNEL_EVENTS: Contracts = {
    subjects.PERSONNEL_UNIT_ESTABLISHED: Contract(personnel_events.UnitEstablished, _established),
    subjects.PERSONNEL_UNIT_RENAMED: Contract(personnel_events.UnitRenamed, _renamed),
    subjects.PERSONNEL_UNIT_MOVED: Contract(personnel_events.UnitMoved, _moved),
    subjects.PERSONNEL_UNIT_DISSOLVED: Contract(personnel_events.UnitDissolved, _dissolved),
    subjects.PERSONNEL_UNIT_MERGED: Contract(personnel_events.UnitsMerged, _merged),
    subjects.PERSONNEL_UNIT_SPLIT: Contract(personnel_events.UnitSplit, _split),
    subjects.PERSONNEL_UNIT_QUOTA_SET: Contract(personnel_events.UnitQuotaSet, _quota_set),
    subjects.PERSONNEL_PERSON_CREATED: Contract(personnel_events.PersonCreated, _created),
    subjects.PERSONNEL_PERSON_RETIRED: Contract(
        personnel_events.PersonStatusChanged, _status_changed(personnel_pb2.PERSON_STATUS_RETIRED)
    ),
    subjects.PERSONNEL_PERSON_RESIGNED: Contract(
        personnel_events.PersonStatusChanged, _status_changed(personnel_pb2.PERSON_STATUS_RESIGNED)
    ),
    subjects.PERSONNEL_PERSON_DIED: Contract(
        personnel_events.PersonStatusChanged, _status_changed(personnel_pb2.PERSON_STATUS_DECEASED)
    ),
    subjects.PERSONNEL_PERSON_MOVED_OUT: Contract(
        personnel_events.PersonStatusChanged, _status_changed(personnel_pb2.PERSON_STATUS_MOVED_OUT)
    ),
    subjects.PERSONNEL_PERSON_REINSTATED: Contract(
        personnel_events.PersonStatusChanged, _status_changed(personnel_pb2.PERSON_STATUS_ACTIVE)
    ),
    subjects.PERSONNEL_PERSON_TRANSFERRED: Contract(personnel_events.PersonTransferred, _transferred),
    subjects.PERSONNEL_RECORD_CHANGED: Contract(personnel_events.RecordEntryChanged, _record_changed),
    subjects.PERSONNEL_DECISION_CHANGED: Contract(personnel_events.DecisionChanged, _decision_changed),
    subjects.PERSONNEL_CATALOG_CHANGED: Contract(personnel_events.CatalogValueChanged, _catalog_changed),
    subjects.PERSONNEL_AUDIT_SEALED: Contract(personnel_events.AuditChainSealed, _audit_sealed),
}
"""Every subject personnel publishes on."""


def _holder_recorded(event: identity_events.HolderRecorded) -> list[FieldViolation]:
    """A purpose account's holding as identity records it: its login, unit and holder, and a
    period that does not end before it starts."""
    found: list[FieldViolation] = []
    held = event.assignment
    _uuid(held.id, "assignment.id", found)
    _short(held.account_username, "assignment.account_username", MAX_USERNAME, found, required=True)
    if not UNIT_PATH.fullmatch(held.unit_path):
        found.append(FieldViolation("assignment.unit_path", "không phải đường dẫn mã đơn vị"))
    _short(held.holder_name, "assignment.holder_name", rules.MAX_FULL_NAME, found, required=True)
    if held.holder_personal_id and not PERSONAL_ID.fullmatch(held.holder_personal_id):
        found.append(FieldViolation("assignment.holder_personal_id", "không phải số định danh cá nhân"))
    _date(held.valid_from, "assignment.valid_from", found)
    if held.valid_to:
        _date(held.valid_to, "assignment.valid_to", found)
        # Equal: a holding ended the day it began (its holder left that day), held for no day.
        if held.valid_to < held.valid_from:
            found.append(FieldViolation("assignment.valid_to", "trước ngày bắt đầu giữ"))
    return found


IDENTITY_EVENTS: Contracts = {
    subjects.IDENTITY_HOLDER_RECORDED: Contract(identity_events.HolderRecorded, _holder_recorded),
    subjects.IDENTITY_DELEGATION_GRANTED: Contract(
        identity_events.DelegationGranted, lambda event: delegations.violations(event.delegation)
    ),
    subjects.IDENTITY_DELEGATION_REVOKED: Contract(
        identity_events.DelegationRevoked, delegations.revocation_violations
    ),
}
"""Every subject identity publishes on."""


# Reports' events: the report workflow's steps, its periods and its reminders. The states and steps
# are those of reports' workflow (`qlcb_reports.workflow.states`), restated here as the contract.

_REPORT_STATES = frozenset({"not_started", "draft", "submitted", "returned", "approved"})
_NOT_SENT = frozenset({"not_started", "draft", "returned"})
_REGIME_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}", re.ASCII)
_STEP_OF = {
    subjects.REPORTS_SUBMISSION_SUBMITTED: ("submitted", "submitted"),
    subjects.REPORTS_SUBMISSION_RECALLED: ("recalled", "draft"),
    subjects.REPORTS_SUBMISSION_RETURNED: ("returned", "returned"),
    subjects.REPORTS_SUBMISSION_APPROVED: ("approved", "approved"),
    subjects.REPORTS_SUBMISSION_REOPENED: ("reopened", "returned"),
}
"""The step each subject announces, and the state it leaves the report in."""


def _regime_code(value: str, found: list[FieldViolation]) -> None:
    if not _REGIME_CODE.fullmatch(value):
        found.append(FieldViolation("regime_code", "không phải mã chế độ báo cáo"))


def _report(assignment: reports_workflow.Assignment, found: list[FieldViolation]) -> None:
    for name in ("id", "period_id", "regime_id", "unit_id", "approver_unit_id"):
        _uuid(getattr(assignment, name), f"assignment.{name}", found)
    if not UNIT_PATH.fullmatch(assignment.unit_path):
        found.append(FieldViolation("assignment.unit_path", "không phải đường dẫn mã đơn vị"))
    if assignment.state not in _REPORT_STATES:
        found.append(FieldViolation("assignment.state", f"phải là một trong {sorted(_REPORT_STATES)}"))
    _date(assignment.deadline, "assignment.deadline", found)
    if assignment.version < 1:
        found.append(FieldViolation("assignment.version", "từ 1"))


def _step_changed(subject: str) -> Callable[[reports_events.SubmissionChanged], list[FieldViolation]]:
    """The check of one step's subject: the transition is that step, and the report is where it leaves it."""

    def violations(event: reports_events.SubmissionChanged) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        _regime_code(event.regime_code, found)
        _report(event.assignment, found)
        step, state = _STEP_OF.get(subject, ("unlocked", event.assignment.state))
        if event.transition.action != step:
            found.append(FieldViolation("transition.action", f"phải là {step}"))
        if event.assignment.state != state or event.transition.to_state != state:
            found.append(FieldViolation("assignment.state", f"phải là {state}"))
        if step in ("returned", "reopened", "unlocked") and not event.transition.reason:
            found.append(FieldViolation("transition.reason", "bắt buộc"))
        if step == "unlocked" and not event.assignment.reopened_until:
            found.append(FieldViolation("assignment.reopened_until", "bắt buộc khi mở khóa"))
        if not 0 < len(event.transition.account) <= MAX_USERNAME:
            found.append(FieldViolation("transition.account", f"1–{MAX_USERNAME} ký tự"))
        return found

    return violations


def _period_opened(event: reports_events.PeriodOpened) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _regime_code(event.regime_code, found)
    _uuid(event.period.id, "period.id", found)
    _uuid(event.period.regime_id, "period.regime_id", found)
    for name in ("starts_on", "ends_on", "deadline"):
        _date(getattr(event.period, name), f"period.{name}", found)
    if event.period.ends_on < event.period.starts_on:
        found.append(FieldViolation("period.ends_on", "trước ngày bắt đầu"))
    if event.assignments < 0:
        found.append(FieldViolation("assignments", "từ 0"))
    return found


def _reminder_due(event: reports_events.ReminderDue) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _regime_code(event.regime_code, found)
    _report(event.assignment, found)
    if event.assignment.state not in _NOT_SENT:
        found.append(FieldViolation("assignment.state", "chỉ nhắc báo cáo chưa gửi"))
    if event.working_days_left < 0:
        found.append(FieldViolation("working_days_left", "từ 0"))
    return found


_ROLLUP_STATUS = {subjects.REPORTS_ROLLUP_SENT: "sent", subjects.REPORTS_ROLLUP_FAILED: "failed"}


def _rollup_changed(subject: str) -> Callable[[reports_rollup.RollupDeliveryChanged], list[FieldViolation]]:
    """A delivery to the national report system acknowledged (with when), or failed (with why)."""

    def violations(event: reports_rollup.RollupDeliveryChanged) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        delivery = event.delivery
        for name in ("id", "assignment_id", "regime_id", "period_id", "unit_id"):
            _uuid(getattr(delivery, name), f"delivery.{name}", found)
        _regime_code(delivery.regime_code, found)
        status = _ROLLUP_STATUS[subject]
        if delivery.status != status:
            found.append(FieldViolation("delivery.status", f"phải là {status}"))
        if delivery.report_version < 1 or delivery.attempts < 1:
            found.append(FieldViolation("delivery.attempts", "từ 1"))
        if not delivery.idempotency_key:
            found.append(FieldViolation("delivery.idempotency_key", "bắt buộc"))
        if status == "sent" and not delivery.acknowledged_at:
            found.append(FieldViolation("delivery.acknowledged_at", "bắt buộc khi đã gửi"))
        if status == "failed" and not delivery.last_error:
            found.append(FieldViolation("delivery.last_error", "bắt buộc khi gửi lỗi"))
        return found

    return violations


_SERIAL = re.compile(r"[0-9a-f]{1,40}")
"""A certificate's serial number as reports writes it: lowercase hex, at most 20 bytes (RFC 5280)."""
_KEY_ACTION_OF = {subjects.REPORTS_SIGNING_KEY_ROTATED: "rotated", subjects.REPORTS_SIGNING_KEY_REVOKED: "revoked"}


def _key_changed(subject: str) -> Callable[[reports_events.SigningKeyChanged], list[FieldViolation]]:
    """The check of a key change's subject: the change is that action, a revocation names the
    certificate revoked and why, and the certificate issued in its place is another one."""
    action = _KEY_ACTION_OF[subject]

    def violations(event: reports_events.SigningKeyChanged) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        change = event.change
        _uuid(change.id, "change.id", found)
        _uuid(change.unit_id, "change.unit_id", found)
        if not UNIT_PATH.fullmatch(change.unit_path):
            found.append(FieldViolation("change.unit_path", "không phải đường dẫn mã đơn vị"))
        if change.action != action:
            found.append(FieldViolation("change.action", f"phải là {action}"))
        if not _SERIAL.fullmatch(change.serial):
            found.append(FieldViolation("change.serial", "không phải số hiệu chứng thư"))
        if (action == "revoked" or change.previous_serial) and not _SERIAL.fullmatch(change.previous_serial):
            found.append(FieldViolation("change.previous_serial", "không phải số hiệu chứng thư"))
        elif change.previous_serial == change.serial:
            found.append(FieldViolation("change.serial", "phải là chứng thư mới"))
        if action == "revoked" and not change.reason.strip():
            found.append(FieldViolation("change.reason", "bắt buộc khi thu hồi"))
        if not 0 < len(change.account) <= MAX_USERNAME:
            found.append(FieldViolation("change.account", f"1–{MAX_USERNAME} ký tự"))
        return found

    return violations


_FORM_CODE = re.compile(r"[A-Z0-9][A-Z0-9_]{0,31}", re.ASCII)
_REGIME_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}", re.ASCII)
_EXPORT_FORMATS = frozenset({"xlsx", "pdf", "csv"})
_CELL_ROWS = frozenset({"total", "own"})
MAX_TIERS = 255
"""The tiers as the audit trail keeps them, joined by commas."""


def _statistics_read(subject: str) -> Callable[[reports_events.StatisticsRead], list[FieldViolation]]:
    """A read as reports records it: who read, when, which form (or regime's reports) of which unit on
    which day; an export with its format; a drill-down with its cell and the people of at most one
    page."""
    people_read = subject == subjects.REPORTS_STATISTICS_PEOPLE_READ
    report = subject == subjects.REPORTS_REPORT_EXPORTED

    def violations(event: reports_events.StatisticsRead) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        for name, limit in (("account", MAX_USERNAME), ("subject", MAX_ACTOR)):
            value = getattr(event, name)
            if refused := control_violation(name, value):
                found.append(refused)
            elif not 0 < len(value) <= limit:
                found.append(FieldViolation(name, f"1–{limit} ký tự"))
        if any(not tier or control_violation("tiers", tier) for tier in event.tiers) or (
            len(",".join(event.tiers)) > MAX_TIERS
        ):
            found.append(FieldViolation("tiers", f"vai trò không rỗng, tổng cộng đến {MAX_TIERS} ký tự"))
        try:
            read_at = datetime.fromisoformat(event.read_at)
        except ValueError:
            read_at = None
        if read_at is None or read_at.tzinfo is None:
            found.append(FieldViolation("read_at", "không phải thời điểm RFC 3339 có múi giờ"))
        if not (_REGIME_CODE if report else _FORM_CODE).fullmatch(event.form):
            found.append(FieldViolation("form", "không phải mã chế độ báo cáo" if report else "không phải mã biểu"))
        _uuid(event.unit_id, "unit_id", found)
        if not UNIT_PATH.fullmatch(event.unit_path):
            found.append(FieldViolation("unit_path", "không phải đường dẫn mã đơn vị"))
        _date(event.as_of, "as_of", found)
        exported = subject in (subjects.REPORTS_STATISTICS_FORM_EXPORTED, subjects.REPORTS_REPORT_EXPORTED)
        if exported and event.format not in _EXPORT_FORMATS:
            found.append(FieldViolation("format", f"phải là một trong {sorted(_EXPORT_FORMATS)}"))
        elif not exported and event.format:
            found.append(FieldViolation("format", "chỉ khi xuất tệp"))
        if event.people < 0:
            found.append(FieldViolation("people", "từ 0"))
        if people_read:
            if event.row not in _CELL_ROWS and not UUID.fullmatch(event.row):
                found.append(FieldViolation("row", "total, own hoặc mã đơn vị trực thuộc"))
            if not 0 < len(event.column) <= 64 or control_violation("column", event.column):
                found.append(FieldViolation("column", "1–64 ký tự"))
            if event.page < 1:
                found.append(FieldViolation("page", "từ 1"))
            if len(event.person_ids) != event.people or event.people > MAX_STATISTICS_PEOPLE_PAGE:
                found.append(
                    FieldViolation("person_ids", f"mỗi người đã đưa ra một mã, nhiều nhất {MAX_STATISTICS_PEOPLE_PAGE}")
                )
            for index, person_id in enumerate(event.person_ids[:MAX_STATISTICS_PEOPLE_PAGE]):
                _uuid(person_id, f"person_ids[{index}]", found)
            if event.total < event.people:
                found.append(FieldViolation("total", "không ít hơn số người của trang"))
        elif event.row or event.column or event.page or event.total or event.person_ids:
            found.append(FieldViolation("row", "chỉ khi xem những người của một ô"))
        return found

    return violations


REPORTS_EVENTS: Contracts = {
    subjects.REPORTS_PERIOD_OPENED: Contract(reports_events.PeriodOpened, _period_opened),
    **{
        subject: Contract(reports_events.SubmissionChanged, _step_changed(subject))
        for subject in (*subjects.REPORTS_SUBMISSION_CHANGES, subjects.REPORTS_ASSIGNMENT_UNLOCKED)
    },
    subjects.REPORTS_REMINDER_DUE: Contract(reports_events.ReminderDue, _reminder_due),
    **{
        subject: Contract(reports_rollup.RollupDeliveryChanged, _rollup_changed(subject))
        for subject in (subjects.REPORTS_ROLLUP_SENT, subjects.REPORTS_ROLLUP_FAILED)
    },
    **{subject: Contract(reports_events.SigningKeyChanged, _key_changed(subject)) for subject in _KEY_ACTION_OF},
    **{
        subject: Contract(reports_events.StatisticsRead, _statistics_read(subject))
        for subject in subjects.REPORTS_STATISTICS_READS
    },
}
"""Every subject reports publishes on."""


SHA256 = re.compile(r"^[0-9a-f]{64}$")
BACKUP_SET_STATUSES = frozenset({"running", "good", "failed", "pruned"})


def _backup(backup: backup_pb2.Backup, field: str, found: list[FieldViolation]) -> None:
    _uuid(backup.id, f"{field}.id", found)
    _uuid(backup.set_id, f"{field}.set_id", found)
    _short(backup.store, f"{field}.store", 63, found, required=True)
    if not SHA256.fullmatch(backup.sha256):
        found.append(FieldViolation(f"{field}.sha256", "không phải SHA-256 dạng hex"))
    if backup.size_bytes <= 0:
        found.append(FieldViolation(f"{field}.size_bytes", "phải lớn hơn 0"))


def _backup_completed(event: backup_events.BackupCompleted) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    _backup(event.backup, "backup", found)
    return found


def _backup_set(status: str) -> Callable[[Any], list[FieldViolation]]:
    """A set as its event carries it: good (or pruned, once good) with a part per store and a signed
    manifest, or failed with why."""

    def violations(
        event: backup_events.BackupSetCompleted | backup_events.BackupSetFailed | backup_events.BackupSetPruned,
    ) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        backup_set = event.set
        _uuid(backup_set.id, "set.id", found)
        if backup_set.status != status:
            found.append(FieldViolation("set.status", f"phải là {status}"))
        if not backup_set.stores:
            found.append(FieldViolation("set.stores", "không có kho dữ liệu nào"))
        _short(backup_set.key_id, "set.key_id", 64, found, required=True)
        if status in ("good", "pruned"):
            if not SHA256.fullmatch(backup_set.manifest_sha256):
                found.append(FieldViolation("set.manifest_sha256", "không phải SHA-256 dạng hex"))
            if sorted(part.store for part in backup_set.parts) != sorted(backup_set.stores):
                found.append(FieldViolation("set.parts", "phải có đúng một phần cho mỗi kho dữ liệu"))
            for n, part in enumerate(backup_set.parts):
                _backup(part, f"set.parts[{n}]", found)
        else:
            _short(backup_set.failure, "set.failure", 1024, found, required=True)
        return found

    return violations


def _restored_parts(parts: Sequence[backup_pb2.RestoredPart], field: str, found: list[FieldViolation]) -> None:
    if not parts:
        found.append(FieldViolation(field, "không có kho dữ liệu nào"))
    for n, part in enumerate(parts):
        _short(part.store, f"{field}[{n}].store", 63, found, required=True)
        _uuid(part.backup_id, f"{field}[{n}].backup_id", found)
        _short(part.target, f"{field}[{n}].target", 63, found, required=True)


_RESTORE_STATUS = {
    subjects.BACKUP_RESTORE_REQUESTED: "requested",
    subjects.BACKUP_RESTORE_CANCELLED: "cancelled",
    subjects.BACKUP_RESTORE_VERIFIED: "verified",
    subjects.BACKUP_RESTORE_FAILED: "failed",
    subjects.BACKUP_RESTORE_SWITCHED: "switched",
}
_RESTORE_EVENT = {
    subjects.BACKUP_RESTORE_REQUESTED: backup_events.RestoreRequested,
    subjects.BACKUP_RESTORE_CANCELLED: backup_events.RestoreCancelled,
    subjects.BACKUP_RESTORE_VERIFIED: backup_events.RestoreVerified,
    subjects.BACKUP_RESTORE_FAILED: backup_events.RestoreFailed,
    subjects.BACKUP_RESTORE_SWITCHED: backup_events.RestoreSwitched,
}


def _restore_changed(subject: str) -> Callable[[Any], list[FieldViolation]]:
    """A restore in the state its subject names: verified with every part matching; switched with
    where each replaced store is kept; confirmed (verified, failed after a confirmation) by an
    account other than the requester's."""
    status = _RESTORE_STATUS[subject]

    def violations(event: Any) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        restore: backup_pb2.Restore = event.restore
        _uuid(restore.id, "restore.id", found)
        _uuid(restore.set_id, "restore.set_id", found)
        if restore.status != status:
            found.append(FieldViolation("restore.status", f"phải là {status}"))
        _short(restore.requested_by, "restore.requested_by", 64, found, required=True)
        _short(restore.reason, "restore.reason", 1000, found, required=True)
        _restored_parts(restore.parts, "restore.parts", found)
        if status in ("verified", "switched") and not all(part.verified for part in restore.parts):
            found.append(FieldViolation("restore.parts", "mọi phần phải khớp nội dung lúc sao lưu"))
        if status in ("verified", "switched") and restore.confirmed_by in ("", restore.requested_by):
            found.append(FieldViolation("restore.confirmed_by", "phải là một tài khoản khác người yêu cầu"))
        if status == "switched" and not all(part.kept_as for part in restore.parts):
            found.append(FieldViolation("restore.parts", "mỗi kho đã thay phải có tên giữ lại (kept_as)"))
        if status in ("failed", "cancelled"):
            _short(restore.failure, "restore.failure", 1024, found, required=True)
        return found

    return violations


def _drill_finished(status: str) -> Callable[[backup_events.DrillFinished], list[FieldViolation]]:
    def violations(event: backup_events.DrillFinished) -> list[FieldViolation]:
        found: list[FieldViolation] = []
        drill = event.drill
        _uuid(drill.id, "drill.id", found)
        if drill.status != status:
            found.append(FieldViolation("drill.status", f"phải là {status}"))
        if status == "passed":
            _uuid(drill.set_id, "drill.set_id", found)
            _restored_parts(drill.parts, "drill.parts", found)
            if not all(part.verified for part in drill.parts):
                found.append(FieldViolation("drill.parts", "mọi phần phải khớp nội dung lúc sao lưu"))
        else:
            _short(drill.failure, "drill.failure", 1024, found, required=True)
        return found

    return violations


BACKUP_EVENTS: Contracts = {
    subjects.BACKUP_RUN_COMPLETED: Contract(backup_events.BackupCompleted, _backup_completed),
    subjects.BACKUP_SET_COMPLETED: Contract(backup_events.BackupSetCompleted, _backup_set("good")),
    subjects.BACKUP_SET_FAILED: Contract(backup_events.BackupSetFailed, _backup_set("failed")),
    subjects.BACKUP_SET_PRUNED: Contract(backup_events.BackupSetPruned, _backup_set("pruned")),
    **{subject: Contract(_RESTORE_EVENT[subject], _restore_changed(subject)) for subject in _RESTORE_EVENT},
    subjects.BACKUP_DRILL_PASSED: Contract(backup_events.DrillFinished, _drill_finished("passed")),
    subjects.BACKUP_DRILL_FAILED: Contract(backup_events.DrillFinished, _drill_finished("failed")),
}
"""Every subject backup publishes on. Identity consumes `restore.switched` (a switched realm, ADR 0029);
alerts and operators follow the others."""
