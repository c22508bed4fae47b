"""The resume form 2C-BNV/2008 (R-PER-1, R-PER-7): `GET /v1/persons/{id}/resume` for one person and
`GET /v1/units/{id}/resumes` for the people working in a unit, as PDF (fonts embedded) or DOCX; one
person's also as JSON, for the web pages. Personnel draws each resume from the record as of a day
and notes it in the audit trail; this edge only lays it out (`qlcb_gateway.resume_files`).

A unit's batch is the people a search of the unit finds working there on the day, in staff-list
order, inside the caller's scope, as personnel gives them (`GetUnitResumes`), noting the batch and
each resume in the audit trail. The file is written to a temporary file in a worker thread and sent
from disk."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import grpc
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from qlcb.personnel.v1 import resume_pb2
from qlcb_common.auth import Principal
from qlcb_common.days import VIETNAM, IsoDay
from qlcb_gateway.backends import Backends
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.errors import refuse_query_fields
from qlcb_gateway.exports import attachment_headers
from qlcb_gateway.resume_files import DOCX_TYPE, PDF_TYPE, Printing, write_docx, write_pdf
from qlcb_gateway.routes.exports import Download, from_disk

router = APIRouter(prefix="/v1", tags=["Sơ yếu lý lịch"])

Writer = Callable[[Sequence[resume_pb2.Resume], Printing, Path], None]
WRITERS: dict[str, tuple[str, Writer]] = {
    "pdf": (PDF_TYPE, write_pdf),
    "docx": (DOCX_TYPE, write_docx),
}
AsOf = Annotated[IsoDay | None, Query(description="Số liệu tại ngày này (mặc định: hôm nay)")]


class ResumeItem(BaseModel):
    number: str = Field(description="Số mục trên mẫu, ví dụ 15.2")
    label: str
    text: str = Field(description="Nội dung; rỗng khi hồ sơ chưa có hoặc mục là bảng")
    columns: list[str] = Field(description="Tiêu đề các cột, khi mục là bảng")
    rows: list[list[str]]
    withheld: bool = Field(description="Tài khoản không được xem mục hồ sơ này")


class Resume(BaseModel):
    """Sơ yếu lý lịch theo mẫu 2C-BNV/2008, các mục theo thứ tự của mẫu."""

    person_id: str
    managing_body: str = Field(description="Cơ quan, đơn vị có thẩm quyền quản lý CBCC")
    employing_unit: str = Field(description="Cơ quan, đơn vị sử dụng CBCC")
    staff_number: str
    full_name: str
    as_of: IsoDay
    items: list[ResumeItem]


@router.get(
    "/persons/{person_id}/resume",
    response_model=Resume,
    responses={
        200: {"content": {PDF_TYPE: {}, DOCX_TYPE: {}}, "description": "Sơ yếu lý lịch: JSON, PDF hoặc DOCX"},
        404: {"description": "No person `person_id` within the caller's reach"},
    },
)
async def person_resume(
    person_id: str,
    principal: Caller,
    backends: BackendsDep,
    format: Annotated[Literal["pdf", "docx", "json"], Query(description="Định dạng")] = "pdf",
    as_of: AsOf = None,
) -> Any:
    """Sơ yếu lý lịch (mẫu 2C-BNV/2008) của một người, lập từ hồ sơ tại một ngày; mỗi lần lập được ghi
    nhật ký như một lần xem toàn bộ hồ sơ. Mục thuộc phần hồ sơ tài khoản không được xem in là "không thuộc
    phạm vi được xem"."""
    resume = await _resume(backends, principal, person_id, as_of)
    if format == "json":
        return _public(resume)
    media_type, write = WRITERS[format]
    now = datetime.now(VIETNAM)
    content = await asyncio.to_thread(_written, write, [resume], Printing(principal.username, now))
    ascii_name, name = _filename(f"so-yeu-ly-lich-{resume.staff_number}", f"Sơ yếu lý lịch {resume.full_name}", format)
    return Response(content, media_type=media_type, headers=attachment_headers(ascii_name, name))


