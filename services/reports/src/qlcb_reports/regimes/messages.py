"""Regimes and templates as their proto messages, and indicators from them."""

from __future__ import annotations

from collections.abc import Iterable

from qlcb.reports.v1 import regimes_pb2
from qlcb_reports.regimes.indicators import Indicator
from qlcb_reports.regimes.models import ReportRegime, TemplateVersion


def indicator_from_proto(message: regimes_pb2.Indicator) -> Indicator:
    return Indicator(
        code=message.code,
        label=message.label,
        kind=message.kind,
        unit=message.unit,
        required=message.required,
        min=message.min if message.HasField("min") else None,
        max=message.max if message.HasField("max") else None,
        integer=message.integer,
        max_length=message.max_length,
        columns=tuple(indicator_from_proto(c) for c in message.columns),
        max_rows=message.max_rows,
    )


def indicator_to_proto(indicator: Indicator) -> regimes_pb2.Indicator:
    message = regimes_pb2.Indicator(
        code=indicator.code,
        label=indicator.label,
        kind=indicator.kind,
        unit=indicator.unit,
        required=indicator.required,
        integer=indicator.integer,
        max_length=indicator.max_length,
        columns=[indicator_to_proto(c) for c in indicator.columns],
        max_rows=indicator.max_rows,
    )
    if indicator.min is not None:
        message.min = indicator.min
    if indicator.max is not None:
        message.max = indicator.max
    return message


def regime_to_proto(regime: ReportRegime, templates: Iterable[TemplateVersion]) -> regimes_pb2.Regime:
    return regimes_pb2.Regime(
        id=regime.id,
        code=regime.code,
        name=regime.name,
        kind=regime.kind,
        frequency=regime.frequency,
        legal_basis=regime.legal_basis,
        issuer_unit_id=regime.issuer_unit_id,
        unit_kinds=regime.unit_kinds,
        unit_levels=regime.unit_levels,
        cutoff_day=regime.cutoff_day,
        deadline_days=regime.deadline_days,
        deadline_counting=regime.deadline_counting,
        reminder_days=regime.reminder_days,
        opens_periods=regime.opens_periods,
        templates=[
            regimes_pb2.Template(
                version=t.version,
                outline=t.outline,
                indicators=[indicator_to_proto(Indicator.from_json(i)) for i in t.indicators],
                created_at=t.created_at.isoformat(),
                created_by=t.created_by,
            )
            for t in templates
        ],
        created_at=regime.created_at.isoformat(),
        created_by=regime.created_by,
    )
