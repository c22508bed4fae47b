"""The report workflow's table: which step each state allows, where it leads, who takes it, and
when the sender is locked out."""

from __future__ import annotations

import pytest

from qlcb_reports.workflow.states import RULES, NotAllowed, Role, State, Step, locked, next_state

ALLOWED = {
    (State.NOT_STARTED, Step.SAVE): State.DRAFT,
    (State.DRAFT, Step.SAVE): State.DRAFT,
    (State.RETURNED, Step.SAVE): State.DRAFT,
    (State.DRAFT, Step.SUBMIT): State.SUBMITTED,
    (State.RETURNED, Step.SUBMIT): State.SUBMITTED,
    (State.SUBMITTED, Step.RECALL): State.DRAFT,
    (State.SUBMITTED, Step.RETURN): State.RETURNED,
    (State.SUBMITTED, Step.APPROVE): State.APPROVED,
    (State.APPROVED, Step.REOPEN): State.RETURNED,
}


@pytest.mark.parametrize(("state", "step"), [(state, step) for state in State for step in Step])
def test_each_state_allows_exactly_its_steps(state: State, step: Step) -> None:
    if (state, step) in ALLOWED:
        assert next_state(state, step) is ALLOWED[(state, step)]
    else:
        with pytest.raises(NotAllowed, match=rf"\({state.value}\): không thể"):
            next_state(state, step)


def test_approved_data_is_locked_but_for_the_approvers_reopening() -> None:
    allowed = [step for step in Step if (State.APPROVED, step) in ALLOWED]
    assert allowed == [Step.REOPEN]
    assert RULES[Step.REOPEN].role is Role.APPROVER


def test_the_sender_writes_sends_and_recalls_the_level_above_approves_returns_and_reopens() -> None:
    assert {step for step, rule in RULES.items() if rule.role is Role.SENDER} == {Step.SAVE, Step.SUBMIT, Step.RECALL}
    assert {step for step, rule in RULES.items() if rule.role is Role.APPROVER} == {
        Step.APPROVE,
        Step.RETURN,
        Step.REOPEN,
    }
    assert {step for step, rule in RULES.items() if rule.needs_reason} == {Step.RETURN, Step.REOPEN}


def test_a_refusal_names_what_the_state_allows() -> None:
    with pytest.raises(NotAllowed) as refused:
        next_state(State.SUBMITTED, Step.SUBMIT)
    assert str(refused.value) == (
        "Báo cáo đang ở trạng thái đã gửi (submitted): không thể gửi; được phép: thu hồi, trả lại, duyệt"
    )


@pytest.mark.parametrize(
    ("passed", "exception", "correction", "expected"),
    [
        (False, False, False, False),
        (True, False, False, True),
        (True, True, False, False),
        (True, False, True, False),
    ],
)
def test_a_report_locks_after_its_deadline_unless_reopened_or_returned(
    passed: bool, exception: bool, correction: bool, expected: bool
) -> None:
    assert locked(deadline_passed=passed, exception_open=exception, correction_open=correction) is expected
