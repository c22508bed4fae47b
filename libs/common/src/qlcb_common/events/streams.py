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
    max_age_days: int | None
    """How long a message is kept; None: for good, for a stream that other services' read-models
    (reports' statistics and headcount, the copies of units, holders and delegations) are rebuilt
    from, which a stream that forgets its oldest events would rebuild wrong."""

    def config(self, replicas: int = 1) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age_days * 24 * 3600 if self.max_age_days is not None else None,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            num_replicas=replicas,
        )


PERSONNEL = Stream("QLCB_PERSONNEL", ("qlcb.personnel.>",), max_age_days=None)
IDENTITY = Stream("QLCB_IDENTITY", ("qlcb.identity.>",), max_age_days=None)
REPORTS = Stream("QLCB_REPORTS", ("qlcb.reports.>",), max_age_days=90)
BACKUP = Stream("QLCB_BACKUP", ("qlcb.backup.>",), max_age_days=90)
ALL_STREAMS = (PERSONNEL, IDENTITY, REPORTS, BACKUP)


async def ensure_streams(js: JetStreamContext, owned: Stream, *, replicas: int = 1) -> None:
    """Creates the stream a service publishes to, or brings it to the declared configuration, kept
    on `replicas` servers of a cluster (its durable consumers follow the stream's). Each service
    declares its own only: it may not touch the others' (events.permissions)."""
    for stream in (owned,):
        config = stream.config(replicas)
        try:
            await js.stream_info(stream.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
