from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.exc import IntegrityError

from qlcb.personnel.v1 import imports_pb2, imports_pb2_grpc
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.errors import AlreadyExists, InvalidArgument
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_common.import_templates import Template
from qlcb_common.limits import MAX_IMPORT_ROWS
from qlcb_personnel.imports import service
from qlcb_personnel.imports.rows import Row, rows_of

Context = Any


class _NotApplied(Exception):
    """Ends the unit of work of an import that is not applied: whatever its checks wrote is rolled back."""

    def __init__(self, report: service.Report) -> None:
        self.report = report


class RecordImportServicer(imports_pb2_grpc.RecordImportServiceServicer):
    def __init__(self, db: Database, outbox: Outbox, delegations: DelegationCopy) -> None:
        self._db = db
        self._outbox = outbox
        self._delegations = delegations

    async def ImportRows(
        self, request_iterator: AsyncIterator[imports_pb2.ImportRowsRequest], context: Context
    ) -> imports_pb2.ImportRowsResponse:
        actor = current_principal()
        async with self._db.unit_of_work() as session:
            delegations = await self._delegations.for_caller(session, actor)
        header, found, rows = await self._read(request_iterator, delegations)
        try:
            async with self._db.unit_of_work() as session:
                report = await service.run(
                    session,
                    outbox=self._outbox,
                    actor=actor,
                    delegations=delegations,
                    header=header,
                    found=found,
                    rows=rows,
                )
                if not report.applied:
                    raise _NotApplied(report)
        except _NotApplied as rolled_back:
            report = rolled_back.report
            async with self._db.unit_of_work() as session:
                await service.note(session, actor, header, report)
        except IntegrityError as exc:
            raise AlreadyExists("Một hồ sơ hoặc mục trong tệp vừa được ghi bởi người khác: hãy nhập lại") from exc
        return imports_pb2.ImportRowsResponse(
            rows=report.rows,
            created=report.created,
            already_present=report.present,
            rejected=report.rejected,
            errors=[imports_pb2.ImportRowError(row=e.row, column=e.column, reason=e.reason) for e in report.errors],
            errors_omitted=report.omitted,
            applied=report.applied,
        )

    async def _read(
        self, messages: AsyncIterator[imports_pb2.ImportRowsRequest], delegations: Any
    ) -> tuple[service.Header, Template, list[Row]]:
        """The header, checked before any row is read, then every row."""
        header: service.Header | None = None
        found: Template | None = None
        numbered: list[tuple[int, tuple[str, ...]]] = []
        async for message in messages:
            part = message.WhichOneof("part")
            if header is None:
                if part != "header":
                    raise InvalidArgument.single("header", "Thông điệp đầu tiên phải là phần đầu (header)")
                given = message.header
                header = service.Header(
                    given.kind, given.dry_run, given.file_sha256, given.file_name, given.media_type, tuple(given.fields)
                )
                found = service.accepted(header, current_principal(), delegations)
            elif part != "rows":
                raise InvalidArgument.single("header", "Chỉ một phần đầu (header), trước các dòng")
            else:
                numbered += [(r.number, tuple(r.cells)) for r in message.rows.rows]
                if len(numbered) > MAX_IMPORT_ROWS:
                    raise service.too_many()
        if header is None or found is None:
            raise InvalidArgument.single("header", "Thiếu phần đầu (header)")
        return header, found, rows_of(header.fields, numbered)
