"""Fault points: places in the event plumbing and the gRPC calls where a crash test holds a
service still.

Why they exist: delivery is decided in windows a few microseconds wide, between JetStream's
acknowledgement of a relay batch and the marking of its outbox rows, and between a consumer's
commit of an effect and its acknowledgement of the message; and what a stop does to a call depends
on one being in flight at that moment. A test cannot reach them by timing, so the code waits there
on request, and the test kills or stops the process while it waits
(`tests/integration/test_crash_windows.py`, `tests/integration/test_graceful_restart.py`). They
are off unless `QLCB_FAULT_POINTS_DIR` names a folder (`FaultPointSettings`), which only
`QLCB_ENVIRONMENT=development` allows.

The protocol, files in that folder:
- the test arms a point by creating `<point>.armed`;
- the first caller reaching the point takes it (a rename, so one caller only), writes what it
  holds (e.g. the batch's event ids) to `<point>.held` and waits while that file exists;
- the test reads `<point>.held`, kills the process, or releases it by deleting the file.
A point that is not armed costs one failed rename.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import structlog

from qlcb_common.settings import FaultPointSettings

log = structlog.get_logger(__name__)

RELAY_PUBLISHED: Final = "relay.published"
"""The relay's point: JetStream has acknowledged every row of the batch; none is marked yet."""

POLL_SECONDS: Final = 0.02


def consumer_committed(consumer: str) -> str:
    """A consumer's point: the effect and the inbox row are committed; the message is not acked."""
    return f"consumer.committed.{consumer}"


def grpc_call(method: str) -> str:
    """A gRPC service's point: a call of `method` (`CreatePerson`, or its full path) is authenticated
    and not yet handled, so it is in flight when the test stops or kills the process."""
    return f"grpc.call.{method.rsplit('/', 1)[-1]}"


class FaultPoints:
    """A service's fault points, in `directory`; without one they hold nowhere."""

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory

    @classmethod
    def from_settings(cls, settings: FaultPointSettings | None = None) -> FaultPoints:
        return cls((settings or FaultPointSettings()).fault_points_dir)

    async def hold(self, point: str, detail: Mapping[str, Any]) -> None:
        """Waits here while the test holds `point`, if it armed it; returns at once otherwise."""
        if self._directory is None:
            return
        taken = self._directory / f"{point}.taken"
        try:
            os.rename(self._directory / f"{point}.armed", taken)
        except FileNotFoundError:
            return
        taken.write_text(json.dumps(dict(detail)))
        held = self._directory / f"{point}.held"
        os.rename(taken, held)  # the test sees the detail whole or not at all
        log.warning("holding at a fault point", point=point, **detail)
        while held.exists():  # noqa: ASYNC110  (another process deletes it: no event to await)
            await asyncio.sleep(POLL_SECONDS)
        log.warning("released from a fault point", point=point)


NO_FAULT_POINTS: Final = FaultPoints(None)
"""The default of every relay and consumer: production never holds."""


def arm(directory: Path, point: str) -> None:
    """The test's side: the next caller reaching `point` will wait there."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{point}.armed").touch()


def held(directory: Path, point: str) -> dict[str, Any] | None:
    """What the caller waiting at `point` holds, or None while nobody waits there."""
    try:
        detail: dict[str, Any] = json.loads((directory / f"{point}.held").read_text())
    except FileNotFoundError:
        return None
    return detail


def release(directory: Path, point: str) -> None:
    """Lets the caller waiting at `point` go on; disarms it if nobody took it yet."""
    for suffix in ("held", "armed"):
        (directory / f"{point}.{suffix}").unlink(missing_ok=True)
