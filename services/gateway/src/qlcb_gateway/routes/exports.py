"""`GET /v1/persons/export?format=csv|xlsx&…`: what a search with the same criteria finds, every
row in the search's order, as a file (R-PER-5), inside the caller's scope for exporting, which the
matrix gives apart from reading; personnel notes each export in the audit trail (R-PER-7).

The criteria are the search's (`routes.search.CRITERIA`, without its page), read and refused the
same way: a fault is a 422 naming the query field, and nothing is sent nor exported. Personnel's
`ExportPersons` streams the rows in chunks; its first chunk (or its refusal) is awaited before the
answer starts, so that a refusal is still a 422 or 403.

- CSV is written as the chunks arrive: the client's pace holds the stream back, down to
  personnel's database cursor, so nothing is held whole.
- XLSX is written a row at a time to a temporary file (openpyxl's write-only mode, in a worker
  thread so that the event loop goes on serving), then sent from disk and removed.

When the client goes away midway, the call to personnel is cancelled, and its audit entry says how
many rows were sent and that the export did not complete."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from qlcb.personnel.v1 import personnel_pb2, record_pb2, search_pb2
from qlcb_common.auth import Principal
from qlcb_common.days import VIETNAM
from qlcb_gateway.backends import Backends
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.errors import field_violations, refuse_query
from qlcb_gateway.exports import CSV_TYPE, XLSX_TYPE, CsvRows, Heading, Row, XlsxRows, attachment_headers
from qlcb_gateway.routes.search import CRITERIA, Criterion, read_criteria

router = APIRouter(prefix="/v1")

FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
FORMAT = Criterion("format", {"type": "string", "enum": list(FORMATS)}, "Định dạng tệp: csv (UTF-8 có BOM) hoặc xlsx")
EXPORT_CRITERIA = (FORMAT, *(c for c in CRITERIA if c.name not in ("page", "page_size")))
BY_NAME = {c.name: c for c in EXPORT_CRITERIA}
READ_BLOCK = 256 * 1024
"""Bytes of the XLSX file read from disk and sent at a time."""


@router.get(
    "/persons/export",
    tags=["Hồ sơ cán bộ"],
    response_class=StreamingResponse,
    openapi_extra={"parameters": [c.parameter() | {"required": c is FORMAT} for c in EXPORT_CRITERIA]},
    responses={
        200: {
            "description": "Tệp danh sách, tải về (Content-Disposition: attachment)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def export_persons(request: Request, principal: Caller, backends: BackendsDep) -> StreamingResponse:
    """Xuất danh sách cán bộ theo các tiêu chí tìm kiếm, ra tệp CSV hoặc XLSX, trong phạm vi được
    xuất của tài khoản; mỗi lần xuất được ghi nhật ký (tiêu chí, định dạng, số dòng).

    Cùng tiêu chí và thứ tự với `GET /v1/persons`, không chia trang. 422 names each query field at
    fault (and nothing is exported); 403 without the export right for what the criteria read."""
    fields, faults = read_criteria(request.query_params, BY_NAME)
    kind = fields.pop("format", None)
    if kind not in FORMATS and not any(field == "format" for field, _ in faults):
        faults.append(("format", f"Cần định dạng tệp: một trong {', '.join(FORMATS)}"))
    if faults:
        refuse_query(faults)
    try:
        return await export_download(fields, kind, principal, backends)
    except grpc.aio.AioRpcError as refused:
        if refused.code() is grpc.StatusCode.INVALID_ARGUMENT:
            refuse_query(field_violations(refused) or [("", refused.details() or "")])
        raise


async def export_download(
    fields: dict[str, Any], kind: str, principal: Principal, backends: Backends
) -> StreamingResponse:
    """The file of the people the search's `fields` find, as personnel streams them; raises
    personnel's refusal (INVALID_ARGUMENT naming the criterion, PERMISSION_DENIED without the
    export right) before any byte is sent. The web pages' export buttons download through it too."""
    call = backends.search.ExportPersons(
        search_pb2.ExportPersonsRequest(criteria=search_pb2.SearchPersonsRequest(**fields), format=kind),
        metadata=backends.call_options(principal.token)["metadata"],
        timeout=backends.export_timeout,
    )
    chunks = _Chunks(call)
    await chunks.first()
    now = datetime.now(VIETNAM)
    if kind == "csv":
        return Download(_csv(chunks), CSV_TYPE, _filename(now, "csv"), closing=chunks.cancel)
    heading = Heading(await _criteria_in_words(fields, backends, principal), principal.username, now)
    path = await _xlsx(chunks, heading)
    return Download(
        from_disk(path),
        XLSX_TYPE,
        _filename(now, "xlsx"),
        closing=lambda: asyncio.to_thread(path.unlink, missing_ok=True),
        size=path.stat().st_size,
    )


