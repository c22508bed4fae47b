"""The report workflow at the scale of the sector (issue 11, Performance): a unit tree of a root,
`cuc` Cục-level units, `chi_cuc` Chi cục under them and two teams under each Chi cục is loaded into
a scratch database of reports' schema (as reports' projection of personnel's events holds it).

- Fan-out: a monthly regime concerning the Chi cục level (`chi_cuc` units, 1,000 by default) opens
  `periods` periods through reports' own `open_period` (the assignments with their approvers, the
  period, its event in the outbox, one transaction each), beside a raw baseline writing the same
  rows by hand (one INSERT … SELECT over the units, one UPDATE naming each row's parent).
- Completeness: a regime concerning every unit below the root (the whole sector) has its period's
  reports put in every state, then reports' `completeness` (the counts and the overdue list, the
  caller's scope in the query) runs beside the same counts by one raw SQL query.

- Signing: `submissions` reports of one open period are saved, then submitted through reports' own
  `transition` (the checks, the PDF in the template's layout, the unit's PAdES signature, the signed
  document stored, the audit and the event: one transaction each), beside pyHanko signing the same
  PDF bare with the same key (the unit's key is issued before either is timed).

The run checks itself: each fan-out made one assignment per unit concerned, the raw one as many;
and both completeness answers count the same."""

from __future__ import annotations

import secrets
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
from sqlalchemy import func, select

from qlcb_common.auth import Principal
from qlcb_common.db import Database
from qlcb_common.working_days import WorkingCalendar
from qlcb_reports import app as _app  # noqa: F401  (registers every table of reports' store)
from qlcb_reports.db_models import Base, make_outbox
from qlcb_reports.headcount.models import UnitNode
from qlcb_reports.regimes.models import ReportRegime, TemplateVersion
from qlcb_reports.settings import ReportsSettings
from qlcb_reports.signing import pades
from qlcb_reports.signing import service as signing_service
from qlcb_reports.signing.authority import KeySealer
from qlcb_reports.signing.models import SignedDocument
from qlcb_reports.signing.signed_reports import render_submission
from qlcb_reports.workflow import completeness, service
from qlcb_reports.workflow.models import Assignment


@dataclass(frozen=True)
class Sizes:
    cuc: int = 40
    chi_cuc: int = 1000
    periods: int = 6
    completeness_rounds: int = 20
    submissions: int = 100

    def __post_init__(self) -> None:
        if self.chi_cuc < self.cuc or self.periods > 12:
            raise ValueError("at least one Chi cục per Cục, at most 12 monthly periods")

    @property
    def units(self) -> int:
        return 1 + self.cuc + self.chi_cuc * 3


SMOKE = Sizes(cuc=2, chi_cuc=10, periods=2, completeness_rounds=3, submissions=3)


@dataclass(frozen=True)
class Result:
    sizes: Sizes
    fan_out_ours_s: float
    """Median seconds of one period's fan-out through `open_period`."""
    fan_out_raw_s: float
    completeness_ours_ms: float
    """Median milliseconds of the whole sector's completeness through `completeness`."""
    completeness_raw_ms: float
    submit_p50_ms: float
    """Submission with signing through `transition`."""
    submit_p95_ms: float
    bare_p50_ms: float
    """pyHanko signing the same PDF, nothing else."""
    bare_p95_ms: float
    checked: dict[str, int]

    @property
    def signing_ratio(self) -> float:
        return self.submit_p50_ms / self.bare_p50_ms

    @property
    def fan_out_ratio(self) -> float:
        return self.fan_out_ours_s / self.fan_out_raw_s

    @property
    def completeness_ratio(self) -> float:
        return self.completeness_ours_ms / self.completeness_raw_ms


def _tree(sizes: Sizes) -> list[tuple[str, str | None, str, str, str]]:
    """(id, parent id, path, name, kind) of every unit, parents first."""
    root = str(uuid.uuid4())
    rows: list[tuple[str, str | None, str, str, str]] = [
        (root, None, "/TCHQ", "Tổng cục Hải quan", "general_department")
    ]
    cucs = []
    for n in range(sizes.cuc):
        unit = (str(uuid.uuid4()), root, f"/TCHQ/HQ{n:03d}", f"Cục Hải quan {n}", "provincial_department")
        cucs.append(unit)
        rows.append(unit)
    for n in range(sizes.chi_cuc):
        cuc = cucs[n % sizes.cuc]
        chi_cuc = (str(uuid.uuid4()), cuc[0], f"{cuc[2]}/CC{n:04d}", f"Chi cục Hải quan {n}", "sub_unit")
        rows.append(chi_cuc)
        for team in (1, 2):
            rows.append((str(uuid.uuid4()), chi_cuc[0], f"{chi_cuc[2]}/D{team}", f"Đội {team}", "sub_unit"))
    return rows