@router.get(
    "/units/{unit_id}/resumes",
    response_class=Response,
    responses={
        200: {
            "content": {PDF_TYPE: {}, DOCX_TYPE: {}},
            "description": "Sơ yếu lý lịch của từng người, mỗi người từ trang mới",
        },
        403: {"description": "The caller may not read unit `unit_id`"},
        404: {"description": "No unit `unit_id`"},
    },
)
async def unit_resumes(
    unit_id: str,
    principal: Caller,
    backends: BackendsDep,
    format: Annotated[Literal["pdf", "docx"], Query(description="Định dạng")] = "pdf",
    include_subtree: Annotated[bool, Query(description="Cả các đơn vị trực thuộc")] = False,
    as_of: AsOf = None,
) -> Response:
    """Sơ yếu lý lịch của những người đang công tác tại đơn vị (tại một ngày), theo thứ tự danh sách, trong
    một tệp; lần in và từng sơ yếu lý lịch được ghi nhật ký. Quá số người cho phép một lần thì bị từ chối (422)."""
    try:
        resumes = [
            response.resume
            async for response in backends.resume.GetUnitResumes(
                resume_pb2.GetUnitResumesRequest(
                    unit_id=unit_id,
                    include_subtree=include_subtree,
                    as_of=as_of.isoformat() if as_of else "",
                    format=format,
                    max_people=backends.resume_batch_max,
                ),
                **backends.call_options(principal.token) | {"timeout": backends.export_timeout},
            )
        ]
    except grpc.aio.AioRpcError as refused:
        refuse_query_fields(refused)
    media_type, write = WRITERS[format]
    now = datetime.now(VIETNAM)
    path = await asyncio.to_thread(_to_file, write, resumes, Printing(principal.username, now), format)
    ascii_name, name = _filename(f"so-yeu-ly-lich-{now:%Y%m%d-%H%M}", f"Sơ yếu lý lịch {now:%Y-%m-%d %H.%M}", format)
    return Download(
        from_disk(path),
        media_type,
        (ascii_name, name),
        closing=lambda: asyncio.to_thread(path.unlink, missing_ok=True),
        size=path.stat().st_size,
    )


async def _resume(backends: Backends, principal: Principal, person_id: str, as_of: date | None) -> resume_pb2.Resume:
    try:
        response = await backends.resume.GetResume(
            resume_pb2.GetResumeRequest(person_id=person_id, as_of=as_of.isoformat() if as_of else ""),
            **backends.call_options(principal.token),
        )
    except grpc.aio.AioRpcError as refused:
        refuse_query_fields(refused)
    resume: resume_pb2.Resume = response.resume
    return resume


def _public(resume: resume_pb2.Resume) -> Resume:
    return Resume(
        person_id=resume.person_id,
        managing_body=resume.managing_body,
        employing_unit=resume.employing_unit,
        staff_number=resume.staff_number,
        full_name=resume.full_name,
        as_of=date.fromisoformat(resume.as_of),
        items=[
            ResumeItem(
                number=i.number,
                label=i.label,
                text=i.text,
                columns=list(i.columns),
                rows=[list(r.cells) for r in i.rows],
                withheld=i.withheld,
            )
            for i in resume.items
        ],
    )


def _written(write: Writer, resumes: Sequence[resume_pb2.Resume], printing: Printing) -> bytes:
    path = _to_file(write, resumes, printing, "tmp")
    try:
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _to_file(write: Writer, resumes: Sequence[resume_pb2.Resume], printing: Printing, extension: str) -> Path:
    descriptor, name = tempfile.mkstemp(prefix="qlcb-resume-", suffix=f".{extension}")
    os.close(descriptor)
    path = Path(name)
    try:
        write(resumes, printing, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _filename(ascii_stem: str, stem: str, extension: str) -> tuple[str, str]:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in ascii_stem)
    return f"{safe}.{extension}", f"{stem}.{extension}"
