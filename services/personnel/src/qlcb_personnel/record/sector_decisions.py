"""The sector HR tier writes "records resulting from its own decisions for any unit" (the domain's tier
table; 001 Điều 6.1.b: "dữ liệu cán bộ là kết quả do mình tham mưu thực hiện ... theo phân cấp quản lý
cán bộ"), while a Cục Hải quan tỉnh keeps its own staff's records, its leadership included (001 Điều
6.2). So in the subtree of a provincial department an entry written through that tier alone must
result from a decision of the sector's head body (the root of the unit tree, Tổng cục Hải quan),
cited by its number and that body. In the units the sector manages itself (its departments and HQ
units) the tier writes every entry, as before (ADR 0063)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation
from qlcb_common.record_sections import RecordSection
from qlcb_common.text import clean
from qlcb_personnel.persons.models import Person
from qlcb_personnel.persons.service import record_ref
from qlcb_personnel.units.models import Unit, UnitChange

SELF_MANAGED_KIND = "UNIT_KIND_PROVINCIAL_DEPARTMENT"
"""The kind of unit that keeps its own staff's records (001 Điều 6.2)."""


def _folded(name: str) -> str:
    return clean(name).casefold()


@dataclass(frozen=True)
class SectorDecisionsOnly:
    """What an entry must cite to be written: a decision of `head`, named as it is or was called."""

    head: str
    keeper: str
    names: frozenset[str]

    def refusal(self, number: str | None, body: str | None) -> str | None:
        """Why an entry citing decision `number` of `body` may not be written; None if it may."""
        if number and body and _folded(body) in self.names:
            return None
        return (
            f"Hồ sơ cán bộ thuộc {self.keeper} do đơn vị đó cập nhật; cấp của tài khoản chỉ ghi vào đó kết quả "
            f"từ quyết định của {self.head}: cần số quyết định và cơ quan ban hành là {self.head}"
        )


async def limit(
    session: AsyncSession,
    actor: Principal,
    delegations: Sequence[Delegation],
    section: RecordSection,
    path: str,
    person: Person,
) -> SectorDecisionsOnly | None:
    """What the caller's entries in this section of this person's record must cite, if the caller
    writes it through an `OWN_DECISIONS_ONLY` tier alone in a unit that keeps its own records."""
    if not authz.only_through(
        authz.OWN_DECISIONS_ONLY, actor, section.authz, Action.UPDATE, path, record_ref(person), delegations
    ):
        return None
    # A decision or an import names many people of few units: each unit's answer is read once per
    # unit of work.
    known: dict[str, SectorDecisionsOnly | None] = session.info.setdefault(_LIMITS_READ, {})
    if path not in known:
        known[path] = await _of_unit(session, path)
    return known[path]


_LIMITS_READ = "qlcb_personnel.sector_decisions"
"""The key of `session.info` under which a unit of work keeps what each unit path's entries cite."""


async def _of_unit(session: AsyncSession, path: str) -> SectorDecisionsOnly | None:
    parts = path.strip("/").split("/")
    above = ["/" + "/".join(parts[: depth + 1]) for depth in range(len(parts))]
    units = (await session.scalars(select(Unit).where(Unit.path.in_(above)).order_by(Unit.path))).all()
    keeper = next((unit for unit in units if unit.kind == SELF_MANAGED_KIND), None)
    if keeper is None or not units:
        return None
    head = next((unit for unit in units if unit.parent_id is None), units[0])
    earlier = (await session.scalars(select(UnitChange.name).where(UnitChange.unit_id == head.id))).all()
    return SectorDecisionsOnly(head.name, keeper.name, frozenset(_folded(name) for name in (head.name, *earlier)))