def _regime(issuer: str, levels: list[int]) -> tuple[ReportRegime, TemplateVersion]:
    now = datetime.now(UTC)
    regime = ReportRegime(
        id=str(uuid.uuid4()),
        code=f"BENCH-{uuid.uuid4().hex[:8].upper()}",
        name="Báo cáo số lượng cán bộ",
        kind="periodic",
        frequency="month",
        legal_basis="Thông tư 11/2012/TT-BNV",
        issuer_unit_id=issuer,
        unit_kinds=[],
        unit_levels=levels,
        cutoff_day=0,
        deadline_days=5,
        deadline_counting="working_days",
        reminder_days=0,
        opens_periods=False,  # the benchmark opens its periods itself, and times it
        current_version=1,
        created_at=now,
        created_by="bench",
    )
    template = TemplateVersion(
        regime_id=regime.id,
        version=1,
        outline="",
        indicators=[{"code": "so_luong", "label": "Số lượng", "kind": "number", "integer": True}],
        created_at=now,
        created_by="bench",
    )
    return regime, template


_RAW_FAN_OUT = """
INSERT INTO report_assignments (id, period_id, regime_id, unit_id, unit_path, unit_name, parent_id,
    approver_unit_id, approver_path, state, deadline, template_version, indicator_codes, "values", version,
    correction_open)
SELECT gen_random_uuid()::text, $1, $2, unit_id, path, name, NULL, $3, '/TCHQ', 'not_started', $4, 1, '[]', '{}',
    1, false
FROM unit_nodes
WHERE path LIKE '/TCHQ/%' AND dissolved_on IS NULL AND array_length(string_to_array(path, '/'), 1) - 1 = $5
"""

_RAW_COUNTS = """
SELECT count(*), count(*) FILTER (WHERE state IN ('submitted', 'approved')),
    count(*) FILTER (WHERE state IN ('submitted', 'approved') AND on_time),
    count(*) FILTER (WHERE state = 'approved')
FROM report_assignments WHERE period_id = $1 AND (unit_path = '/TCHQ' OR unit_path LIKE '/TCHQ/%')
"""


