"""Bulk import (issue 9.4): `GET /v1/imports/templates/{kind}?format=xlsx|csv` gives the template of a
kind (new people, or the entries of one record section), `POST /v1/imports/{kind}?dry_run=` takes the
filled file as the request's body, raw, with its media type (`text/csv` or the XLSX type; anything else
is 415), up to `QLCB_HTTP_MAX_UPLOAD_BYTES` (413 past it). A raw body rather than a multipart form: one
file, nothing else to send with it, and it goes to disk as it arrives.

The gateway reads the file (`import_files`): its header against the template, then its rows, which it
streams to personnel's `RecordImportService.ImportRows` a chunk at a time as it reads them. A fault of
the file itself (its header, a formula, its encoding) is a 422 naming the row and column, the call to
personnel cancelled before it wrote anything. Personnel checks every row and reports each fault; the
answer is the report (200) for a dry run or an import applied, and for an import refused a 422 listing
every fault as `loc: ["body", row, column]`."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Awaitable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import grpc
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from qlcb.personnel.v1 import imports_pb2, record_pb2
from qlcb_common.auth import Principal
from qlcb_common.days import vietnam_today
from qlcb_common.http_errors import problem
from qlcb_common.import_templates import KINDS, Template, template
from qlcb_common.limits import IMPORT_CHUNK_ROWS
from qlcb_gateway import import_files
from qlcb_gateway.backends import Backends
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.exports import CSV_TYPE, XLSX_TYPE, attachment_headers

router = APIRouter(prefix="/v1")

ImportKind = StrEnum("ImportKind", {kind: kind for kind in KINDS})  # type: ignore[misc]
WRITE_BLOCK = 256 * 1024


class ImportRowError(BaseModel):
    row: int = Field(description="Dòng trong bảng tính (dòng tiêu đề là dòng 1)")
    column: str = Field(description="Tiêu đề cột của mẫu; rỗng nếu lỗi của cả dòng")
    reason: str


class ImportReport(BaseModel):
    kind: str
    dry_run: bool
    file_sha256: str = Field(description="SHA-256 của tệp đã gửi")
    rows: int = Field(description="Số dòng dữ liệu đọc được (không kể dòng tiêu đề, dòng trống)")
    created: int = Field(description="Số hồ sơ hoặc mục đã ghi (nhập thử: sẽ ghi)")
    already_present: int = Field(description="Số dòng đã có trong hồ sơ: không ghi lại")
    rejected: int = Field(description="Số dòng có lỗi")
    errors: list[ImportRowError]
    errors_omitted: int = Field(description="Số lỗi không liệt kê (quá giới hạn liệt kê)")
    applied: bool = Field(description="Đã ghi (không phải nhập thử và không dòng nào lỗi)")


@router.get(
    "/imports/templates/{kind}",
    tags=["Nhập dữ liệu"],
    response_class=Response,
    responses={
        200: {
            "description": "Tệp mẫu, tải về (Content-Disposition: attachment)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_template(
    kind: ImportKind,
    principal: Caller,
    backends: BackendsDep,
    format: Annotated[Literal["xlsx", "csv"], Query(description="xlsx (có trang Hướng dẫn) hoặc csv")] = "xlsx",
) -> Response:
    """Mẫu nhập hàng loạt: `persons` (hồ sơ cán bộ mới) hoặc tên một mục hồ sơ (các mục của nhiều
    người). Dòng 1 là tiêu đề cột tiếng Việt; XLSX có trang «Hướng dẫn» ghi từng cột: bắt buộc hay
    không, cách ghi, các mã danh mục được dùng."""
    found = template(str(kind))
    assert found is not None
    names = (f"mau-nhap-{kind}.{format}", f"Mẫu nhập {found.title}.{format}")
    headers = attachment_headers(*names)
    if format == "csv":
        return Response(import_files.csv_template(found), media_type=CSV_TYPE, headers=headers)
    codes = await _catalog_codes(found, backends, principal)
    content = await asyncio.to_thread(_xlsx_bytes, found, codes)
    return Response(content, media_type=XLSX_TYPE, headers=headers)


def _xlsx_bytes(found: Template, codes: dict[str, list[tuple[str, str]]]) -> bytes:
    descriptor, name = tempfile.mkstemp(prefix="qlcb-template-", suffix=".xlsx")
    os.close(descriptor)
    path = Path(name)
    try:
        import_files.xlsx_template(found, codes, path)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


async def _catalog_codes(found: Template, backends: Backends, principal: Principal) -> dict[str, list[tuple[str, str]]]:
    """The codes of each catalog the template's columns take, valid today; a catalog the caller may
    not list is left out (the guide then names it to look up)."""
    options = backends.call_options(principal.token)
    codes: dict[str, list[tuple[str, str]]] = {}
    for catalog in sorted({c.catalog for c in found.columns if c.catalog}):
        with contextlib.suppress(grpc.aio.AioRpcError):
            listed = await backends.record.ListCatalogValues(
                record_pb2.ListCatalogValuesRequest(catalog=catalog, as_of=vietnam_today().isoformat()), **options
            )
            codes[catalog] = [(v.code, v.label) for v in listed.values]
    return codes


@router.post(
    "/imports/{kind}",
    tags=["Nhập dữ liệu"],
    response_model=ImportReport,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Tệp đã điền theo mẫu, gửi nguyên (không multipart)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
    responses={
        413: {"description": "Tệp vượt quá giới hạn (QLCB_HTTP_MAX_UPLOAD_BYTES)"},
        415: {"description": "Không phải tệp CSV (text/csv) hay XLSX"},
        422: {"description": "Lỗi của tệp hoặc của từng dòng: loc = [body, dòng, cột], msg = lý do"},
    },
)
async def import_rows(
    kind: ImportKind,
    request: Request,
    principal: Caller,
    backends: BackendsDep,
    dry_run: Annotated[bool, Query(description="Nhập thử: chỉ báo cáo, không ghi gì")] = False,
) -> Any:
    """Nhập hàng loạt từ tệp XLSX hoặc CSV theo mẫu: mỗi dòng được kiểm tra như khi ghi từng hồ sơ,
    mục (danh mục, ngày, phạm vi của tài khoản, trùng lặp, chồng thời gian); mọi dòng lỗi được báo
    với số dòng, cột và lý do. Ghi tất cả hoặc không ghi gì; dòng đã có trong hồ sơ không ghi lại."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    file_kind = import_files.MEDIA_TYPES.get(media_type)
    if file_kind is None:
        return problem(415, "UnsupportedMediaType", "Chỉ nhận tệp CSV (text/csv) hoặc XLSX (" + XLSX_TYPE + ")")
    found = template(str(kind))
    assert found is not None
    path, digest, size = await _to_disk(request, file_kind)
    if size == 0:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        return _faults([import_files.Fault(0, "", "Tệp rỗng")])
    try:
        return await _import(found, path, digest, file_kind, media_type, dry_run, backends, principal)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def _to_disk(request: Request, extension: str) -> tuple[Path, str, int]:
    """The body in a temporary file (named as its kind is: openpyxl reads only a name ending .xlsx),
    its SHA-256 and its size."""
    descriptor, name = tempfile.mkstemp(prefix="qlcb-import-", suffix=f".{extension}")
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(descriptor, "wb") as file:
            async for block in request.stream():
                digest.update(block)
                size += len(block)
                file.write(block)
    except BaseException:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return path, digest.hexdigest(), size


