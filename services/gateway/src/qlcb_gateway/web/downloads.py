"""Files a page links to, sent as the REST routes send them, with the logged-in user's rights: a
person's resume (2C-BNV/2008) as PDF or DOCX, as of the day the record page shows; a unit's staff
list (all its pages, as searched and ordered) as CSV or XLSX, audited as any export."""

from __future__ import annotations

from typing import Literal

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import Response

from qlcb_gateway.errors import field_violations
from qlcb_gateway.routes.exports import export_download
from qlcb_gateway.routes.resume import person_resume
from qlcb_gateway.web import staff_filters
from qlcb_gateway.web.pages import (
    SEARCH_MAX,
    backends_of,
    error_page,
    secure,
    shown_day,
    signed_in,
    staff_order,
    web_state,
)
from qlcb_gateway.web.session import PATH

router = APIRouter(prefix=PATH, include_in_schema=False)


@router.get("/persons/{person_id}/resume.{extension}", name="web_resume")
async def resume(request: Request, person_id: str, extension: str, as_of: str = "") -> Response:
    visit = await signed_in(request)
    if extension not in ("pdf", "docx"):
        return error_page(request, 404)
    file_format: Literal["pdf", "docx"] = "pdf" if extension == "pdf" else "docx"
    response: Response = await person_resume(
        person_id, visit.principal, backends_of(request), format=file_format, as_of=shown_day(as_of)
    )
    if visit.renewed:
        web_state(request).cookies.write(response, visit.session, secure=secure(request))
    return response


@router.get("/units/{unit_id}/export.{extension}", name="web_staff_export")
async def staff_export(
    request: Request, unit_id: str, extension: str, q: str = "", subtree: str = "", sort: str = ""
) -> Response:
    visit = await signed_in(request)
    if extension not in ("csv", "xlsx"):
        return error_page(request, 404)
    query = q.strip()
    if len(query) > SEARCH_MAX:
        return error_page(request, 422, "Không xuất được", f"Họ tên tìm kiếm dài quá {SEARCH_MAX} ký tự.")
    filters = staff_filters.chosen(request.query_params)
    if filters.faults:
        return error_page(request, 422, "Không xuất được", "; ".join(filters.described()) + ".")
    criteria = {"unit_id": unit_id, "include_subtree": subtree == "1", "q": query, "sort": staff_order(sort)}
    criteria |= filters.fields
    try:
        response: Response = await export_download(criteria, extension, visit.principal, backends_of(request))
    except grpc.aio.AioRpcError as exc:
        if exc.code() is not grpc.StatusCode.INVALID_ARGUMENT:
            raise
        reasons = [reason for _field, reason in field_violations(exc)] or [exc.details() or ""]
        return error_page(request, 422, "Không xuất được", "; ".join(reasons))
    if visit.renewed:
        web_state(request).cookies.write(response, visit.session, secure=secure(request))
    return response
