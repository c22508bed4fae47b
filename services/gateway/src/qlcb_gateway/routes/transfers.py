"""The transfer hand-off (R-PER-3): the old unit sends (and may withdraw), the new unit accepts or declines."""

from __future__ import annotations

from fastapi import APIRouter, status

from qlcb.personnel.v1 import personnel_pb2
from qlcb_gateway.dependencies import BackendsDep, Caller
from qlcb_gateway.schemas import (
    TransferDecline,
    TransferDirection,
    TransferPublic,
    TransferSend,
    TransferStatus,
    TransferWithdrawal,
)

router = APIRouter(prefix="/v1", tags=["Điều động"])


def _transfer(transfer: personnel_pb2.Transfer) -> TransferPublic:
    return TransferPublic.model_validate(
        {
            "id": transfer.id,
            "person_id": transfer.person_id,
            "from_unit_id": transfer.from_unit_id,
            "to_unit_id": transfer.to_unit_id,
            "status": personnel_pb2.TransferStatus.Name(transfer.status).removeprefix("TRANSFER_STATUS_").lower(),
            "effective_date": transfer.effective_date,
            "decision": transfer.decision,
            "sent_by": transfer.sent_by,
            "sent_at": transfer.sent_at,
            "decided_by": transfer.decided_by or None,
            "decided_at": transfer.decided_at or None,
            "decline_reason": transfer.decline_reason or None,
        }
    )


@router.post(
    "/transfers",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "No person `person_id` or unit `to_unit_id` within the caller's reach"}},
)
async def send_transfer(body: TransferSend, principal: Caller, backends: BackendsDep) -> TransferPublic:
    """Đơn vị cũ gửi hồ sơ điều động sang đơn vị mới."""
    response = await backends.personnel.SendTransfer(
        personnel_pb2.SendTransferRequest(
            person_id=body.person_id,
            to_unit_id=body.to_unit_id,
            effective_date=body.effective_date.isoformat(),
            decision=body.decision,
        ),
        **backends.call_options(principal.token),
    )
    return _transfer(response.transfer)


@router.post("/transfers/{transfer_id}/accept")
async def accept_transfer(transfer_id: str, principal: Caller, backends: BackendsDep) -> TransferPublic:
    """Đơn vị mới tiếp nhận cán bộ."""
    response = await backends.personnel.AcceptTransfer(
        personnel_pb2.AcceptTransferRequest(transfer_id=transfer_id), **backends.call_options(principal.token)
    )
    return _transfer(response.transfer)


@router.post("/transfers/{transfer_id}/decline")
async def decline_transfer(
    transfer_id: str, body: TransferDecline, principal: Caller, backends: BackendsDep
) -> TransferPublic:
    """Đơn vị mới từ chối tiếp nhận; cán bộ ở lại đơn vị cũ."""
    response = await backends.personnel.DeclineTransfer(
        personnel_pb2.DeclineTransferRequest(transfer_id=transfer_id, reason=body.reason),
        **backends.call_options(principal.token),
    )
    return _transfer(response.transfer)


@router.post("/transfers/{transfer_id}/withdraw")
async def withdraw_transfer(
    transfer_id: str, body: TransferWithdrawal, principal: Caller, backends: BackendsDep
) -> TransferPublic:
    """Đơn vị cũ thu hồi hồ sơ đã gửi khi đơn vị mới chưa tiếp nhận."""
    response = await backends.personnel.WithdrawTransfer(
        personnel_pb2.WithdrawTransferRequest(transfer_id=transfer_id, reason=body.reason),
        **backends.call_options(principal.token),
    )
    return _transfer(response.transfer)


@router.get("/units/{unit_id}/transfers")
async def list_transfers(
    unit_id: str,
    principal: Caller,
    backends: BackendsDep,
    direction: TransferDirection | None = None,
    status: TransferStatus | None = None,
    include_subtree: bool = False,
) -> list[TransferPublic]:
    """Các yêu cầu điều động vào hoặc ra khỏi đơn vị (`include_subtree`: và các đơn vị trực thuộc), mới
    nhất trước."""
    response = await backends.personnel.ListTransfers(
        personnel_pb2.ListTransfersRequest(
            unit_id=unit_id,
            direction=personnel_pb2.TransferDirection.Value(
                "TRANSFER_DIRECTION_" + (direction.value.upper() if direction else "UNSPECIFIED")
            ),
            status=personnel_pb2.TransferStatus.Value(
                "TRANSFER_STATUS_" + (status.value.upper() if status else "UNSPECIFIED")
            ),
            include_subtree=include_subtree,
        ),
        **backends.call_options(principal.token),
    )
    return [_transfer(t) for t in response.transfers]
