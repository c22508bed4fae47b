"""Files a page links to, sent as the REST routes send them, with the logged-in user's rights: a
person's resume (2C-BNV/2008) as PDF or DOCX, as of the day the record page shows."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qlcb_gateway.routes.resume import person_resume
from qlcb_gateway.web.pages import backends_of, error_page, secure, shown_day, signed_in, web_state
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
