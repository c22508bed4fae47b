"""Report regimes and their template versions: created and versioned by their issuer (R-REP-2)."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_common import authz
from qlcb_common.auth import Principal
from qlcb_common.authz import Action, Delegation, Section
from qlcb_common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from qlcb_common.personnel_rules import UNIT_KINDS, short_text
from qlcb_common.text import control_violation
from qlcb_reports.headcount.models import UnitNode
from qlcb_reports.regimes import periods
from qlcb_reports.regimes.indicators import Indicator, check_template
from qlcb_reports.regimes.models import ReportRegime, TemplateVersion
from qlcb_reports.signing.service import Signing
from qlcb_reports.signing.signed_reports import sign_template

CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}", re.ASCII)
KINDS_OF_UNIT = frozenset(k.removeprefix("UNIT_KIND_").lower() for k in UNIT_KINDS)
MAX_LEVEL = 10
MAX_REMINDER_DAYS = 30
MAX_OUTLINE = 20_000


@dataclass(frozen=True)
class RegimeDraft:
    """What the issuer asks for, before it is checked."""

    code: str
    name: str
    kind: str
    frequency: str
    legal_basis: str
    issuer_unit_id: str
    unit_kinds: Sequence[str]
    unit_levels: Sequence[int]
    cutoff_day: int
    deadline_days: int
    deadline_counting: str
    reminder_days: int
    outline: str
    indicators: Sequence[Indicator]
    opens_periods: bool | None = None
    """None: a periodic regime's periods open by themselves, the others' do not."""


def _outline(value: str, found: list[FieldViolation]) -> str:
    if refused := control_violation("outline", value, multiline=True):
        found.append(refused)
        return value
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > MAX_OUTLINE:
        found.append(FieldViolation("outline", f"dài quá {MAX_OUTLINE} ký tự"))
    return text


def _rules(draft: RegimeDraft, found: list[FieldViolation]) -> None:
    if draft.kind not in periods.REGIME_KINDS:
        found.append(FieldViolation("kind", f"Loại chế độ báo cáo phải là một trong {list(periods.REGIME_KINDS)}"))
    if draft.kind == "periodic" and draft.frequency not in periods.FREQUENCIES:
        found.append(FieldViolation("frequency", f"Báo cáo định kỳ: tần suất là một trong {list(periods.FREQUENCIES)}"))
    elif draft.kind != "periodic" and (draft.frequency or draft.cutoff_day):
        field = "frequency" if draft.frequency else "cutoff_day"
        found.append(FieldViolation(field, "Chỉ báo cáo định kỳ mới có tần suất và ngày chốt số liệu"))
    for index, kind in enumerate(draft.unit_kinds):
        if kind not in KINDS_OF_UNIT:
            found.append(
                FieldViolation(f"unit_kinds[{index}]", f"Loại đơn vị phải là một trong {sorted(KINDS_OF_UNIT)}")
            )
    for index, level in enumerate(draft.unit_levels):
        if not 1 <= level <= MAX_LEVEL:
            found.append(FieldViolation(f"unit_levels[{index}]", f"Cấp đơn vị từ 1 (gốc) đến {MAX_LEVEL}"))
    if not 0 <= draft.cutoff_day <= periods.MAX_CUTOFF_DAY:
        found.append(FieldViolation("cutoff_day", f"Ngày chốt số liệu từ 1 đến {periods.MAX_CUTOFF_DAY}, 0: cuối kỳ"))
    if not 0 <= draft.deadline_days <= periods.MAX_DEADLINE_DAYS:
        found.append(FieldViolation("deadline_days", f"Từ 0 đến {periods.MAX_DEADLINE_DAYS} ngày"))
    if draft.deadline_counting not in periods.COUNTINGS:
        found.append(FieldViolation("deadline_counting", f"Phải là một trong {list(periods.COUNTINGS)}"))
    if not 0 <= draft.reminder_days <= MAX_REMINDER_DAYS:
        found.append(FieldViolation("reminder_days", f"Từ 0 đến {MAX_REMINDER_DAYS} ngày làm việc"))
    if draft.opens_periods and draft.kind != "periodic":
        found.append(FieldViolation("opens_periods", "Chỉ kỳ của báo cáo định kỳ mới tự mở"))


async def create_regime(
    session: AsyncSession, *, actor: Principal, delegations: Sequence[Delegation], signing: Signing, draft: RegimeDraft
) -> tuple[ReportRegime, list[TemplateVersion]]:
    """Creates the regime with its first template version, signed by the issuing unit."""
    found: list[FieldViolation] = []
    if not CODE.fullmatch(draft.code):
        found.append(FieldViolation("code", "Mã chế độ báo cáo: 1–32 ký tự A–Z, 0–9, '-', '_'"))
    name = short_text(draft.name, "name", 255, found, required=True)
    legal_basis = short_text(draft.legal_basis, "legal_basis", 1000, found, required=True)
    _rules(draft, found)
    outline = _outline(draft.outline, found)
    issuer = await session.get(UnitNode, draft.issuer_unit_id) if draft.issuer_unit_id else None
    if issuer is None or issuer.dissolved_on is not None:
        found.append(FieldViolation("issuer_unit_id", "Không có đơn vị này (hoặc đã giải thể)"))
    try:
        indicators = check_template(draft.indicators)
    except InvalidArgument as refused:
        found += refused.violations
    if found or issuer is None or name is None or legal_basis is None:
        raise InvalidArgument(found)
    authz.require(actor, Section.REPORT_REGIMES, Action.CREATE, issuer.path, delegations=delegations)
    if await session.scalar(select(ReportRegime.id).where(ReportRegime.code == draft.code)):
        raise AlreadyExists(f"Mã chế độ báo cáo {draft.code} đã có")
    now = datetime.now(UTC)
    regime = ReportRegime(
        id=str(uuid.uuid4()),
        code=draft.code,
        name=name,
        kind=draft.kind,
        frequency=draft.frequency,
        legal_basis=legal_basis,
        issuer_unit_id=issuer.unit_id,
        unit_kinds=sorted(set(draft.unit_kinds)),
        unit_levels=sorted(set(draft.unit_levels)),
        cutoff_day=draft.cutoff_day,
        deadline_days=draft.deadline_days,
        deadline_counting=draft.deadline_counting,
        reminder_days=draft.reminder_days,
        opens_periods=draft.kind == "periodic" if draft.opens_periods is None else draft.opens_periods,
        current_version=1,
        created_at=now,
        created_by=actor.username,
    )
    template = TemplateVersion(
        regime_id=regime.id,
        version=1,
        outline=outline,
        indicators=[i.as_json() for i in indicators],
        created_at=now,
        created_by=actor.username,
    )
    session.add(regime)
    await session.flush()
    session.add(template)
    await sign_template(session, signing, regime, template, actor=actor.username)
    return regime, [template]


async def add_template_version(
    session: AsyncSession,
    *,
    actor: Principal,
    delegations: Sequence[Delegation],
    signing: Signing,
    regime_id: str,
    outline: str,
    indicators: Sequence[Indicator],
) -> tuple[ReportRegime, list[TemplateVersion]]:
    regime = await regime_for(session, actor, regime_id, for_update=True)
    issuer = await issuer_of(session, regime)
    authz.require(actor, Section.REPORT_REGIMES, Action.UPDATE, issuer.path, delegations=delegations)
    found: list[FieldViolation] = []
    text = _outline(outline, found)
    try:
        checked = check_template(indicators)
    except InvalidArgument as refused:
        found += refused.violations
    if found:
        raise InvalidArgument(found)
    regime.current_version += 1
    added = TemplateVersion(
        regime_id=regime.id,
        version=regime.current_version,
        outline=text,
        indicators=[i.as_json() for i in checked],
        created_at=datetime.now(UTC),
        created_by=actor.username,
    )
    session.add(added)
    await session.flush()
    await sign_template(session, signing, regime, added, actor=actor.username)
    return regime, await templates(session, regime.id)


async def issuer_of(session: AsyncSession, regime: ReportRegime) -> UnitNode:
    """The issuing unit as the tree stands now (it may have moved or been renamed since)."""
    issuer = await session.get(UnitNode, regime.issuer_unit_id)
    if issuer is None:
        raise NotFound(f"Không có đơn vị ban hành của chế độ báo cáo {regime.code}")
    return issuer


def _may_read(actor: Principal) -> None:
    if not authz.may_at_all(actor, Section.REPORT_REGIMES, Action.READ):
        raise PermissionDenied("Không có quyền xem chế độ báo cáo")


async def regime_for(
    session: AsyncSession, actor: Principal, regime_id: str, *, for_update: bool = False
) -> ReportRegime:
    _may_read(actor)
    query = select(ReportRegime).where(ReportRegime.id == regime_id)
    found = (await session.scalars(query.with_for_update() if for_update else query)).first()
    if found is None:
        raise NotFound(f"Không có chế độ báo cáo {regime_id!r}")
    return found


async def templates(session: AsyncSession, regime_id: str) -> list[TemplateVersion]:
    found = await session.scalars(
        select(TemplateVersion).where(TemplateVersion.regime_id == regime_id).order_by(TemplateVersion.version)
    )
    return list(found)


async def get_regime(
    session: AsyncSession, *, actor: Principal, regime_id: str
) -> tuple[ReportRegime, list[TemplateVersion]]:
    regime = await regime_for(session, actor, regime_id)
    return regime, await templates(session, regime.id)


async def list_regimes(session: AsyncSession, *, actor: Principal) -> list[tuple[ReportRegime, list[TemplateVersion]]]:
    """Every regime with its current template only, newest first."""
    _may_read(actor)
    regimes = list(await session.scalars(select(ReportRegime).order_by(ReportRegime.created_at.desc())))
    current = {
        (t.regime_id, t.version): t
        for t in await session.scalars(
            select(TemplateVersion).join(
                ReportRegime,
                (ReportRegime.id == TemplateVersion.regime_id)
                & (ReportRegime.current_version == TemplateVersion.version),
            )
        )
    }
    return [(r, [current[(r.id, r.current_version)]]) for r in regimes]


async def template(session: AsyncSession, regime_id: str, version: int) -> tuple[TemplateVersion, list[Indicator]]:
    found = await session.get(TemplateVersion, (regime_id, version))
    if found is None:
        raise NotFound(f"Không có mẫu báo cáo phiên bản {version}")
    return found, [Indicator.from_json(i) for i in found.indicators]
