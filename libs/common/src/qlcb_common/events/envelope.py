"""Builds and reads the protobuf Envelope every event travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import DecodeError, Message

from qlcb.events.v1.envelope_pb2 import Envelope

M = TypeVar("M", bound=Message)


def wrap(subject: str, payload: Message, *, actor: str, occurred_at: datetime) -> Envelope:
    packed = AnyMessage()
    packed.Pack(payload)
    envelope = Envelope(event_id=str(uuid.uuid4()), subject=subject, actor=actor, payload=packed)
    envelope.occurred_at.FromDatetime(occurred_at.astimezone(UTC))
    return envelope


class PoisonMessage(ValueError):
    """The bytes on the stream are not an Envelope we can read; retrying will not help."""


def parse(data: bytes) -> Envelope:
    envelope = Envelope()
    try:
        envelope.ParseFromString(data)
    except DecodeError as exc:
        raise PoisonMessage(f"not an Envelope: {exc}") from exc
    if not envelope.event_id:
        raise PoisonMessage("Envelope has no event_id")
    return envelope


def unpack(envelope: Envelope, message_type: type[M]) -> M:
    message = message_type()
    if not envelope.payload.Unpack(message):
        raise PoisonMessage(f"payload is {envelope.payload.TypeName()}, expected {message_type.DESCRIPTOR.full_name}")
    return message
