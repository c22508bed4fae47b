from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from keycloak import KeycloakAdmin
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common.auth import Principal
from qlcb_common.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from qlcb_common.text import clean
from qlcb_common.tiers import Tier
from qlcb_common.working_days import WorkingCalendar
from qlcb_identity import credentials
from qlcb_identity.account_requests import rules
from qlcb_identity.account_requests.models import NEXT_STEP, OPEN, AccountRequest, RequestStatus, Step
from qlcb_identity.account_requests.schemas import AccountRequestCreate
from qlcb_identity.audit import service as audit
from qlcb_identity.calendar import due_after_working_days
from qlcb_identity.holders import service as holder_records
from qlcb_identity.keycloak_accounts import ascii_slug, create_account, temporary_password
from qlcb_identity.purpose_accounts import quota_use

PROCESSING_WORKING_DAYS = 3


def _snapshot(request: AccountRequest) -> dict[str, Any]:
    return {"status": request.status, "account_types": request.account_types, "username": request.username}


def _dedup_key(holder: str, unit_path: str, account_types: list[str]) -> str:
    raw = "|".join([holder.casefold(), unit_path, *sorted(account_types)])
    return hashlib.sha256(raw.encode()).hexdigest()


async def submit(
    session: AsyncSession, *, actor: Principal, data: AccountRequestCreate, calendar: WorkingCalendar
) -> AccountRequest:
    rules.require_requester(actor, data.unit_path)
    holder = clean(data.holder_name)
    types = sorted({t.value for t in data.account_types})
    key = _dedup_key(holder, data.unit_path, types)
    duplicate = await session.scalar(
        select(AccountRequest.id).where(AccountRequest.dedup_key == key, AccountRequest.status.in_(OPEN))
    )
    if duplicate is not None:
        raise AlreadyExists(f"Đã có đề nghị đang xử lý cho người này: {duplicate}")
    now = datetime.now(UTC)
    request = AccountRequest(
        id=str(uuid.uuid4()),
        holder_name=holder,
        holder_personal_id=data.holder_personal_id,
        holder_email=data.holder_email.strip(),
        unit_path=data.unit_path,
        division=clean(data.division),
        position=clean(data.position),
        phone=data.phone,
        account_types=types,
        reply_name=clean(data.reply_name),
        reply_unit=clean(data.reply_unit),
        reply_email=data.reply_email.strip(),
        reply_phone=data.reply_phone,
        requester_name=clean(data.requester_name),
        dedup_key=key,
        status=RequestStatus.SUBMITTED,
        submitted_at=now,
        submitted_by=actor.subject,
        submitted_by_username=actor.username,
        due_at=due_after_working_days(now, PROCESSING_WORKING_DAYS, calendar),
    )
    session.add(request)
    try:
        await session.flush()
    except IntegrityError as exc:  # one_open_request_per_holder: the same request, submitted meanwhile
        raise AlreadyExists("Đã có đề nghị đang xử lý cho người này") from exc
    audit.record(
        session,
        actor=actor,
        action="account_request.submit",
        target=request.id,
        unit_path=request.unit_path,
        after=_snapshot(request),
    )
    return request


async def _open(session: AsyncSession, request_id: str, *, lock: bool = False) -> AccountRequest:
    query = select(AccountRequest).where(AccountRequest.id == request_id)
    found = await session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"Không có đề nghị {request_id!r}")
    return found


def _submitted(request: AccountRequest) -> tuple[str | None, str | None]:
    return request.submitted_by, request.submitted_by_username


def _consented(request: AccountRequest) -> tuple[str | None, str | None]:
    return request.consented_by, request.consented_by_username


STEP_NAMES = {Step.CONSENT: "đồng ý", Step.APPROVE: "phê duyệt", Step.ISSUE: "cấp"}


def _require_step(actor: Principal, request: AccountRequest, step: Step) -> None:
    """Who may take the step: the unit's head consents; an admin who may grant every tier asked
    approves and issues; never someone who took an earlier step (001 Điều 8.1.b)."""
    if step is Step.CONSENT:
        rules.require_unit_head(actor, request.unit_path)
        earlier = {"lập": _submitted(request)}
    else:
        rules.require_issuer(actor, request.unit_path, request.account_types)
        earlier = {"lập": _submitted(request), "đồng ý": _consented(request)}
        if step is Step.ISSUE:
            earlier["phê duyệt"] = (request.approved_by, request.approved_by_username)
    rules.require_distinct(actor, STEP_NAMES[step], earlier)


def _expect(request: AccountRequest, status: RequestStatus) -> None:
    if request.status != status:
        raise FailedPrecondition(f"Đề nghị đang ở trạng thái {request.status}, cần {status}")


async def consent(session: AsyncSession, *, actor: Principal, request_id: str) -> AccountRequest:
    request = await _open(session, request_id, lock=True)
    _require_step(actor, request, Step.CONSENT)
    _expect(request, RequestStatus.SUBMITTED)
    before = _snapshot(request)
    request.status = RequestStatus.CONSENTED
    request.consented_by = actor.subject
    request.consented_by_username = actor.username
    audit.record(
        session,
        actor=actor,
        action="account_request.consent",
        target=request.id,
        unit_path=request.unit_path,
        before=before,
        after=_snapshot(request),
    )
    return request


