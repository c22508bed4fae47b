from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from qlcb.reports.v1 import reports_pb2, reports_pb2_grpc
from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Section
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.days import vietnam_today
from qlcb_common.db import Database
from qlcb_common.errors import PermissionDenied
from qlcb_common.events.inbox import Inbox
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_common.tiers import Tier
from qlcb_reports.headcount import service as headcounts
from qlcb_reports.statistics import generations, reads
from qlcb_reports.statistics import service as statistics
from qlcb_reports.statistics.forms import forms
from qlcb_reports.statistics.models import StatGeneration

Context = Any


class ReportsServicer(reports_pb2_grpc.ReportsServiceServicer):
    def __init__(
        self, db: Database, inbox: Inbox, outbox: Outbox, delegations: DelegationCopy, *, sector_founded: date
    ) -> None:
        self._db = db
        self._inbox = inbox
        self._outbox = outbox
        self._delegations = delegations
        self._founded = sector_founded

    async def GetHeadcount(
        self, request: reports_pb2.GetHeadcountRequest, context: Context
    ) -> reports_pb2.GetHeadcountResponse:
        actor = current_principal()
        async with self._db.unit_of_work() as session:
            count = await headcounts.headcount(
                session,
                actor=actor,
                delegations=await self._delegations.for_caller(session, actor),
                unit_id=request.unit_id,
                include_subtree=request.include_subtree,
            )
        return reports_pb2.GetHeadcountResponse(unit_id=request.unit_id, headcount=count)

    async def GetProjectionStatus(
        self, request: reports_pb2.GetProjectionStatusRequest, context: Context
    ) -> reports_pb2.GetProjectionStatusResponse:
        """A count over every unit's events: for the tiers that read the whole sector's reports
        (system-admin, sector-hr, sector-viewer), who learn from it whether those are current."""
        authz.require_sector_wide(current_principal(), Section.REPORTS, Action.READ, what="projection status")
        async with self._db.unit_of_work() as session:
            processed = await session.scalar(select(func.count()).select_from(self._inbox.table))
        return reports_pb2.GetProjectionStatusResponse(events_processed=int(processed or 0))

    async def ListStatisticsForms(
        self, request: reports_pb2.ListStatisticsFormsRequest, context: Context
    ) -> reports_pb2.ListStatisticsFormsResponse:
        return reports_pb2.ListStatisticsFormsResponse(
            forms=[
                reports_pb2.StatisticsFormSummary(
                    form=form.code,
                    title=form.title,
                    designation=form.designation,
                    legal_basis=form.legal_basis,
                    kind=form.kind,
                )
                for _code, form in sorted(forms().items())
            ]
        )

    async def GetStatisticsForm(
        self, request: reports_pb2.GetStatisticsFormRequest, context: Context
    ) -> reports_pb2.GetStatisticsFormResponse:
        actor = current_principal()
        export_format = reads.export_format(request.export_format)
        async with self._db.unit_of_work() as session:
            delegations = await self._delegations.for_caller(session, actor)
            filled = await statistics.fill(
                session,
                actor=actor,
                delegations=delegations,
                form_code=request.form,
                unit_id=request.unit_id,
                as_of=request.as_of,
                founded=self._founded,
                today=vietnam_today(),
            )
            if export_format and filled.form.kind == "list":
                # A list of people as a file is an export of their particulars, as the search's is.
                authz.require(actor, Section.IDENTITY, Action.EXPORT, filled.unit.path, delegations=delegations)
            await reads.note_form(session, self._outbox, actor=actor, filled=filled, export_format=export_format)
        form = filled.form
        return reports_pb2.GetStatisticsFormResponse(
            form=form.code,
            title=form.title,
            designation=form.designation,
            legal_basis=form.legal_basis,
            notes=list(form.notes),
            unit_id=filled.unit.unit_id,
            unit_name=filled.unit.name,
            as_of=filled.as_of.isoformat(),
            kind=form.kind,
            columns=[
                reports_pb2.StatisticsColumn(key=c.key, label=c.label, header=c.header, count=c.count)
                for c in form.columns
            ],
            rows=[
                reports_pb2.StatisticsRow(
                    key=row.key,
                    label=row.label,
                    unit_id=row.unit_id,
                    cells=[_cell(v) for v in row.cells],
                )
                for row in filled.rows
            ],
            generation=filled.generation,
        )

    async def ListStatisticsPeople(
        self, request: reports_pb2.ListStatisticsPeopleRequest, context: Context
    ) -> reports_pb2.ListStatisticsPeopleResponse:
        actor = current_principal()
        async with self._db.unit_of_work() as session:
            page = await statistics.people(
                session,
                actor=actor,
                delegations=await self._delegations.for_caller(session, actor),
                form_code=request.form,
                unit_id=request.unit_id,
                as_of=request.as_of,
                row=request.row,
                column=request.column,
                page=request.page,
                page_size=request.page_size,
                founded=self._founded,
                today=vietnam_today(),
            )
            await reads.note_people(
                session, self._outbox, actor=actor, page=page, row=request.row, column=request.column
            )
        return reports_pb2.ListStatisticsPeopleResponse(
            people=[
                reports_pb2.StatisticsPerson(
                    person_id=found.person.person_id,
                    personal_id=found.person.personal_id,
                    staff_number=found.person.staff_number,
                    full_name=found.person.full_name,
                    date_of_birth=found.person.date_of_birth.isoformat(),
                    sex=found.person.sex,
                    unit_id=found.unit_id,
                )
                for found in page.people
            ],
            total=page.total,
        )

    async def RebuildStatistics(
        self, request: reports_pb2.RebuildStatisticsRequest, context: Context
    ) -> reports_pb2.RebuildStatisticsResponse:
        actor = _system_admin()
        async with self._db.unit_of_work() as session:
            generation = await generations.request_rebuild(session, actor.username or actor.subject)
            answer = _generation(generation)
        return reports_pb2.RebuildStatisticsResponse(generation=answer)

    async def ListStatisticsGenerations(
        self, request: reports_pb2.ListStatisticsGenerationsRequest, context: Context
    ) -> reports_pb2.ListStatisticsGenerationsResponse:
        _system_admin()
        async with self._db.unit_of_work() as session:
            found = [_generation(g) for g in await generations.listed(session)]
        return reports_pb2.ListStatisticsGenerationsResponse(generations=found)


def _cell(value: int | str | None) -> reports_pb2.StatisticsCell:
    if isinstance(value, int):
        return reports_pb2.StatisticsCell(value=value)
    return reports_pb2.StatisticsCell(text=value or "")


def _system_admin() -> Principal:
    actor = current_principal()
    if not actor.has_any_role((Tier.SYSTEM_ADMIN,)):
        raise PermissionDenied("Chỉ quản trị hệ thống được dựng lại số liệu thống kê")
    return actor


def _generation(generation: StatGeneration) -> reports_pb2.StatisticsGeneration:
    return reports_pb2.StatisticsGeneration(
        id=generation.id,
        state=generation.state,
        started_at=generation.started_at.isoformat(),
        switched_at=generation.switched_at.isoformat() if generation.switched_at else "",
        requested_by=generation.requested_by,
    )
