"""The head of the audit chain as the sealer last published it on the bus (`sealer`), read back to
check the chain against (`chain.verify`)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from qlcb.personnel.v1 import events_pb2
from qlcb_common.events import streams, subjects
from qlcb_common.events.contracts import PERSONNEL_EVENTS, accept
from qlcb_common.events.envelope import PoisonMessage, unpack
from qlcb_personnel.audit.chain import Published

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Reading:
    """What was read back: the last head (None when none was published yet), or why nothing could be
    read, which leaves the chain to the database alone and is told as such."""

    head: Published | None
    unreadable: str | None = None


class PublishedHeads:
    """Reads the last published head from personnel's stream, once the service has connected to the
    bus (`attach`)."""

    def __init__(self) -> None:
        self._js: JetStreamContext | None = None

    def attach(self, js: JetStreamContext) -> None:
        self._js = js

    async def latest(self) -> Reading:
        if self._js is None:
            return Reading(None, "dịch vụ chưa kết nối kênh sự kiện")
        return await latest(self._js)


async def latest(js: JetStreamContext) -> Reading:
    """The last head published. Something on the subject that is not a head the sealer could have
    written (someone else wrote there) is unreadable, not "none published": it must not pass for a
    chain never published."""
    try:
        message = await js.get_last_msg(streams.PERSONNEL.name, subjects.PERSONNEL_AUDIT_SEALED)
    except NotFoundError:
        return Reading(None)
    except (NatsError, TimeoutError) as exc:
        log.warning("the published audit head could not be read", error=repr(exc))
        return Reading(None, f"không đọc được kênh sự kiện ({type(exc).__name__})")
    try:
        envelope = accept(subjects.PERSONNEL_AUDIT_SEALED, message.data or b"", PERSONNEL_EVENTS)
    except PoisonMessage as refused:
        log.error("the published audit head is not one the sealer wrote", error=str(refused))
        return Reading(None, f"mục cuối trên kênh sự kiện không phải đầu chuỗi do dịch vụ công bố: {refused}")
    head = unpack(envelope, events_pb2.AuditChainSealed)
    return Reading(Published(head.seq, head.hash))
