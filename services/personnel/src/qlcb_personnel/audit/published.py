"""The head of the audit chain as the sealer last published it on the bus (`sealer`), read back to
check the chain against (`chain.verify`)."""

from __future__ import annotations

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


class PublishedHeads:
    """Reads the last published head from personnel's stream; until the service has connected to
    the bus (`attach`), and when the bus does not answer, there is none to read."""

    def __init__(self) -> None:
        self._js: JetStreamContext | None = None

    def attach(self, js: JetStreamContext) -> None:
        self._js = js

    async def latest(self) -> Published | None:
        if self._js is None:
            return None
        return await latest(self._js)


async def latest(js: JetStreamContext) -> Published | None:
    """The last head published; None when none was, or the bus does not answer, or what is there is
    not a head the sealer could have published (logged: someone else wrote on the subject)."""
    try:
        message = await js.get_last_msg(streams.PERSONNEL.name, subjects.PERSONNEL_AUDIT_SEALED)
    except NotFoundError:
        return None
    except (NatsError, TimeoutError) as exc:
        log.warning("the published audit head could not be read", error=repr(exc))
        return None
    try:
        envelope = accept(subjects.PERSONNEL_AUDIT_SEALED, message.data or b"", PERSONNEL_EVENTS)
    except PoisonMessage as refused:
        log.error("the published audit head is not one the sealer wrote", error=str(refused))
        return None
    head = unpack(envelope, events_pb2.AuditChainSealed)
    return Published(head.seq, head.hash)
