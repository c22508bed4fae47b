from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb.reports.v1 import workflow_pb2, workflow_pb2_grpc
from qlcb_common.authz.delegations import DelegationCopy
from qlcb_common.db import Database
from qlcb_common.events.outbox import Outbox
from qlcb_common.grpc_interceptor import current_principal
from qlcb_common.working_days import WorkingCalendar
from qlcb_reports.regimes import periods
from qlcb_reports.signing.service import Signing
from qlcb_reports.statistics import reads
from qlcb_reports.workflow import completeness, service, waiting
from qlcb_reports.workflow.messages import period_to_proto, transition_to_proto
from qlcb_reports.workflow.service import as_proto

Context = Any


class _Calls:
    def __init__(
        self, db: Database, outbox: Outbox, delegations: DelegationCopy, working: WorkingCalendar, signing: Signing
    ) -> None:
        self._db = db
        self._signing = signing
        self._outbox = outbox
        self._delegations = delegations
        self._working = working

    async def _caller(self, session: AsyncSession) -> service.Caller:
        actor = current_principal()
        return service.Caller(
            actor=actor,
            delegations=await self._delegations.for_caller(session, actor),
            outbox=self._outbox,
            working=self._working,
            signing=self._signing,
        )


async def _key(session: AsyncSession, period_id: str) -> str:
    return (await service.period_of(session, period_id)).key


