"""Backups and restore drills for the system admin (R-OPS-2): the sets, newest first, with the age of
the last good one; the restores asked and their second admin's confirmation; the drills and what
they found. Backing up and drilling now, asking a restore of a good set into new databases,
confirming or cancelling one: each a form sent to the backup service as the REST routes send it,
which decides (only the system admin; a restore confirmed by another admin than the one who asked).
Switching a verified restore into the live data stays with the REST API and its runbook
(docs/operations.md): it replaces what the system runs on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from qlcb_gateway.errors import field_violations
from qlcb_gateway.routes.operations import (
    cancel_restore,
    confirm_restore,
    create_backup_set,
    list_backup_sets,
    list_drills,
    list_restores,
    request_restore,
    run_drill,
)
from qlcb_gateway.schemas import BackupSetCreate, BackupSetPublic, RestoreCreate
from qlcb_gateway.web.entry_form import FormField, checked, refused
from qlcb_gateway.web.pages import Visit, backends_of, error_page, posted_form, render, signed_in
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.urls import page_url

router = APIRouter(prefix=PATH, include_in_schema=False)

SET_LABELS = {
    "running": "Đang sao lưu",
    "good": "Hoàn tất, đã kiểm tra",
    "failed": "Lỗi",
    "pruned": "Đã xóa theo quy tắc giữ",
}
RESTORE_LABELS = {
    "requested": "Chờ quản trị viên thứ hai xác nhận",
    "running": "Đang phục hồi",
    "verified": "Đã phục hồi và kiểm tra khớp",
    "failed": "Lỗi",
    "cancelled": "Đã hủy hoặc hết hạn",
    "switching": "Đang chuyển thành dữ liệu chạy",
    "switched": "Đã chuyển thành dữ liệu chạy",
}
DRILL_LABELS = {"running": "Đang diễn tập", "passed": "Đạt: mọi phần phục hồi và khớp", "failed": "Không đạt"}
SHOWN = 30
"""The newest sets, restores and drills the page lists."""
REFUSED = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
}


@dataclass(frozen=True)
class LastGood:
    backup_set: BackupSetPublic
    hours: int  # since it finished


def _last_good(sets: list[BackupSetPublic]) -> LastGood | None:
    good = [s for s in sets if s.status == "good"]
    if not good:
        return None
    newest = max(good, key=lambda s: s.finished_at or s.created_at)
    hours = int((datetime.now(UTC) - (newest.finished_at or newest.created_at)).total_seconds() // 3600)
    return LastGood(newest, hours)


def _restore_form(sets: list[BackupSetPublic]) -> list[FormField]:
    good = [(s.id, f"{s.id[:8]} — {', '.join(s.stores)}") for s in sets if s.status == "good"]
    return [
        FormField("set_id", "Bộ sao lưu", "choice", required=True, choices=good),
        FormField("target_suffix", "Hậu tố tên CSDL mới (chữ thường, số, _)", "text", required=True, max_length=40),
        FormField("reason", "Lý do phục hồi", "textarea", required=True, max_length=1000),
    ]


async def _page(
    request: Request,
    visit: Visit,
    *,
    fields: list[FormField] | None = None,
    faults: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    backends = backends_of(request)
    sets, restores, drills = await asyncio.gather(
        list_backup_sets(visit.principal, backends),
        list_restores(visit.principal, backends),
        list_drills(visit.principal, backends),
    )
    context = {
        "sets": sets[:SHOWN],
        "restores": restores[:SHOWN],
        "drills": drills[:SHOWN],
        "last_good": _last_good(sets),
        "fields": fields or _restore_form(sets),
        "faults": faults or [],
        "set_labels": SET_LABELS,
        "restore_labels": RESTORE_LABELS,
        "drill_labels": DRILL_LABELS,
    }
    return render(request, visit, "backups.html", context, status_code=status_code)


@router.get("/backups", name="web_backups")
async def backups(request: Request) -> Response:
    visit = await signed_in(request)
    return await _page(request, visit)


def _back(request: Request, anchor: str) -> Response:
    return RedirectResponse(str(page_url(request, "web_backups")) + anchor, status_code=303)


async def _refusal(
    request: Request, visit: Visit, exc: grpc.aio.AioRpcError, fields: list[FormField] | None = None
) -> Response:
    """The backup service's refusal on the page, in its words (next to a field it names)."""
    status_code = REFUSED.get(exc.code())
    if status_code is None:
        raise exc
    faults = refused(fields, field_violations(exc)) if fields is not None else []
    if not faults and not any(f.error for f in fields or []):
        faults = [exc.details() or ""]
    return await _page(request, visit, fields=fields, faults=faults, status_code=status_code)


@router.post("/backups/{action}", name="web_backup_action")
async def act(request: Request, action: str) -> Response:
    """`set`: backs up every store now; `drill`: restores the newest good set into scratch
    databases, checks and drops them; `restore`: asks a restore of a good set (nothing restored
    until another system admin confirms)."""
    visit = await signed_in(request)
    if action not in ("set", "drill", "restore"):
        return error_page(request, 404)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    backends = backends_of(request)
    if action == "restore":
        fields = _restore_form(await list_backup_sets(visit.principal, backends))
        given = checked(fields, sent)
        if given is None:
            return await _page(request, visit, fields=fields, status_code=422)
        try:
            body = RestoreCreate(set_id=given["set_id"], target_suffix=given["target_suffix"], reason=given["reason"])
        except ValidationError as exc:
            reasons = {"target_suffix": "Chỉ chữ thường a–z, số và _, bắt đầu bằng chữ hoặc số"}
            refused(fields, [(str(e["loc"][0]), reasons.get(str(e["loc"][0]), "Không hợp lệ")) for e in exc.errors()])
            return await _page(request, visit, fields=fields, status_code=422)
        try:
            restore = await request_restore(body, visit.principal, backends)
        except grpc.aio.AioRpcError as exc:
            return await _refusal(request, visit, exc, fields)
        return _back(request, f"#restore-{restore.id}")
    try:
        if action == "set":
            made = await create_backup_set(BackupSetCreate(), visit.principal, backends)
            return _back(request, f"#set-{made.id}")
        drill = await run_drill(visit.principal, backends)
        return _back(request, f"#drill-{drill.id}")
    except grpc.aio.AioRpcError as exc:
        return await _refusal(request, visit, exc)


@router.post("/backups/restores/{restore_id}/{step}", name="web_restore_step")
async def restore_step(request: Request, restore_id: str, step: str) -> Response:
    """Confirms (and runs) or cancels a restore asked; the service refuses a confirmation by the
    admin who asked, and one of a restore no longer waiting, said on the page."""
    visit = await signed_in(request)
    if step not in ("confirm", "cancel"):
        return error_page(request, 404)
    sent = await posted_form(request, visit)
    if isinstance(sent, Response):
        return sent
    backends = backends_of(request)
    try:
        if step == "confirm":
            await confirm_restore(restore_id, visit.principal, backends)
        else:
            await cancel_restore(restore_id, visit.principal, backends)
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.NOT_FOUND:
            raise
        return await _refusal(request, visit, exc)
    return _back(request, f"#restore-{restore_id}")