async def measure(database_url: str, dsn: str, sizes: Sizes = Sizes()) -> Result:
    """`database_url` (SQLAlchemy, asyncpg) and `dsn` (asyncpg) name one empty scratch database."""
    db = Database(database_url)
    connection = await asyncpg.connect(dsn)
    outbox = make_outbox()
    caller = service.Caller(
        actor=Principal(
            subject=str(uuid.uuid4()),
            username="quantri",
            roles=frozenset({"system-admin"}),
            unit_path="/TCHQ",
            token="",
        ),
        delegations=(),
        outbox=outbox,
        working=WorkingCalendar(),
        signing=signing_service.Signing(
            sealer=KeySealer(secrets.token_urlsafe(32)),
            authority_name="QLCB bench",
            root_days=3650,
            unit_days=730,
            font_dir=ReportsSettings.model_fields["font_dir"].default,
        ),
    )
    try:
        await db.create_schema(Base.metadata)
        tree = _tree(sizes)
        await connection.copy_records_to_table(
            UnitNode.__tablename__,
            records=[(*row, None) for row in tree],
            columns=("unit_id", "parent_id", "path", "name", "kind", "dissolved_on"),
        )
        await connection.execute(f"VACUUM (ANALYZE) {UnitNode.__tablename__}")
        root = tree[0][0]
        chi_cuc_level, sector = _regime(root, [3]), _regime(root, [])
        async with db.unit_of_work() as session:
            for regime, template in (chi_cuc_level, sector):
                session.add(regime)
                await session.flush()
                session.add(template)

        ours: list[float] = []
        for month in range(1, sizes.periods + 1):
            began = time.perf_counter()
            async with db.unit_of_work() as session:
                _, made = await service.open_period(
                    session, caller=caller, regime_id=chi_cuc_level[0].id, period=f"2026-{month:02d}"
                )
            ours.append(time.perf_counter() - began)
            if made != sizes.chi_cuc:
                raise RuntimeError(f"a period of the Chi cục level assigned {made} units, not {sizes.chi_cuc}")
        raw: list[float] = []
        open_periods: list[str] = []
        for month in range(1, sizes.periods + 1):
            period_id = str(uuid.uuid4())
            open_periods.append(period_id)
            began = time.perf_counter()
            async with connection.transaction():
                await connection.execute(
                    "INSERT INTO report_periods (id, regime_id, key, starts_on, ends_on, deadline, template_version,"
                    " opened_at, opened_by) VALUES ($1, $2, $3, $4, $4, $4, 1, now(), 'raw')",
                    period_id,
                    chi_cuc_level[0].id,
                    f"2027-{month:02d}",
                    date(2027, month, 28),
                )
                status = await connection.execute(
                    _RAW_FAN_OUT, period_id, chi_cuc_level[0].id, root, date(2027, month, 28), 3
                )
                await connection.execute(
                    "UPDATE report_assignments a SET parent_id = p.id FROM report_assignments p, unit_nodes u"
                    " WHERE a.period_id = $1 AND p.period_id = $1 AND u.unit_id = a.unit_id"
                    " AND p.unit_id = u.parent_id",
                    period_id,
                )
            raw.append(time.perf_counter() - began)
            if status != f"INSERT 0 {sizes.chi_cuc}":
                raise RuntimeError(f"the raw fan-out answered {status!r}")

        submit_ms, bare_ms = await _signing(db, caller, open_periods[0], sizes.submissions)
        async with db.unit_of_work() as session:
            signed = await session.scalar(select(func.count()).select_from(SignedDocument))
        if signed != sizes.submissions:
            raise RuntimeError(f"{sizes.submissions} submissions stored {signed} signed documents")
        async with db.unit_of_work() as session:
            whole, made = await service.open_period(session, caller=caller, regime_id=sector[0].id, period="2026-01")
        if made != sizes.units - 1:
            raise RuntimeError(f"the sector's period assigned {made} units, not {sizes.units - 1}")
        # A period as it stands some days after its deadline: a third approved, a third sent (most
        # on time), the rest not sent.
        await connection.execute(
            "UPDATE report_assignments SET state = CASE WHEN abs(hashtext(id)) % 3 = 0 THEN 'approved'"
            " WHEN abs(hashtext(id)) % 3 = 1 THEN 'submitted' ELSE 'draft' END,"
            " on_time = abs(hashtext(id)) % 5 <> 0 WHERE period_id = $1",
            whole.id,
        )
        await connection.execute(f"VACUUM (ANALYZE) {Assignment.__tablename__}")
        ours_ms: list[float] = []
        counted: tuple[int, ...] = ()
        for _ in range(sizes.completeness_rounds):
            began = time.perf_counter()
            async with db.unit_of_work() as session:
                _, _, figures, overdue = await completeness.completeness(
                    session, caller=caller, period_id=whole.id, unit_id=root
                )
            ours_ms.append((time.perf_counter() - began) * 1000)
            counted = (figures.expected, figures.submitted, figures.on_time, figures.approved)
        raw_ms: list[float] = []
        raw_counted: tuple[int, ...] = ()
        for _ in range(sizes.completeness_rounds):
            began = time.perf_counter()
            row = await connection.fetchrow(_RAW_COUNTS, whole.id)
            raw_ms.append((time.perf_counter() - began) * 1000)
            raw_counted = tuple(int(n) for n in row.values()) if row is not None else ()
        if counted != raw_counted or counted[0] != sizes.units - 1:
            raise RuntimeError(f"completeness counted {counted}, the raw query {raw_counted}")
    finally:
        await connection.close()
        await db.dispose()
    return Result(
        sizes=sizes,
        fan_out_ours_s=statistics.median(ours),
        fan_out_raw_s=statistics.median(raw),
        completeness_ours_ms=statistics.median(ours_ms),
        completeness_raw_ms=statistics.median(raw_ms),
        submit_p50_ms=statistics.median(submit_ms),
        submit_p95_ms=_p95(submit_ms),
        bare_p50_ms=statistics.median(bare_ms),
        bare_p95_ms=_p95(bare_ms),
        checked={"assigned": sizes.chi_cuc, "sector": counted[0], "overdue": len(overdue), "signed": sizes.submissions},
    )


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def _signing(db: Database, caller: service.Caller, period_id: str, count: int) -> tuple[list[float], list[float]]:
    """Milliseconds of each submission with its signing, and of pyHanko signing the same PDF bare."""
    async with db.unit_of_work() as session:
        ids = list(
            await session.scalars(
                select(Assignment.id)
                .where(Assignment.period_id == period_id)
                .order_by(Assignment.unit_path)
                .limit(count)
            )
        )
    ours: list[float] = []
    bare: list[float] = []
    for assignment_id in ids:
        async with db.unit_of_work() as session:
            saved = await service.save_draft(
                session, caller=caller, assignment_id=assignment_id, values_json='{"so_luong": 12}', expected_version=0
            )
            await signing_service.unit_key(
                session, caller.signing, unit_id=saved.unit_id, unit_name=saved.unit_name, actor="bench"
            )
        began = time.perf_counter()
        async with db.unit_of_work() as session:
            await service.transition(
                session, caller=caller, assignment_id=assignment_id, action="submit", reason="", expected_version=0
            )
        ours.append((time.perf_counter() - began) * 1000)
        async with db.unit_of_work() as session:
            sent = await session.get(Assignment, assignment_id)
            assert sent is not None
            rendered = await render_submission(session, caller.signing, sent, actor="bench")
            _, key = await signing_service.unit_key(
                session, caller.signing, unit_id=sent.unit_id, unit_name=rendered.unit_name, actor="bench"
            )
            made_root, _ = await signing_service.root(session, caller.signing)
        began = time.perf_counter()
        await pades.sign(
            rendered.pdf,
            key=key.key,
            certificate=key.certificate,
            root=made_root.certificate,
            reason=rendered.reason,
            signer_name=rendered.unit_name,
        )
        bare.append((time.perf_counter() - began) * 1000)
    return ours, bare
