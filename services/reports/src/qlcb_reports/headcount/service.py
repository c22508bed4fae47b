from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import InvalidArgument, NotFound
from qlcb_reports.headcount.models import UnitHeadcount, UnitNode, in_subtree


async def headcount(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation] = (),
    unit_id: str,
    include_subtree: bool,
) -> int:
    if not unit_id:
        raise InvalidArgument.single("unit_id", "Phải nêu đơn vị")
    node = await session.get(UnitNode, unit_id)
    if node is None:
        raise NotFound(f"Chưa có số liệu của đơn vị {unit_id!r}")
    authz.require(actor, Section.REPORTS, Action.READ, node.path, delegations=delegations)
    query = select(func.coalesce(func.sum(UnitHeadcount.headcount), 0)).join(
        UnitNode, UnitNode.unit_id == UnitHeadcount.unit_id
    )
    query = query.where(in_subtree(node.path)) if include_subtree else query.where(UnitNode.unit_id == unit_id)
    return int(await session.scalar(query) or 0)