class _Chunks:
    """Personnel's stream of chunks, read one at a time, with the rows numbered across chunks and
    each unit's name kept from the chunk that first named it."""

    def __init__(self, call: Any) -> None:
        self._call = call
        self._first: search_pb2.ExportPersonsResponse | None = None
        self._units: dict[str, str] = {}
        self._numbered = 0

    async def first(self) -> None:
        """Waits for the first chunk: the export was accepted (or raises its refusal)."""
        chunk = await self._call.read()
        self._first = None if chunk is grpc.aio.EOF else chunk

    async def rows(self) -> AsyncIterator[list[Row]]:
        chunk = self._first
        self._first = None
        while chunk is not None:
            self._units.update(chunk.unit_names)
            rows = [Row.of(self._numbered + n, p, self._units) for n, p in enumerate(chunk.persons, start=1)]
            self._numbered += len(rows)
            yield rows
            read = await self._call.read()
            chunk = None if read is grpc.aio.EOF else read

    async def cancel(self) -> None:
        """Ends the call if it is still running (the client went away); nothing once it has ended."""
        self._call.cancel()


async def _csv(chunks: _Chunks) -> AsyncIterator[bytes]:
    writer = CsvRows()
    yield writer.start()
    async for rows in chunks.rows():
        yield writer.rows(rows)


async def _xlsx(chunks: _Chunks, heading: Heading) -> Path:
    """The workbook of every row, in a temporary file that is the caller's to remove."""
    descriptor, name = tempfile.mkstemp(prefix="qlcb-export-", suffix=".xlsx")
    os.close(descriptor)
    path = Path(name)
    try:
        writer = await asyncio.to_thread(XlsxRows, path, heading)
        async for rows in chunks.rows():
            await asyncio.to_thread(writer.append, rows)
        await asyncio.to_thread(writer.close)
    except BaseException:
        await chunks.cancel()
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return path


