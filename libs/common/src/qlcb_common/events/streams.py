"""Every JetStream stream of the system, declared here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

DUPLICATE_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Stream:
    name: str
    subjects: tuple[str, ...]

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=90 * 24 * 3600,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        )


PERSONNEL = Stream("QLCB_PERSONNEL", ("qlcb.personnel.>",))
IDENTITY = Stream("QLCB_IDENTITY", ("qlcb.identity.>",))
REPORTS = Stream("QLCB_REPORTS", ("qlcb.reports.>",))
BACKUP = Stream("QLCB_BACKUP", ("qlcb.backup.>",))
ALL_STREAMS = (PERSONNEL, IDENTITY, REPORTS, BACKUP)


async def ensure_streams(js: JetStreamContext, owned: Stream) -> None:
    """Creates the stream a service publishes to, or brings it to the declared configuration.
    Each service declares its own only: it may not touch the others' (events.permissions)."""
    for stream in (owned,):
        config = stream.config()
        try:
            await js.stream_info(stream.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