class ReportAssignmentServicer(_Calls, workflow_pb2_grpc.ReportAssignmentServiceServicer):
    async def OpenPeriod(
        self, request: workflow_pb2.OpenPeriodRequest, context: Context
    ) -> workflow_pb2.OpenPeriodResponse:
        async with self._db.unit_of_work() as session:
            period, count = await service.open_period(
                session,
                caller=await self._caller(session),
                regime_id=request.regime_id,
                period=request.period,
                starts_on=request.starts_on,
                ends_on=request.ends_on,
                deadline=request.deadline,
            )
            return workflow_pb2.OpenPeriodResponse(period=period_to_proto(period), assignments=count)

    async def ListPeriods(
        self, request: workflow_pb2.ListPeriodsRequest, context: Context
    ) -> workflow_pb2.ListPeriodsResponse:
        async with self._db.unit_of_work() as session:
            found = await service.list_periods(session, caller=await self._caller(session), regime_id=request.regime_id)
            return workflow_pb2.ListPeriodsResponse(periods=[period_to_proto(p) for p in found])

    async def ListAssignments(
        self, request: workflow_pb2.ListAssignmentsRequest, context: Context
    ) -> workflow_pb2.ListAssignmentsResponse:
        export_format = reads.export_format(request.export_format)
        async with self._db.unit_of_work() as session:
            caller = await self._caller(session)
            period, found = await service.list_assignments(
                session, caller=caller, period_id=request.period_id, unit_id=request.unit_id
            )
            if export_format:
                await service.note_export(
                    session, caller, period, request.unit_id, export_format=export_format, reports=len(found)
                )
            return workflow_pb2.ListAssignmentsResponse(
                period=period_to_proto(period), assignments=[as_proto(a, period.key) for a in found]
            )

    async def GetAssignment(
        self, request: workflow_pb2.GetAssignmentRequest, context: Context
    ) -> workflow_pb2.GetAssignmentResponse:
        export_format = reads.export_format(request.export_format)
        async with self._db.unit_of_work() as session:
            caller = await self._caller(session)
            assignment, period, history = await service.get_assignment(
                session, caller=caller, assignment_id=request.assignment_id
            )
            if export_format:
                await service.note_export(
                    session, caller, period, assignment.unit_id, export_format=export_format, reports=1
                )
            return workflow_pb2.GetAssignmentResponse(
                assignment=as_proto(assignment, period.key),
                transitions=[transition_to_proto(t, holder) for t, holder in history],
            )

    async def ListWaiting(
        self, request: workflow_pb2.ListWaitingRequest, context: Context
    ) -> workflow_pb2.ListWaitingResponse:
        async with self._db.unit_of_work() as session:
            today = periods.today()
            found = await waiting.waiting(session, caller=await self._caller(session), limit=request.limit, today=today)
            return workflow_pb2.ListWaitingResponse(
                to_send=[as_proto(a, key, today) for a, key in found.to_send],
                to_send_total=found.to_send_total,
                to_approve=[as_proto(a, key, today) for a, key in found.to_approve],
                to_approve_total=found.to_approve_total,
            )

    async def SubAssign(
        self, request: workflow_pb2.SubAssignRequest, context: Context
    ) -> workflow_pb2.SubAssignResponse:
        async with self._db.unit_of_work() as session:
            created = await service.sub_assign(
                session,
                caller=await self._caller(session),
                assignment_id=request.assignment_id,
                unit_ids=list(request.unit_ids),
                indicator_codes=list(request.indicator_codes),
                deadline=request.deadline,
            )
            key = await _key(session, created[0].period_id)
            return workflow_pb2.SubAssignResponse(assignments=[as_proto(a, key) for a in created])

    async def Consolidate(
        self, request: workflow_pb2.ConsolidateRequest, context: Context
    ) -> workflow_pb2.ConsolidateResponse:
        async with self._db.unit_of_work() as session:
            assignment = await service.consolidate(
                session, caller=await self._caller(session), assignment_id=request.assignment_id
            )
            return workflow_pb2.ConsolidateResponse(
                assignment=as_proto(assignment, await _key(session, assignment.period_id))
            )

    async def GrantLockException(
        self, request: workflow_pb2.GrantLockExceptionRequest, context: Context
    ) -> workflow_pb2.GrantLockExceptionResponse:
        async with self._db.unit_of_work() as session:
            assignment = await service.grant_lock_exception(
                session,
                caller=await self._caller(session),
                assignment_id=request.assignment_id,
                until=request.until,
                reason=request.reason,
                sent_otherwise_on=request.sent_otherwise_on,
            )
            return workflow_pb2.GrantLockExceptionResponse(
                assignment=as_proto(assignment, await _key(session, assignment.period_id))
            )

    async def GetCompleteness(
        self, request: workflow_pb2.GetCompletenessRequest, context: Context
    ) -> workflow_pb2.GetCompletenessResponse:
        async with self._db.unit_of_work() as session:
            period, unit_id, figures, overdue = await completeness.completeness(
                session, caller=await self._caller(session), period_id=request.period_id, unit_id=request.unit_id
            )
            return workflow_pb2.GetCompletenessResponse(
                period=period_to_proto(period),
                unit_id=unit_id,
                total=workflow_pb2.Completeness(
                    expected=figures.expected,
                    submitted=figures.submitted,
                    on_time=figures.on_time,
                    approved=figures.approved,
                    submitted_rate=figures.rate(figures.submitted),
                    on_time_rate=figures.rate(figures.on_time),
                    approved_rate=figures.rate(figures.approved),
                ),
                overdue=[as_proto(a, period.key) for a in overdue],
            )


class ReportSubmissionServicer(_Calls, workflow_pb2_grpc.ReportSubmissionServiceServicer):
    async def SaveDraft(
        self, request: workflow_pb2.SaveDraftRequest, context: Context
    ) -> workflow_pb2.SaveDraftResponse:
        async with self._db.unit_of_work() as session:
            assignment = await service.save_draft(
                session,
                caller=await self._caller(session),
                assignment_id=request.assignment_id,
                values_json=request.values_json,
                expected_version=request.expected_version,
            )
            return workflow_pb2.SaveDraftResponse(
                assignment=as_proto(assignment, await _key(session, assignment.period_id))
            )

    async def TransitionSubmission(
        self, request: workflow_pb2.TransitionSubmissionRequest, context: Context
    ) -> workflow_pb2.TransitionSubmissionResponse:
        async with self._db.unit_of_work() as session:
            assignment, row = await service.transition(
                session,
                caller=await self._caller(session),
                assignment_id=request.assignment_id,
                action=request.action,
                reason=request.reason,
                expected_version=request.expected_version,
            )
            return workflow_pb2.TransitionSubmissionResponse(
                assignment=as_proto(assignment, await _key(session, assignment.period_id)),
                transition=transition_to_proto(row, await service.holder_of(session, row)),
            )
