"""Who may do what on the event bus: each service publishes only on its own subjects and reads
only the streams it consumes (NATS user permissions). A forged event from anyone else is
refused by the server, before any consumer sees it.

The deployment (devstack's nats.conf, the Helm chart) renders these into the server's
configuration; each service connects as its own user with a password from a secret.
"""

from __future__ import annotations

from qlcb_common.events import streams
from qlcb_common.events.streams import Stream

OWN_STREAM: dict[str, Stream] = {
    "personnel": streams.PERSONNEL,
    "identity": streams.IDENTITY,
    "reports": streams.REPORTS,
    "backup": streams.BACKUP,
}
CONSUMES: dict[str, tuple[Stream, ...]] = {
    "personnel": (streams.IDENTITY,),
    "identity": (streams.PERSONNEL,),
    "reports": (streams.PERSONNEL, streams.IDENTITY),
    "backup": (),
}
BUS_USERS = tuple(OWN_STREAM)


def permissions(service: str) -> dict[str, dict[str, list[str]]]:
    """The NATS `permissions` block of one service's user."""
    own = OWN_STREAM[service]
    publish = [
        *own.subjects,
        "$JS.API.INFO",
        f"$JS.API.STREAM.INFO.{own.name}",
        f"$JS.API.STREAM.CREATE.{own.name}",
        f"$JS.API.STREAM.UPDATE.{own.name}",
    ]
    for stream in CONSUMES[service]:
        publish += [
            f"$JS.API.STREAM.INFO.{stream.name}",
            f"$JS.API.CONSUMER.CREATE.{stream.name}.>",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{stream.name}.>",
            f"$JS.API.CONSUMER.INFO.{stream.name}.>",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream.name}.>",
            f"$JS.ACK.{stream.name}.>",
        ]
    return {"publish": {"allow": publish}, "subscribe": {"allow": ["_INBOX.>"]}}
