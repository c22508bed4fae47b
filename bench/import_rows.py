"""Bulk import at scale (issue 9, Performance: "Import of 50,000 rows: rows/s"): `rows` new people
generated as the demo generates them (`qlcb_devstack.demo.people`: Vietnamese names, birth dates,
sexes), imported through the gateway as a CSV of the persons template (`POST /v1/imports/persons`),
first as a dry run, then applied; then one evaluation per person (the evaluations template), dry run
then applied; then both files again, which must create nothing. Beside them, the raw floor: the same
rows written by asyncpg's COPY into the same tables (persons; record_entries) in a transaction rolled
back, without the checks, the audit trail, the search facts or the events an import writes too.

Each import is checked: every row created the first time, every row already present the second."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from qlcb_common import names
from qlcb_devstack import demo

KINDS = ("persons", "evaluations")
EVALUATION_YEAR = 2025
SEXES = {"male": "Nam", "female": "Nữ"}
PERSON_HEADER = ["Số định danh cá nhân", "Số hiệu cán bộ", "Họ và tên", "Ngày sinh", "Giới tính", "Mã đơn vị"]


@dataclass(frozen=True)
class Sizes:
    rows: int = 50_000

    def __post_init__(self) -> None:
        if self.rows < 1:
            raise ValueError("at least one row")


SMOKE = Sizes(rows=200)


@dataclass(frozen=True)
class Run:
    label: str
    rows: int
    seconds: float
    megabytes: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    runs: dict[str, Run]
    """persons/evaluations × dry/applied/again, and copy:persons, copy:evaluations."""


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def _people(count: int, unit_code: str) -> list[list[str]]:
    """The persons template's rows: the demo generator's people, with ids of this run's own."""
    tag = uuid.uuid4().int % 1000
    return [
        [
            f"9{tag:03d}{n:08d}",
            f"NK{tag:03d}{n:07d}",
            p.full_name,
            p.date_of_birth.isoformat(),
            "Nam" if p.sex == "male" else "Nữ",
            unit_code,
        ]
        for n, p in enumerate(demo.people(count, seed=tag))
    ]


async def _timed(
    api: httpx.AsyncClient, token: str, label: str, kind: str, content: bytes, *, dry_run: bool
) -> tuple[Run, dict[str, Any]]:
    started = time.perf_counter()
    answer = await api.post(
        f"/v1/imports/{kind}",
        params={"dry_run": str(dry_run).lower()},
        content=content,
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"},
    )
    seconds = time.perf_counter() - started
    if answer.status_code != 200:
        raise AssertionError(f"{label}: {answer.status_code} {answer.text[:500]}")
    report = answer.json()
    return Run(label, report["rows"], seconds, len(content) / 1e6), report


async def _copy_baseline(dsn: str, people: list[list[str]], unit_id: str) -> tuple[Run, Run]:
    """The same rows by COPY into persons and record_entries, then rolled back."""
    connection = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    try:
        transaction = connection.transaction()
        await transaction.start()
        ids = [str(uuid.uuid4()) for _ in people]
        persons = [
            (
                pid,
                "8" + row[0][1:],
                "C" + row[1],
                row[2],
                names.fold(row[2]),
                names.sort_key(row[2]),
                datetime.fromisoformat(row[3]).date(),
                "SEX_MALE" if row[4] == "Nam" else "SEX_FEMALE",
                unit_id,
                now,
                "bench-copy",
            )
            for pid, row in zip(ids, people, strict=True)
        ]
        started = time.perf_counter()
        await connection.copy_records_to_table(
            "persons",
            records=persons,
            columns=[
                *("id", "personal_id", "staff_number", "full_name", "name_folded", "name_sort"),
                *("date_of_birth", "sex", "unit_id", "created_at", "created_by"),
            ],
        )
        copied_people = Run("copy:persons", len(persons), time.perf_counter() - started, 0)
        day = datetime(EVALUATION_YEAR, 12, 20).date()
        values = json.dumps({"year": EVALUATION_YEAR, "level": "HTTNV"})
        entries = [
            (
                *(str(uuid.uuid4()), str(uuid.uuid4()), 1, pid, "evaluations", day, None, values, "1/QĐ-BENCH"),
                *(None, None, None, None, "recorded", None, None, now, "bench-copy", None, False),
            )
            for pid in ids
        ]
        started = time.perf_counter()
        await connection.copy_records_to_table(
            "record_entries",
            records=entries,
            columns=[
                *("id", "entry_id", "version", "person_id", "section", "valid_from", "valid_to", "values"),
                *("decision_number", "decision_date", "decision_body", "decision_signer", "decision_signer_post"),
                *("change", "decision_id", "closed_entry_id", "recorded_at", "recorded_by", "superseded_at"),
                "retracted",
            ],
        )
        copied_entries = Run("copy:evaluations", len(entries), time.perf_counter() - started, 0)
        await transaction.rollback()
    finally:
        await connection.close()
    return copied_people, copied_entries


async def measure(
    gateway_url: str, token: Callable[[], str], dsn: str, unit_id: str, unit_code: str, sizes: Sizes
) -> Result:
    people = _people(sizes.rows, unit_code)
    persons_file = _csv(
        [["Số định danh cá nhân", "Số hiệu cán bộ", "Họ và tên", "Ngày sinh", "Giới tính", "Mã đơn vị"], *people]
    )
    evaluations_file = _csv(
        [
            ["Số định danh cá nhân", "Ngày", "Số quyết định", "Năm đánh giá", "Mức xếp loại"],
            *([p[0], f"{EVALUATION_YEAR}-12-20", "1/QĐ-BENCH", str(EVALUATION_YEAR), "HTTNV"] for p in people),
        ]
    )
    runs: dict[str, Run] = {}
    async with httpx.AsyncClient(base_url=gateway_url, timeout=1800) as api:
        for kind, content in (("persons", persons_file), ("evaluations", evaluations_file)):
            for step, dry_run in (("dry", True), ("applied", False), ("again", False)):
                # A token of its own each time: one import of 50,000 rows outlasts a short-lived one.
                run, report = await _timed(api, token(), f"{kind}:{step}", kind, content, dry_run=dry_run)
                expected = (0, sizes.rows) if step == "again" else (sizes.rows, 0)
                if (report["created"], report["already_present"], report["rejected"]) != (*expected, 0):
                    raise AssertionError(f"{kind}:{step}: {json.dumps(report)[:500]}")
                runs[run.label] = run
    copied_people, copied_entries = await _copy_baseline(dsn, people, unit_id)
    runs[copied_people.label] = copied_people
    runs[copied_entries.label] = copied_entries
    return Result(sizes, runs)
