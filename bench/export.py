"""Exports at scale (issue 9, Performance): every person `record_read`'s loader generated, exported
through the gateway (`GET /v1/persons/export`) as CSV and as XLSX by the system admin, with the rows
per second the client received and the peak memory (resident set) of the gateway and of personnel
while each export ran; beside PostgreSQL's own `COPY (…) TO STDOUT` of the same rows in the same
order, the floor of any export.

Memory is sampled from /proc every few milliseconds during each export: the peak, and the rise
over what the process held just before it. That the rise stays flat however many rows is the
design's claim (rows streamed from a database cursor in chunks; CSV written as it arrives, XLSX a
row at a time to disk)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from openpyxl import load_workbook

from bench.record_read import Loaded
from qlcb_personnel.search.models import OPEN_END

KINDS = ("csv", "xlsx")
SAMPLE_SECONDS = 0.005
MEMORY_TARGET_MB = 200.0
"""The gateway's peak resident memory an export may reach, however many rows (issue 9)."""


@dataclass(frozen=True)
class Sizes:
    """Each format exported `rounds` times (the figures are their medians), every person loaded."""

    rounds: int = 3

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ValueError("at least one round")


SMOKE = Sizes(rounds=1)


@dataclass(frozen=True)
class Memory:
    before_mb: float
    peak_mb: float

    @property
    def rise_mb(self) -> float:
        return self.peak_mb - self.before_mb


@dataclass(frozen=True)
class Run:
    kind: str
    """csv, xlsx, or copy (the raw baseline)."""
    rows: int
    seconds: float
    megabytes: float
    gateway: Memory | None
    personnel: Memory | None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    loaded: Loaded
    runs: dict[str, list[Run]]
    """Each kind's rounds, in order."""
    load_average: tuple[float, float]

    def median(self, kind: str) -> Run:
        runs = sorted(self.runs[kind], key=lambda r: r.seconds)
        return runs[len(runs) // 2]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class _Peaks:
    """The resident memory of each process, sampled while the block runs."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self.before = {name: _rss_mb(pid) for name, pid in pids.items()}
        self.peak = dict(self.before)
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            for name, pid in self._pids.items():
                self.peak[name] = max(self.peak[name], _rss_mb(pid))
            await asyncio.sleep(SAMPLE_SECONDS)

    async def __aenter__(self) -> _Peaks:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for name, pid in self._pids.items():
            self.peak[name] = max(self.peak[name], _rss_mb(pid))

    def memory(self, name: str) -> Memory | None:
        return Memory(self.before[name], self.peak[name]) if name in self._pids else None


async def _through_gateway(api: httpx.AsyncClient, kind: str, pids: dict[str, int], folder: Path) -> Run:
    """One export, received whole: the CSV counted as it arrives, the XLSX saved, then read back."""
    path = folder / f"export.{kind}"
    received, newlines = 0, 0
    async with _Peaks(pids) as peaks:
        started = time.perf_counter()
        async with api.stream("GET", "/v1/persons/export", params={"format": kind}) as response:
            if response.status_code != 200:
                await response.aread()
                raise RuntimeError(f"export as {kind}: {response.status_code} {response.text[:300]}")
            with path.open("wb") as file:
                async for block in response.aiter_raw():
                    received += len(block)
                    newlines += block.count(b"\n")
                    file.write(block)
        seconds = time.perf_counter() - started
    rows = newlines - 1 if kind == "csv" else await asyncio.to_thread(_xlsx_rows, path)
    path.unlink()
    return Run(kind, rows, seconds, received / 1e6, peaks.memory("gateway"), peaks.memory("personnel"))


def _xlsx_rows(path: Path) -> int:
    """The rows of the sheet's table: those numbered in its first column (STT)."""
    book = load_workbook(path, read_only=True)
    try:
        sheet = book.active
        assert sheet is not None
        return sum(
            1 for (number,) in sheet.iter_rows(min_col=1, max_col=1, values_only=True) if isinstance(number, int)
        )
    finally:
        book.close()


_ROWS = (
    "SELECT p.full_name, p.date_of_birth, p.sex, p.personal_id, p.staff_number, u.name,"
    " coalesce(s.value, 'PERSON_STATUS_ACTIVE')"
    " FROM persons p JOIN units u ON u.id = p.unit_id"
    " LEFT JOIN search_facts s ON s.person_id = p.id AND s.fact = 'status' AND s.valid_to = $1"
    " ORDER BY p.name_sort, p.id"
)
"""The same rows in the same order (each person's unit named, and the status the record shows),
which `COPY (…) TO STDOUT WITH (FORMAT csv)` has PostgreSQL write as CSV itself."""


async def _copy(dsn: str, pids: dict[str, int]) -> Run:
    connection = await asyncpg.connect(dsn)
    received, newlines = 0, 0

    async def sink(block: bytes) -> None:
        nonlocal received, newlines
        received += len(block)
        newlines += block.count(b"\n")

    try:
        async with _Peaks(pids) as peaks:
            started = time.perf_counter()
            await connection.copy_from_query(_ROWS, OPEN_END, output=sink, format="csv")
            seconds = time.perf_counter() - started
    finally:
        await connection.close()
    return Run("copy", newlines, seconds, received / 1e6, peaks.memory("gateway"), peaks.memory("personnel"))


async def measure(
    gateway_url: str,
    token: Callable[[], str],
    dsn: str,
    loaded: Loaded,
    pids: dict[str, int],
    sizes: Sizes = Sizes(),
) -> Result:
    """Exports every person `loaded` put in personnel's database at `dsn`; `pids` are the gateway's
    and personnel's processes, whose memory is sampled."""
    runs: dict[str, list[Run]] = {kind: [] for kind in (*KINDS, "copy")}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="qlcb-bench-export-") as folder:
        for _ in range(sizes.rounds):
            runs["copy"].append(await _copy(dsn, pids))
            for kind in KINDS:
                async with httpx.AsyncClient(
                    base_url=gateway_url, timeout=600, headers={"Authorization": f"Bearer {token()}"}
                ) as api:
                    run = await _through_gateway(api, kind, pids, Path(folder))
                if run.rows != loaded.people:
                    raise RuntimeError(f"the {kind} export held {run.rows:,} rows of {loaded.people:,}")
                runs[kind].append(run)
                print(  # noqa: T201
                    f"[bench] export {kind}: {run.rows:,} rows in {run.seconds:.1f} s "
                    f"({run.rows_per_second:,.0f} rows/s), gateway peak "
                    f"{run.gateway.peak_mb if run.gateway else float('nan'):.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
            if runs["copy"][-1].rows != loaded.people:
                raise RuntimeError(f"COPY gave {runs['copy'][-1].rows:,} rows of {loaded.people:,}")
    return Result(sizes, loaded, runs, (load_before, os.getloadavg()[0]))


def spread(runs: list[Run]) -> str:
    """The rounds' rows/s, slowest and fastest, when there were several."""
    rates = [r.rows_per_second for r in runs]
    return "" if len(rates) < 2 else f" ({min(rates):,.0f}–{max(rates):,.0f})"
