"""What the reports sign: a report at its submission (by the sending unit), a template version at
its publication (by the regime's issuing unit)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from qlcb_reports.headcount.models import UnitNode
from qlcb_reports.regimes.indicators import Indicator
from qlcb_reports.regimes.models import ReportRegime, TemplateVersion
from qlcb_reports.signing import documents, service
from qlcb_reports.signing.models import SignedDocument
from qlcb_reports.workflow.models import Assignment, ReportPeriod


def _heading(regime: ReportRegime, version: int) -> documents.Heading:
    return documents.Heading(regime.code, regime.name, regime.legal_basis, version)


@dataclass(frozen=True)
class Rendered:
    """A document laid out, not yet signed, with who is to sign it and why."""

    pdf: bytes
    unit_name: str
    reason: str


async def render_submission(
    session: AsyncSession, signing: service.Signing, assignment: Assignment, *, actor: str
) -> Rendered:
    """The report as submitted, at its current version, in its template's layout."""
    regime = await session.get(ReportRegime, assignment.regime_id)
    period = await session.get(ReportPeriod, assignment.period_id)
    template = await session.get(TemplateVersion, (assignment.regime_id, assignment.template_version))
    assert regime is not None
    assert period is not None
    assert template is not None
    unit = await session.get(UnitNode, assignment.unit_id)
    unit_name = unit.name if unit is not None else assignment.unit_name
    documents.register_fonts(signing.font_dir)
    pdf = documents.submission_pdf(
        _heading(regime, assignment.template_version),
        assignment_id=assignment.id,
        version=assignment.version,
        unit_name=unit_name,
        period_key=period.key,
        period_span=f"{period.starts_on:%d/%m/%Y} – {period.ends_on:%d/%m/%Y}",
        indicators=[Indicator.from_json(i) for i in template.indicators],
        asked=assignment.indicator_codes,
        values=assignment.values,
        submitted_at=assignment.submitted_at or period.opened_at,
        submitted_by=actor,
    )
    return Rendered(pdf, unit_name, f"Gửi báo cáo {regime.code} kỳ {period.key}")


async def sign_submission(
    session: AsyncSession, signing: service.Signing, assignment: Assignment, *, actor: str
) -> SignedDocument:
    """The report as submitted, at its version after the step, signed by its unit."""
    rendered = await render_submission(session, signing, assignment, actor=actor)
    return await service.sign_document(
        session,
        signing,
        kind=service.SUBMISSION,
        owner_id=assignment.id,
        version=assignment.version,
        unit_id=assignment.unit_id,
        unit_name=rendered.unit_name,
        pdf=rendered.pdf,
        actor=actor,
        reason=rendered.reason,
    )


async def sign_template(
    session: AsyncSession, signing: service.Signing, regime: ReportRegime, template: TemplateVersion, *, actor: str
) -> SignedDocument:
    issuer = await session.get(UnitNode, regime.issuer_unit_id)
    issuer_name = issuer.name if issuer is not None else regime.issuer_unit_id
    documents.register_fonts(signing.font_dir)
    pdf = documents.template_pdf(
        _heading(regime, template.version),
        regime_id=regime.id,
        issuer_name=issuer_name,
        outline=template.outline,
        indicators=[Indicator.from_json(i) for i in template.indicators],
    )
    return await service.sign_document(
        session,
        signing,
        kind=service.TEMPLATE,
        owner_id=regime.id,
        version=template.version,
        unit_id=regime.issuer_unit_id,
        unit_name=issuer_name,
        pdf=pdf,
        actor=actor,
        reason=f"Ban hành mẫu báo cáo {regime.code} phiên bản {template.version}",
    )
