"""What a report's page shows and offers about the units around it (004 Điều 7.1.b, 8): the reports
of the units below it that it was handed down to, with their state; the form handing part of it down
to units below (which units, which indicators, by when); the consolidation of those approved into it;
and, for the unit that issued the regime, the lock exception that reopens one unit's late report.
Reports decides each step; these only build the forms and read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from qlcb_gateway.routes.report_regimes import IndicatorPublic
from qlcb_gateway.routes.report_workflow import AssignmentPublic
from qlcb_gateway.schemas import UnitPublic
from qlcb_gateway.web.entry_form import FormField, checked


@dataclass
class SubAssignForm:
    """The units below the report's unit not handed it yet, the indicators it holds, ticked as sent."""

    units: list[tuple[str, str]]
    indicators: list[tuple[str, str]]
    ticked_units: set[str] = field(default_factory=set)
    ticked_indicators: set[str] = field(default_factory=set)
    deadline: FormField = field(
        default_factory=lambda: FormField("deadline", "Hạn gửi (bỏ trống: như hạn của mình)", "date", False)
    )
    units_error: str = ""


def sub_assign_form(
    assignment: AssignmentPublic,
    units: list[UnitPublic],
    children: list[AssignmentPublic],
    indicators: list[IndicatorPublic],
) -> SubAssignForm:
    handed = {child.unit_id for child in children}
    below = sorted(
        (
            u
            for u in units
            if u.path.startswith(assignment.unit_path + "/") and u.dissolved_on is None and u.id not in handed
        ),
        key=lambda u: u.path.split("/"),
    )
    return SubAssignForm(
        units=[(u.id, f"{u.name} ({u.code})") for u in below],
        indicators=[(spec.code, spec.label) for spec in indicators],
    )


def read_sub_assign(form: SubAssignForm, sent: dict[str, str]) -> dict[str, object] | None:
    """The body reports takes, or None with the faults set on the form."""
    offered_units = {value for value, _label in form.units}
    offered_indicators = {value for value, _label in form.indicators}
    form.ticked_units = {key.split(".", 1)[1] for key in sent if key.startswith("unit.")} & offered_units
    form.ticked_indicators = {key.split(".", 1)[1] for key in sent if key.startswith("indicator.")} & offered_indicators
    given = checked([form.deadline], sent)
    if not form.ticked_units:
        form.units_error = "Chọn ít nhất một đơn vị"
    if given is None or form.units_error:
        return None
    deadline = given.get("deadline")
    return {
        "unit_ids": sorted(form.ticked_units),
        # All of them ticked is the same as none: every indicator the unit holds.
        "indicator_codes": [] if form.ticked_indicators == offered_indicators else sorted(form.ticked_indicators),
        "deadline": date.fromisoformat(deadline) if isinstance(deadline, str) else None,
    }


def lock_exception_fields() -> list[FormField]:
    return [
        FormField("until", "Mở khóa đến hết ngày", "date", required=True),
        FormField("reason", "Lý do mở khóa", "textarea", required=True, max_length=2000),
        FormField(
            "sent_otherwise_on",
            "Ngày đơn vị đã gửi bằng cách khác khi hệ thống gián đoạn (nếu có)",
            "date",
            required=False,
        ),
    ]