async def approve(session: AsyncSession, *, actor: Principal, request_id: str) -> AccountRequest:
    request = await _open(session, request_id, lock=True)
    _require_step(actor, request, Step.APPROVE)
    _expect(request, RequestStatus.CONSENTED)
    before = _snapshot(request)
    request.status = RequestStatus.APPROVED
    request.approved_by = actor.subject
    request.approved_by_username = actor.username
    audit.record(
        session,
        actor=actor,
        action="account_request.approve",
        target=request.id,
        unit_path=request.unit_path,
        before=before,
        after=_snapshot(request),
    )
    return request


async def reject(session: AsyncSession, *, actor: Principal, request_id: str, reason: str) -> AccountRequest:
    request = await _open(session, request_id, lock=True)
    rules.require_issuer(actor, request.unit_path, request.account_types)
    if request.status not in OPEN:
        raise FailedPrecondition(f"Đề nghị đã {request.status}")
    before = _snapshot(request)
    request.status = RequestStatus.REJECTED
    request.rejection_reason = clean(reason)
    audit.record(
        session,
        actor=actor,
        action="account_request.reject",
        target=request.id,
        unit_path=request.unit_path,
        before=before,
        after=_snapshot(request),
    )
    return request


async def issue(
    session: AsyncSession,
    *,
    actor: Principal,
    request_id: str,
    admin: Callable[[], KeycloakAdmin],
    courier: credentials.Courier,
) -> tuple[AccountRequest, str]:
    """Creates the Keycloak account and mails its holder the code of a one-time credential delivery;
    returns where it went (masked).

    The request row is locked, and the username is derived from the request id, so two admins
    racing to issue the same request cannot create two accounts: Keycloak refuses the second.
    """
    request = await _open(session, request_id, lock=True)
    _require_step(actor, request, Step.ISSUE)
    _expect(request, RequestStatus.APPROVED)
    if request.holder_personal_id:
        # Typed by the requester: the account reads the record it names (the self tier), and a
        # status recorded on that record disables it, so it must be the holder's own.
        await holder_records.require_record(
            session,
            personal_id=request.holder_personal_id,
            full_name=request.holder_name,
            unit_path=request.unit_path,
        )
    if Tier.LOCAL_ADMIN.value in request.account_types:
        await quota_use.require_slot(
            session, unit_path=request.unit_path, kind=quota_use.ADMIN_KIND, admin=admin, purpose=False
        )
    before = _snapshot(request)
    username = f"{ascii_slug(request.holder_name)[:40]}.{request.id[:6]}"
    password = temporary_password(username)
    user_id = await asyncio.to_thread(
        create_account,
        admin(),
        username=username,
        full_name=request.holder_name,
        roles=request.account_types,
        group_path=request.unit_path,
        password=password,
        personal_id=request.holder_personal_id,
    )
    now = datetime.now(UTC)
    request.status = RequestStatus.ISSUED
    request.issued_at = now
    request.username = username
    request.keycloak_user_id = user_id
    delivered_to = await credentials.deliver(
        session,
        courier=courier,
        username=username,
        password=password,
        recipient=request.holder_email,
        request_id=request.id,
    )
    audit.record(
        session,
        actor=actor,
        action="account.issue",
        target=username,
        unit_path=request.unit_path,
        before=before,
        after=_snapshot(request),
    )
    return request, delivered_to


def _open_in_scope(actor: Principal, what: str) -> Select[AccountRequest]:
    """Open requests inside the caller's scope, soonest due first."""
    # Requests name their holders (personal id, e-mail): only those who take part in them see them.
    if not actor.has_any_role((Tier.SYSTEM_ADMIN, *rules.REQUESTERS)):
        raise PermissionDenied(f"Chỉ người lập, đồng ý, phê duyệt hoặc cấp tài khoản xem {what}")
    query = select(AccountRequest).where(AccountRequest.status.in_(OPEN))
    if not actor.has_any_role((Tier.SYSTEM_ADMIN,)):
        scope = actor.unit_path
        if not scope:
            raise PermissionDenied("Tài khoản không thuộc đơn vị nào")
        query = query.where(
            or_(AccountRequest.unit_path == scope, AccountRequest.unit_path.startswith(scope + "/", autoescape=True))
        )
    return query.order_by(AccountRequest.due_at, AccountRequest.id)


async def overdue(session: AsyncSession, *, actor: Principal, now: datetime) -> list[AccountRequest]:
    """Open requests past their due date, inside the caller's scope (R-ACC-5)."""
    query = _open_in_scope(actor, "đề nghị quá hạn").where(AccountRequest.due_at < now)
    return list((await session.scalars(query)).all())


@dataclass(frozen=True)
class OpenRequest:
    request: AccountRequest
    next_step: Step
    yours: bool
    """Whether the caller may take the next step (the four-eyes rule included)."""
    rejectable: bool


async def open_requests(session: AsyncSession, *, actor: Principal) -> list[OpenRequest]:
    """Every open request inside the caller's scope with its next step. Open requests are few by
    nature (each is due within 3 working days), so they are read whole and the rules applied here,
    the same rules the steps apply."""
    found = (await session.scalars(_open_in_scope(actor, "đề nghị cấp tài khoản"))).all()
    steps = [(r, NEXT_STEP[RequestStatus(r.status)]) for r in found]
    return [
        OpenRequest(r, step, _may(actor, r, step), rules.may_issue(actor, r.unit_path, r.account_types))
        for r, step in steps
    ]


def _may(actor: Principal, request: AccountRequest, step: Step) -> bool:
    try:
        _require_step(actor, request, step)
    except PermissionDenied:
        return False
    return True