async def _import(
    found: Template,
    path: Path,
    digest: str,
    file_kind: str,
    media_type: str,
    dry_run: bool,
    backends: Backends,
    principal: Principal,
) -> Any:
    try:
        upload = await asyncio.to_thread(import_files.open_upload, path, file_kind)
    except import_files.Faults as faults:
        return _faults(faults.found)
    try:
        try:
            fields = import_files.match_header(found, upload.header)
        except import_files.Faults as faults:
            return _faults(faults.found)
        header = imports_pb2.ImportHeader(kind=found.kind, dry_run=dry_run, file_sha256=digest, media_type=media_type)
        reply = await _send(upload, header, fields, backends, principal)
    except import_files.Faults as faults:
        return _faults(faults.found)
    finally:
        await asyncio.to_thread(upload.close)
    report = ImportReport(
        kind=found.kind,
        dry_run=dry_run,
        file_sha256=digest,
        rows=reply.rows,
        created=reply.created,
        already_present=reply.already_present,
        rejected=reply.rejected,
        errors=[ImportRowError(row=e.row, column=e.column, reason=e.reason) for e in reply.errors],
        errors_omitted=reply.errors_omitted,
        applied=reply.applied,
    )
    if not dry_run and not reply.applied:
        return _faults([import_files.Fault(e.row, e.column, e.reason) for e in report.errors])
    return report


async def _send(
    upload: import_files.Upload,
    header: imports_pb2.ImportHeader,
    fields: list[str | None],
    backends: Backends,
    principal: Principal,
) -> imports_pb2.ImportRowsResponse:
    """Streams the header, then the rows a chunk at a time as the file is read, and returns
    personnel's report. A fault of the file midway cancels the call (personnel writes only once the
    stream has ended) and is raised."""
    call = backends.imports.ImportRows(
        metadata=backends.call_options(principal.token)["metadata"], timeout=backends.import_timeout
    )
    kept = [index for index, f in enumerate(fields) if f is not None]
    header.fields.extend(f for f in fields if f is not None)
    rows = upload.rows()
    try:
        await _write(call, imports_pb2.ImportRowsRequest(header=header))
        while chunk := await asyncio.to_thread(_next_chunk, rows, kept):
            await _write(call, imports_pb2.ImportRowsRequest(rows=imports_pb2.ImportRowChunk(rows=chunk)))
        await _answered_if_refused(call, call.done_writing())
    except BaseException:
        call.cancel()
        raise
    reply: imports_pb2.ImportRowsResponse = await call
    return reply


async def _write(call: Any, message: imports_pb2.ImportRowsRequest) -> None:
    await _answered_if_refused(call, call.write(message))


async def _answered_if_refused(call: Any, step: Awaitable[None]) -> None:
    """A step of the stream (a message, or its end); if personnel has ended the call meanwhile (it
    refused it), its answer is raised rather than gRPC's "Internal error from Core" of the step."""
    try:
        await step
    except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
        await call
        raise


def _next_chunk(rows: Any, kept: list[int]) -> list[imports_pb2.ImportRow]:
    chunk = []
    for number, cells in rows:
        chunk.append(imports_pb2.ImportRow(number=number, cells=[cells[i] for i in kept]))
        if len(chunk) == IMPORT_CHUNK_ROWS:
            break
    return chunk


def _faults(faults: list[import_files.Fault]) -> JSONResponse:
    """A 422 naming each fault by its row and column (a fault of the whole file by the body alone)."""
    detail = [
        {
            "loc": ["body", *([f.row] if f.row else []), *([f.column] if f.column else [])],
            "msg": f.reason,
            "type": "value_error",
        }
        for f in faults
    ]
    return JSONResponse({"detail": detail}, status_code=422)