async def from_disk(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while block := await asyncio.to_thread(file.read, READ_BLOCK):
            yield block


class Download(StreamingResponse):
    """A file to save, and what to do once it is sent or its client has gone away (`closing`)."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        media_type: str,
        filename: tuple[str, str],
        *,
        closing: Callable[[], Awaitable[None]],
        size: int | None = None,
    ) -> None:
        ascii_name, name = filename
        headers = attachment_headers(ascii_name, name)
        if size is not None:
            headers["Content-Length"] = str(size)
        super().__init__(content, media_type=media_type, headers=headers)
        self._closing = closing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._closing()


def _filename(now: datetime, extension: str) -> tuple[str, str]:
    """The file's name in ASCII, for clients that know no other, and in Vietnamese (RFC 5987)."""
    return (
        f"danh-sach-can-bo-{now:%Y%m%d-%H%M}.{extension}",
        f"Danh sách cán bộ {now:%Y-%m-%d %H.%M}.{extension}",
    )


# ---- the criteria in words, for the sheet ---------------------------------------------------------

_LABELS = {
    "q": "Họ tên có",
    "personal_id": "Số định danh cá nhân",
    "staff_number": "Số hiệu cán bộ",
    "status": "Tình trạng",
    "rank": "Ngạch",
    "rank_group": "Nhóm ngạch",
    "post": "Chức vụ",
    "qualification": "Trình độ chuyên môn",
    "political_theory": "Lý luận chính trị",
    "state_management": "Quản lý nhà nước",
    "foreign_language": "Ngoại ngữ",
    "it_level": "Tin học",
    "evaluation_year": "Năm đánh giá",
    "evaluation_level": "Mức xếp loại",
    "sex": "Giới tính",
    "ethnicity": "Dân tộc",
    "religion": "Tôn giáo",
    "home_province": "Quê quán (tỉnh, thành phố)",
    "reward": "Khen thưởng",
    "discipline": "Kỷ luật",
    "contract_type": "Loại hợp đồng",
    "salary_step": "Bậc lương",
    "party_member": "Đảng viên",
    "born_from": "Sinh từ ngày",
    "born_to": "Sinh đến ngày",
    "age_min": "Tuổi từ",
    "age_max": "Tuổi đến",
    "recruited_from": "Tuyển dụng từ ngày",
    "recruited_to": "Tuyển dụng đến ngày",
    "as_of": "Tại ngày",
    "sort": "Sắp xếp theo",
}
_WORDS = {
    "status": {
        "active": "đang công tác",
        "retired": "nghỉ hưu",
        "resigned": "thôi việc",
        "deceased": "từ trần",
        "moved_out": "chuyển ra ngoài ngành",
    },
    "sex": {"male": "Nam", "female": "Nữ"},
    "sort": {"name": "tên", "birth_date": "ngày sinh", "unit": "đơn vị"},
}
_CATALOGS = {
    "rank": "ranks",
    "post": "posts",
    "qualification": "training_levels",
    "political_theory": "training_levels",
    "state_management": "training_levels",
    "foreign_language": "training_levels",
    "it_level": "training_levels",
    "ethnicity": "ethnicities",
    "religion": "religions",
    "home_province": "provinces",
    "reward": "reward_forms",
    "discipline": "discipline_forms",
    "contract_type": "contract_types",
    "evaluation_level": "evaluation_levels",
}


async def _criteria_in_words(fields: dict[str, Any], backends: Backends, principal: Principal) -> list[str]:
    """Each criterion asked, as a reader of the sheet says it: the unit and catalog codes by their
    names where the caller may read them, else as given."""
    options = backends.call_options(principal.token)
    said: list[str] = []
    if unit_id := fields.get("unit_id"):
        name = unit_id
        with contextlib.suppress(grpc.aio.AioRpcError):
            name = (await backends.personnel.GetUnit(personnel_pb2.GetUnitRequest(id=unit_id), **options)).unit.name
        said.append(f"Đơn vị: {name}" + (" và các đơn vị trực thuộc" if fields.get("include_subtree") else ""))
    for field, label in _LABELS.items():
        if field not in fields or fields[field] == "":
            continue
        value = fields[field]
        if isinstance(value, bool):
            words = "có" if value else "không"
        elif field in _WORDS:
            words = _WORDS[field].get(str(value).strip().lower(), str(value))
        elif field.endswith(("_from", "_to", "as_of")):
            words = _day(str(value))
        elif field in _CATALOGS:
            words = await _catalog_label(backends, options, _CATALOGS[field], str(value))
        else:
            words = str(value)
        said.append(f"{label}: {words}")
    return said


def _day(value: str) -> str:
    try:
        return f"{date.fromisoformat(value):%d/%m/%Y}"
    except ValueError:
        return value


async def _catalog_label(backends: Backends, options: dict[str, Any], catalog: str, code: str) -> str:
    code = code.strip().upper()
    try:
        values = (
            await backends.record.ListCatalogValues(record_pb2.ListCatalogValuesRequest(catalog=catalog), **options)
        ).values
    except grpc.aio.AioRpcError:
        return code
    label = next((v.label for v in values if v.code == code), None)
    return f"{code} — {label}" if label else code
