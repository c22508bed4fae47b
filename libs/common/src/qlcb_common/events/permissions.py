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
    # Personnel's audit trail records the people's particulars reports gives out (ADR 0048).
    "personnel": (streams.IDENTITY, streams.REPORTS),
    # Identity relinks its accounts when backup switches a restored realm in (ADR 0029).
    "identity": (streams.PERSONNEL, streams.BACKUP),
    "reports": (streams.PERSONNEL, streams.IDENTITY),
    "backup": (),
}
BUS_USERS = tuple(OWN_STREAM)
RESTORE_SUBJECT_PREFIX = "qlcb_restore"
"""Backup restores the streams under copies whose subjects start with this token (ADR 0026)."""


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
    if service == "personnel":
        # What it published, read back: its audit chain is checked against the last head (ADR 0050).
        publish.append(f"$JS.API.STREAM.MSG.GET.{own.name}")
    for stream in CONSUMES[service]:
        publish += [
            f"$JS.API.STREAM.INFO.{stream.name}",
            # The message at a consumer's inbox mark, read to tell a stream made again that numbers
            # its messages otherwise (ADR 0056); the consumer may read every message anyway.
            f"$JS.API.STREAM.MSG.GET.{stream.name}",
            f"$JS.API.CONSUMER.CREATE.{stream.name}.>",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{stream.name}.>",
            f"$JS.API.CONSUMER.INFO.{stream.name}.>",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream.name}.>",
            f"$JS.ACK.{stream.name}.>",
        ]
    granted: dict[str, dict[str, list[str]]] = {"publish": {"allow": publish}, "subscribe": {"allow": ["_INBOX.>"]}}
    if service == "backup":
        granted["publish"] = _stream_backup(publish)
    return granted


def _stream_backup(publish: list[str]) -> dict[str, list[str]]:
    """Backup's part of the streams (ADR 0026): it reads every stream and its consumers, and creates
    streams and consumers for a restore. A stream name is one subject token, and NATS wildcards match
    whole tokens only, so the names of a restore's copies cannot be granted as a prefix: backup may
    create, read and delete any stream but the live ones (denied by name), and publish only under
    RESTORE_SUBJECT_PREFIX, so it can neither touch a live stream nor publish a service's event."""
    allow = [
        *publish,
        f"{RESTORE_SUBJECT_PREFIX}.>",
        "$JS.API.STREAM.INFO.*",
        "$JS.API.STREAM.CREATE.*",
        "$JS.API.STREAM.DELETE.*",
        "$JS.API.STREAM.MSG.GET.*",
        "$JS.API.CONSUMER.CREATE.*.>",
        "$JS.API.CONSUMER.LIST.*",
    ]
    deny = []
    for stream in streams.ALL_STREAMS:
        if stream != OWN_STREAM["backup"]:
            deny.append(f"$JS.API.STREAM.CREATE.{stream.name}")
        deny += [f"$JS.API.STREAM.DELETE.{stream.name}", f"$JS.API.CONSUMER.CREATE.{stream.name}.>"]
    return {"allow": list(dict.fromkeys(allow)), "deny": deny}
