"""Decisions that change the unit tree (R-ORG-2), and its history."""

from __future__ import annotations

from fastapi import APIRouter

from qlcb.personnel.v1 import personnel_pb2
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.routes.organisation import unit_public
from qlcb_gateway.schemas import (
    MergeResult,
    SplitResult,
    UnitChangePublic,
    UnitDissolve,
    UnitMerge,
    UnitMove,
    UnitPublic,
    UnitRename,
    UnitSplit,
)

router = APIRouter(prefix="/v1", tags=["Tổ chức bộ máy"])


@router.post("/units/{unit_id}/rename")
async def rename_unit(unit_id: str, body: UnitRename, principal: Caller, backends: BackendsDep) -> UnitPublic:
    """Đổi tên đơn vị theo quyết định; mã đơn vị giữ nguyên."""
    response = await backends.personnel.RenameUnit(
        personnel_pb2.RenameUnitRequest(
            unit_id=unit_id, name=body.name, effective_date=body.effective_date.isoformat(), decision=body.decision
        ),
        **backends.call_options(principal.token),
    )
    return unit_public(response.unit)


@router.post("/units/{unit_id}/move")
async def move_unit(unit_id: str, body: UnitMove, principal: Caller, backends: BackendsDep) -> UnitPublic:
    """Chuyển đơn vị, cùng các đơn vị trực thuộc, sang đơn vị cấp trên khác."""
    response = await backends.personnel.MoveUnit(
        personnel_pb2.MoveUnitRequest(
            unit_id=unit_id,
            new_parent_id=body.new_parent_id,
            effective_date=body.effective_date.isoformat(),
            decision=body.decision,
        ),
        **backends.call_options(principal.token),
    )
    return unit_public(response.unit)


@router.post("/units/{unit_id}/dissolve")
async def dissolve_unit(unit_id: str, body: UnitDissolve, principal: Caller, backends: BackendsDep) -> UnitPublic:
    """Giải thể đơn vị không còn cán bộ đang công tác và đơn vị trực thuộc; hồ sơ được giữ."""
    response = await backends.personnel.DissolveUnit(
        personnel_pb2.DissolveUnitRequest(
            unit_id=unit_id, effective_date=body.effective_date.isoformat(), decision=body.decision
        ),
        **backends.call_options(principal.token),
    )
    return unit_public(response.unit)


@router.post("/unit-mergers", responses={404: {"description": "A unit named is not within the caller's reach"}})
async def merge_units(body: UnitMerge, principal: Caller, backends: BackendsDep) -> MergeResult:
    """Sáp nhập: cán bộ và đơn vị trực thuộc của các đơn vị bị sáp nhập chuyển về đơn vị nhận."""
    response = await backends.personnel.MergeUnits(
        personnel_pb2.MergeUnitsRequest(
            source_unit_ids=body.source_unit_ids,
            target_unit_id=body.target_unit_id,
            effective_date=body.effective_date.isoformat(),
            decision=body.decision,
        ),
        **backends.call_options(principal.token),
    )
    return MergeResult(
        target=unit_public(response.target),
        sources=[unit_public(u) for u in response.sources],
        persons_moved=response.persons_moved,
    )


@router.post("/units/{unit_id}/split")
async def split_unit(unit_id: str, body: UnitSplit, principal: Caller, backends: BackendsDep) -> SplitResult:
    """Chia tách đơn vị thành các đơn vị mới cùng cấp; từng cán bộ và đơn vị trực thuộc được phân công."""
    response = await backends.personnel.SplitUnit(
        personnel_pb2.SplitUnitRequest(
            unit_id=unit_id,
            successors=[
                personnel_pb2.SplitSuccessor(
                    code=s.code, name=s.name, kind=personnel_pb2.UnitKind.Value("UNIT_KIND_" + s.kind.value.upper())
                )
                for s in body.successors
            ],
            persons=[personnel_pb2.SplitAssignment(id=a.id, successor_code=a.successor_code) for a in body.persons],
            sub_units=[personnel_pb2.SplitAssignment(id=a.id, successor_code=a.successor_code) for a in body.sub_units],
            effective_date=body.effective_date.isoformat(),
            decision=body.decision,
        ),
        **backends.call_options(principal.token),
    )
    return SplitResult(source=unit_public(response.source), successors=[unit_public(u) for u in response.successors])


@router.get("/units/{unit_id}/history")
async def unit_history(unit_id: str, principal: Caller, backends: BackendsDep) -> list[UnitChangePublic]:
    """Lịch sử các quyết định về đơn vị, cũ nhất trước."""
    response = await backends.personnel.ListUnitChanges(
        personnel_pb2.ListUnitChangesRequest(unit_id=unit_id), **backends.call_options(principal.token)
    )
    return [
        UnitChangePublic(
            change=c.change,
            unit=unit_public(c.unit),
            effective_date=c.effective_date or None,
            decision=c.decision,
            recorded_at=c.recorded_at,
            recorded_by=c.recorded_by,
        )
        for c in response.changes
    ]
