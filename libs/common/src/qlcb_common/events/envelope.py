"""Builds and reads the protobuf Envelope every event travels in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

import uuid6
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import DecodeError, Message

from qlcb.events.v1.envelope_pb2 import Envelope
from qlcb_common.errors import FieldViolation

M = TypeVar("M", bound=Message)


def wrap(subject: str, payload: Message, *, actor: str, occurred_at: datetime) -> Envelope:
    """The event in its envelope, under a new time-ordered id (UUID version 7, ADR 0043): each consumer's
    inbox takes an event's id into its key where the ids of the events before it end, not anywhere in it."""
    packed = AnyMessage()
    packed.Pack(payload)
    envelope = Envelope(event_id=str(uuid6.uuid7()), subject=subject, actor=actor, payload=packed)
    envelope.occurred_at.FromDatetime(occurred_at.astimezone(UTC))
    return envelope


class PoisonMessage(ValueError):
    """A message no retry will ever apply: not an Envelope, or an event its producer's own API
    could not have produced. Each violation names the field; the consumer dead-letters it."""

    def __init__(self, violations: Sequence[FieldViolation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in self.violations))

    @classmethod
    def single(cls, field: str, description: str) -> PoisonMessage:
        return cls([FieldViolation(field, description)])


def parse(data: bytes) -> Envelope:
    envelope = Envelope()
    try:
        envelope.ParseFromString(data)
    except DecodeError as exc:
        raise PoisonMessage.single("envelope", f"not an Envelope: {exc}") from exc
    if not envelope.event_id:
        raise PoisonMessage.single("event_id", "missing")
    return envelope


def unpack(envelope: Envelope, message_type: type[M]) -> M:
    message = message_type()
    if not envelope.payload.Unpack(message):
        raise PoisonMessage.single(
            "payload", f"is {envelope.payload.TypeName()}, expected {message_type.DESCRIPTOR.full_name}"
        )
    return message
