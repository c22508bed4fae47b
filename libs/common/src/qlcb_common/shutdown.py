"""Stopping a service without cutting short what it has in hand.

On SIGTERM a service first stops being chosen (readiness and gRPC health turn false while it still
answers, until calls have stopped coming), then stops taking calls and lets those in
flight finish, and only then asks its workers to stop: relays, consumers and pollers, each a
`Worker` that checks `Stopping` between units of work, finishes the one in hand (a relay its batch,
a consumer the message it is handling, which it acknowledges) and returns. `Workers.stop` waits for
them within a grace period and cancels only those still running after it. `Calls` counts the calls
arriving and in flight, for the first two steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class Stopping:
    """Set once the process is asked to stop; long-running loops look at it between units of work."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()

    async def sleep(self, seconds: float) -> bool:
        """Sleeps `seconds`, or less if stopping is asked meanwhile; True when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        return self._event.is_set()

    async def wait_for(self, event: asyncio.Event, seconds: float) -> None:
        """Returns once `event` is set, stopping is asked or `seconds` have passed, whichever is first."""
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._event.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)


Worker = Callable[[Stopping], Coroutine[Any, Any, None]]
"""A long-running loop (relay, consumer, poller) that returns soon after `Stopping` is set."""


def describe(worker: Worker) -> str:
    """A worker's name for logs: its owner's `name` where it has one (a consumer), else its own."""
    owner = getattr(worker, "__self__", None)
    name = getattr(owner, "name", None)
    qualname = str(getattr(worker, "__qualname__", None) or repr(worker)).rsplit("<locals>.", 1)[-1]
    return f"{qualname}[{name}]" if isinstance(name, str) else qualname


class Workers:
    """The workers of one process, started together and stopped together."""

    def __init__(self, workers: Sequence[Worker]) -> None:
        self.stopping = Stopping()
        self._workers = list(workers)
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> list[asyncio.Task[None]]:
        self.tasks = [asyncio.create_task(worker(self.stopping), name=describe(worker)) for worker in self._workers]
        return self.tasks

    def failures(self) -> list[tuple[str, BaseException]]:
        """Workers that ended by raising, with what they raised."""
        return [
            (task.get_name(), task.exception())  # type: ignore[misc]
            for task in self.tasks
            if task.done() and not task.cancelled() and task.exception() is not None
        ]

    async def stop(self, grace: float) -> bool:
        """Asks every worker to stop, waits up to `grace` seconds for them to finish what they hold,
        then cancels those still running; True if none had to be."""
        self.stopping.set()
        running = [task for task in self.tasks if not task.done()]
        late: set[asyncio.Task[None]] = set()
        if running:
            _done, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                log.warning("worker still busy after the grace period; cancelled", worker=task.get_name(), grace=grace)
                task.cancel()
        results = await asyncio.gather(*self.tasks, return_exceptions=True)
        for task, result in zip(self.tasks, results, strict=True):
            if isinstance(result, Exception):
                log.error("worker failed", worker=task.get_name(), error=repr(result))
        return not late


class Calls:
    """The API calls a service is answering: when the last one arrived and how many are in flight,
    so that a replica leaving can tell when its balancers stopped sending and whether the calls it
    had finished."""

    def __init__(self) -> None:
        self._arrived = asyncio.Event()
        self._none_in_flight = asyncio.Event()
        self._none_in_flight.set()
        self.last = float("-inf")
        self.in_flight = 0

    def started(self) -> None:
        self.last = time.monotonic()
        self.in_flight += 1
        self._none_in_flight.clear()
        self._arrived.set()

    def finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._none_in_flight.set()

    async def quiet(self, *, for_seconds: float, at_most: float) -> bool:
        """Returns once no call has arrived for `for_seconds`, or after `at_most` seconds; True if quiet."""
        deadline = time.monotonic() + at_most
        while True:
            self._arrived.clear()
            quiet_until = self.last + for_seconds
            now = time.monotonic()
            if now >= quiet_until:
                return True
            if now >= deadline:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(quiet_until, deadline) - now)

    async def all_finished(self, timeout: float) -> bool:
        """Returns once no call is in flight, or after `timeout` seconds; True if none is."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._none_in_flight.wait(), timeout)
        return self.in_flight == 0
