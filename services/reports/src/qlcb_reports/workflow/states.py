"""The report workflow as a table (R-REP-3, 004 Điều 7–8), without the database.

    not_started ─save→ draft ─submit→ submitted ─approve→ approved
                        ↑  ↖recall──────┘   │                │
                        │                 return            reopen (by the approver, until
                        └────save──── returned ←─────────────┘   the level above approves)

Who may take a step is one of two roles: the unit itself (its report: save, submit, recall), or the
level above it (approve, return, reopen). The conditions that need more than the state (the
deadline's lock, the children approved, the parent not yet approved) are checked by the service;
this table says which steps a state allows at all, so that a step from any other state is refused
naming the state it found."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    NOT_STARTED = "not_started"  # chưa gửi
    DRAFT = "draft"  # đang soạn
    SUBMITTED = "submitted"  # đã gửi
    RETURNED = "returned"  # bị trả lại
    APPROVED = "approved"  # đã duyệt


class Step(StrEnum):
    SAVE = "save"
    SUBMIT = "submit"
    RECALL = "recall"
    RETURN = "return"
    APPROVE = "approve"
    REOPEN = "reopen"


class Role(StrEnum):
    SENDER = "sender"  # the unit the report is assigned to
    APPROVER = "approver"  # the level above: the parent assignment's unit, or the issuer


@dataclass(frozen=True)
class Rule:
    sources: frozenset[State]
    target: State
    role: Role
    # The past tense the audit, the events and the message use.
    done: str
    needs_reason: bool = False


RULES: dict[Step, Rule] = {
    Step.SAVE: Rule(frozenset({State.NOT_STARTED, State.DRAFT, State.RETURNED}), State.DRAFT, Role.SENDER, "saved"),
    Step.SUBMIT: Rule(frozenset({State.DRAFT, State.RETURNED}), State.SUBMITTED, Role.SENDER, "submitted"),
    Step.RECALL: Rule(frozenset({State.SUBMITTED}), State.DRAFT, Role.SENDER, "recalled"),
    Step.RETURN: Rule(frozenset({State.SUBMITTED}), State.RETURNED, Role.APPROVER, "returned", needs_reason=True),
    Step.APPROVE: Rule(frozenset({State.SUBMITTED}), State.APPROVED, Role.APPROVER, "approved"),
    Step.REOPEN: Rule(frozenset({State.APPROVED}), State.RETURNED, Role.APPROVER, "reopened", needs_reason=True),
}

LABELS = {
    State.NOT_STARTED: "chưa gửi",
    State.DRAFT: "đang soạn",
    State.SUBMITTED: "đã gửi",
    State.RETURNED: "bị trả lại",
    State.APPROVED: "đã duyệt",
}
STEP_LABELS = {
    Step.SAVE: "lưu",
    Step.SUBMIT: "gửi",
    Step.RECALL: "thu hồi",
    Step.RETURN: "trả lại",
    Step.APPROVE: "duyệt",
    Step.REOPEN: "mở lại",
}
NOT_SENT = frozenset({State.NOT_STARTED, State.DRAFT, State.RETURNED})
"""What completeness counts as not sent, and what a reminder goes out for."""


class NotAllowed(Exception):
    """The step is not one the state allows; the message names both, in Vietnamese."""


def next_state(state: State, step: Step) -> State:
    """The state `step` leads to from `state`; NotAllowed when the state does not allow it."""
    rule = RULES[step]
    if state not in rule.sources:
        allowed = ", ".join(STEP_LABELS[s] for s, r in RULES.items() if state in r.sources) or "không thao tác nào"
        raise NotAllowed(
            f"Báo cáo đang ở trạng thái {LABELS[state]} ({state.value}): không thể {STEP_LABELS[step]}; "
            f"được phép: {allowed}"
        )
    return rule.target


def locked(*, deadline_passed: bool, exception_open: bool, correction_open: bool) -> bool:
    """Whether the sender is locked out: past the deadline, with neither a lock exception from the
    issuer nor a correction the approver asked for (a return) open."""
    return deadline_passed and not exception_open and not correction_open
