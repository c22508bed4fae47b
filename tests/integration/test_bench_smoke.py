"""Benchmarks stay honest (issue 17, point 5): `make bench` takes minutes and is not run here, so
each benchmark runs at its smoke sizes (`bench.run.SMOKE`, `python -m bench --smoke`) against the
real servers the suite starts. Each test shows what a user of the benchmark would notice: it ran,
it produced the rows docs/benchmarks.md is written from (our path beside its raw baseline, each
ratio a finite positive number, as many samples as asked for), and its own checks of what it
measured ran and passed. No timing is asserted: docs/benchmarks.md says which figures no test
enforces (all of them).

The whole-record benchmark loads the demo's own units and people straight into personnel's
database, which must be empty; it gets the smallest stack of its own: a personnel service and a
gateway on an empty database of the suite's PostgreSQL and a NATS of their own (so none of the
suite's consumers hears of its writes), with the suite's Keycloak."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import (
    audit_chain,
    event_latency,
    export,
    grpc_call,
    import_rows,
    issuance,
    record_read,
    relay,
    report,
    report_workflow,
    resume,
    run,
    search,
    statistics,
    token_verify,
    web_pages,
)
from qlcb_common.days import vietnam_today
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.ports import StackPorts
from qlcb_devstack.stack import ServiceStack
from qlcb_devstack.state import repo_root
from tests.support import System, unique_code

pytestmark = pytest.mark.integration

SIZES = run.SMOKE
ADMIN = "quantri"
RECORD_STACK = ("personnel", "gateway")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _table(lines: list[str], first_column: str) -> list[dict[str, str]]:
    """The rows of the markdown table whose header starts with `first_column`, by column name."""
    header = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_column} |"))
    names = [cell.strip() for cell in lines[header].strip("|").split("|")]
    assert set(lines[header + 1].replace("|", "")) == {"-"}, "a header row, then the separator"
    rows = []
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == len(names), line
        rows.append(dict(zip(names, cells, strict=True)))
    assert rows, f"the table under {lines[header]!r} has rows"
    return rows


def _figures(cell: str) -> list[float]:
    """The numbers a cell shows, e.g. "8.61 / 12.41" or "1.08 (0.91–1.23)"; each must be finite."""
    assert not re.search(r"\b(nan|inf)\b", cell), cell
    return [float(number.replace(",", "")) for number in _NUMBER.findall(cell)]


def _shown(cell: str) -> float:
    """The one figure a cell leads with, which must be a finite number ≥ 0."""
    figures = _figures(cell)
    assert figures, f"a number in {cell!r}"
    assert math.isfinite(figures[0]), cell
    assert figures[0] >= 0, cell
    return figures[0]


def _ratio(ours: float, baseline: float) -> float:
    ratio = ours / baseline
    assert math.isfinite(ratio), f"{ours} / {baseline}"
    assert ratio > 0, f"{ours} / {baseline}"
    return ratio


# The benchmarks, each run once at its smoke sizes on the suite's stack.


@pytest.fixture(scope="module")
async def verified(system: System) -> token_verify.Result:
    return await token_verify.measure(system.infra.issuer, system.token(ADMIN), SIZES.token_verify)


@pytest.fixture(scope="module")
async def calls(system: System) -> grpc_call.Result:
    return await grpc_call.measure(system.infra.issuer, system.token(ADMIN), SIZES.grpc_call)


@pytest.fixture(scope="module")
async def relayed(system: System) -> relay.Result:
    return await run.outbox_relay(system.infra, unique_code("bench_outbox_").lower(), SIZES.relay)


@pytest.fixture(scope="module")
async def chained(system: System) -> audit_chain.Result:
    return await run.audit_chain_verification(system.infra, unique_code("bench_audit_").lower(), SIZES.audit_chain)


@pytest.fixture(scope="module")
async def reported(system: System) -> report_workflow.Result:
    return await run.report_workflow_at_scale(
        system.infra, unique_code("bench_reports_").lower(), SIZES.report_workflow
    )


@pytest.fixture(scope="module")
async def counted(system: System) -> statistics.Result:
    return await run.statistics_at_scale(system.infra, unique_code("bench_statistics_").lower(), SIZES.statistics)


@pytest.fixture(scope="module")
async def bench_unit(system: System) -> tuple[str, str]:
    """A unit of the benchmarks' own, as `make bench` makes it but below the suite's root: its
    path and id."""
    code = unique_code("BENCH")
    return f"/TCHQ/{code}", await run.bench_unit(system.gateway_url, system.token(ADMIN), code, system.root_unit_id)


@pytest.fixture(scope="module")
async def issued(system: System, bench_unit: tuple[str, str]) -> issuance.Result:
    path, _ = bench_unit
    return await run.account_issuance(system.infra, system.services, path, system.token(ADMIN), SIZES.issuance)


@pytest.fixture(scope="module")
async def lag(system: System, bench_unit: tuple[str, str]) -> dict[str, event_latency.Phase]:
    _, unit_id = bench_unit
    return await run.event_lag(system.services, system.token(ADMIN), unit_id, SIZES.event_latency)


@pytest.fixture(scope="module", autouse=True)
def record_stack(system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    """Personnel and the gateway on an empty database of the suite's PostgreSQL and a NATS of their
    own, with the suite's Keycloak (the same realm: the system admin's token is good there). They
    start with the module and boot while the other benchmarks run."""
    run_dir = tmp_path_factory.mktemp("bench-record")
    postgres = system.infra.postgres
    assert postgres is not None, "the suite runs on PostgreSQL"
    database = unique_code("bench_personnel_").lower()
    bus = NatsServer(run_dir / "nats")
    infra = dataclasses.replace(system.infra, nats=bus, ports=StackPorts.free())
    services = ServiceStack(infra, run_dir, databases={"personnel": database})
    try:
        bus.start()
        postgres.create_database(database)
        bus.wait_ready()
        for name in RECORD_STACK:
            services.start(name)
        yield services
    finally:
        for name in reversed(RECORD_STACK):
            services.stop(name)
        bus.stop()
        postgres.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="module")
async def whole(system: System, record_stack: ServiceStack) -> record_read.Result:
    assert record_stack.database_urls["personnel"].endswith(f"/{record_stack.database_name('personnel')}")
    for name in RECORD_STACK:
        await record_stack.wait_ready(name, timeout=120)
    return await run.whole_records(record_stack, lambda: system.token(ADMIN), SIZES.record_read)


@pytest.fixture(scope="module")
async def found(system: System, record_stack: ServiceStack, whole: record_read.Result) -> search.Result:
    """The five searches over the people the whole-record benchmark loaded, as `make bench` runs them."""
    return await run.searches(record_stack, lambda: system.token(ADMIN), whole.loaded, SIZES.search)


@pytest.fixture(scope="module")
async def exported(
    system: System, record_stack: ServiceStack, whole: record_read.Result, found: search.Result
) -> export.Result:
    """Every person the whole-record benchmark loaded, exported as `make bench` exports them (after
    the searches)."""
    return await run.exports(record_stack, lambda: system.token(ADMIN), whole.loaded, SIZES.export)


@pytest.fixture(scope="module")
async def imported(system: System, bench_unit: tuple[str, str]) -> import_rows.Result:
    """New people into the benchmarks' unit, then an evaluation each, as `make bench` imports them."""
    path, unit_id = bench_unit
    code = path.rsplit("/", 1)[-1]
    return await run.imports(system.services, lambda: system.token(ADMIN), unit_id, code, SIZES.imports)


@pytest.fixture(scope="module")
async def printed(
    system: System, record_stack: ServiceStack, whole: record_read.Result, exported: export.Result
) -> resume.Result:
    """Resumes of people the whole-record benchmark loaded, as `make bench` prints them (after the exports)."""
    return await run.resumes(record_stack, lambda: system.token(ADMIN), whole.loaded, SIZES.resume)


@pytest.fixture(scope="module")
async def paged(
    system: System, record_stack: ServiceStack, whole: record_read.Result, printed: resume.Result
) -> web_pages.Result:
    """Staff lists and record pages of the people the whole-record benchmark loaded, as `python -m bench
    --only web` asks them (after the resumes)."""
    credentials = (ADMIN, system.passwords[ADMIN])
    return await run.web_pages_of(record_stack, credentials, lambda: system.token(ADMIN), whole.loaded, SIZES.web_pages)


# What a user of each benchmark would notice.


def test_token_verification_is_measured_beside_a_bare_decode(verified: token_verify.Result) -> None:
    sizes = SIZES.token_verify
    assert verified.verified == {"bare": sizes.tokens, "ours": sizes.tokens, "remembered": sizes.tokens}
    assert verified.forged_refused == 2, "the bare decode and the uncached verifier refused a forged signature"
    _ratio(verified.ours_us, verified.bare_us)
    section = report.verify_section(verified)
    assert f"{sizes.tokens} times each in {sizes.rounds} rounds" in "\n".join(section)
    (row,) = _table(section, "bare PyJWT µs/token")
    assert _shown(row["bare PyJWT µs/token"]) > 0
    assert _shown(row["TokenVerifier µs/token"]) > 0
    _shown(row["ratio"])
    _shown(row["TokenVerifier, token already verified, µs"])


def test_a_grpc_call_is_measured_through_the_interceptor_beside_a_bare_server(calls: grpc_call.Result) -> None:
    sizes = SIZES.grpc_call
    assert calls.echoed == dict.fromkeys(grpc_call.KINDS, sizes.warmup), "every warm-up call echoed the payload"
    assert calls.refused_without_token == ("ours", "ours_uncached")
    for kind in grpc_call.KINDS:
        sequential, concurrent = calls.runs[kind]
        assert (sequential.calls, concurrent.calls) == (
            sizes.rounds * sizes.sequential,
            sizes.rounds * sizes.concurrent,
        )
        for mode in (0, 1):
            _ratio(calls.runs[kind][mode].latency.per_second, calls.runs["bare"][mode].latency.per_second)
            assert len(calls.rounds[kind][mode].p50) == sizes.rounds
    rows = _table(report.grpc_section(calls), "mode")
    assert [(row["mode"], row["server"]) for row in rows] == [
        (mode, label) for mode in sizes.modes for label in grpc_call.KINDS.values()
    ]
    for row in rows:
        assert _shown(row["p50 ms"]) > 0
        assert _shown(row["calls/s"]) > 0
        _shown(row["server CPU µs/call"])
        if row["server"] == grpc_call.KINDS["bare"]:
            assert (row["p50 ratio"], row["throughput ratio"]) == ("1.00", "1.00")
        else:
            assert len(_figures(row["p50 ratio"])) == 3, "the ratio and its rounds' quartiles"
            assert len(_figures(row["throughput ratio"])) == 3


def test_the_relay_is_measured_beside_a_bare_publish_loop(relayed: relay.Result) -> None:
    messages = SIZES.relay.messages
    assert relayed.published == {"bare": messages, "ours": messages, "database_only": messages}
    _ratio(relayed.ours_per_s, relayed.bare_per_s)
    assert relayed.database_only_per_s > 0
    (row,) = _table(report.relay_section(relayed), "bare publish msgs/s")
    for column in row:
        _shown(row[column])


def test_issuance_is_measured_beside_the_bare_keycloak_calls(issued: issuance.Result) -> None:
    accounts = SIZES.issuance.accounts
    assert issued.found == {"bare": accounts, "ours": accounts}, "every account is in its unit with its tier"
    _ratio(issued.ours.p50_ms, issued.bare.p50_ms)
    (row,) = _table(report.issuance_section(issued), "bare Keycloak p50 / p99 ms")
    assert len(_figures(row["bare Keycloak p50 / p99 ms"])) == len(_figures(row["workflow p50 / p99 ms"])) == 2
    _shown(row["p50 ratio"])


def test_event_latency_is_read_for_every_event_written(lag: dict[str, event_latency.Phase]) -> None:
    writes = SIZES.event_latency.writes
    for name, phase in lag.items():
        assert phase.writes == writes
        assert phase.stamps.published == writes, f"{name}: the relay stamped every event published"
        assert phase.stamps.events == writes, f"{name}: every person written reached reports' inbox"
        assert phase.histogram_events >= writes, f"{name}: the lag histogram counted every one"
    direct = lag["polled"].direct
    assert lag["quiet"].direct is None
    assert direct is not None
    assert direct.events == writes, "the client saw every person counted"
    rows = _table(report.lag_section(lag), "run")
    views = [(row["run"], row["view"].split(" (")[0]) for row in rows]
    assert views == [
        *(("writes only", view) for view in ("lag histogram", "row stamps: occurred_at → reports' inbox row")),
        ("writes only", "row stamps: occurred_at → relay's batch acked"),
        *(("writes + polling", view) for view in ("lag histogram", "row stamps: occurred_at → reports' inbox row")),
        ("writes + polling", "row stamps: occurred_at → relay's batch acked"),
        ("writes + polling", "client, reply → counted"),
    ]
    for row in rows:
        assert _shown(row["events"]) >= writes
        _shown(row["p50 ms"])
        _shown(row["p99 ms"])


def test_whole_records_are_read_and_written_beside_raw_sql(whole: record_read.Result) -> None:
    sizes = SIZES.record_read
    writes = sizes.sequential_writes + sizes.concurrent_writes
    assert (whole.loaded.people, whole.loaded.units) == (sizes.people, sizes.units)
    assert whole.loaded.entries > sizes.people, "each person loaded with a record"
    assert whole.checked == {
        "people loaded": sizes.people,
        "records read": sizes.reads,
        "records read as of": sizes.reads,
        "steps read back": writes,
        "raw rows read back": writes,
    }
    for ours, raw in (("ours", "raw"), ("ours_as_of", "raw_as_of"), ("ours_person", "raw_person")):
        _ratio(whole.reads[ours].p95_ms, whole.reads[raw].p95_ms)
    for mode in ("sequential", "concurrent"):
        _ratio(whole.writes[f"ours_{mode}"].per_second, whole.writes[f"raw_{mode}"].per_second)
    section = report.record_section(whole)
    (loaded,) = _table(section, "people")
    assert (_shown(loaded["people"]), _shown(loaded["units"])) == (sizes.people, sizes.units)
    reads = _table(section, "read")
    assert [row["read"] for row in reads] == [
        "whole record",
        f"as of {record_read.AS_OF.isoformat()}",
        "the person's row alone (`GET /v1/persons/{id}`)",
    ]
    for row in reads:
        for column in ("ours p50 / p95 ms", "raw SQL p50 / p95 ms", "ratio p50 / p95"):
            assert len(_figures(row[column])) == 2
    written = _table(section, "writes")
    assert [row["writes"] for row in written] == ["one at a time", f"{sizes.in_flight} in flight"]
    for row in written:
        assert _shown(row["ours entries/s"]) > 0
        assert _shown(row["raw INSERT rows/s"]) > 0
        _shown(row["throughput ratio"])


def test_five_searches_are_measured_through_the_gateway_in_the_service_and_as_raw_sql(found: search.Result) -> None:
    sizes = SIZES.search
    assert found.loaded.people == SIZES.record_read.people
    assert len(found.measured) == 5
    for measured in found.measured:
        # Each query's three totals were checked equal as it ran; here, that each ran and found someone.
        assert len(measured.totals) == sizes.queries, measured.label
        assert max(measured.totals) > 0, f"{measured.label}: the loaded people give searches that find someone"
        for path in (measured.gateway, measured.service):
            _ratio(path.p95_ms, measured.raw.p95_ms)
    widest = found.measured[-1]
    assert set(widest.totals) == {SIZES.record_read.people}, "the widest scope finds every person loaded"
    section = report.search_section(found, loaded_here=False)
    rows = _table(section, "search")
    assert [row["search"] for row in rows] == [m.label for m in found.measured]
    for row in rows:
        for column in ("gateway p50 / p95 ms", "service p50 / p95 ms", "raw SQL p50 / p95 ms"):
            assert len(_figures(row[column])) == 2, row[column]
        assert row["targets"] in {"met", "missed"}


def test_exports_are_measured_through_the_gateway_beside_copy(exported: export.Result) -> None:
    people = SIZES.record_read.people
    for kind in (*export.KINDS, "copy"):
        runs = exported.runs[kind]
        assert len(runs) == SIZES.export.rounds
        # Each export's rows were checked as it ran (the XLSX read back); here, that each held everyone.
        assert {r.rows for r in runs} == {people}, kind
        for run_ in runs:
            assert run_.megabytes > 0
            assert run_.gateway is not None, "the gateway's memory was sampled"
            assert run_.personnel is not None, "personnel's memory was sampled"
            assert run_.gateway.peak_mb >= run_.gateway.before_mb > 0
            assert run_.personnel.peak_mb >= run_.personnel.before_mb > 0
    for kind in export.KINDS:
        _ratio(exported.median(kind).rows_per_second, exported.median("copy").rows_per_second)
    rows = _table(report.export_section(exported, loaded_here=False), "export")
    assert [row["export"] for row in rows] == [
        "CSV through the gateway",
        "XLSX through the gateway",
        "raw `COPY … TO STDOUT` (CSV)",
    ]
    for row in rows:
        assert _shown(row["rows"]) == people
        assert _shown(row["rows/s"]) > 0
        assert len(_figures(row["gateway RSS MB"])) == 3, "before, peak and the rise"
        _shown(row["ratio to COPY"])
    assert {row["memory target"] for row in rows[:2]} <= {"met", "missed"}


def test_resumes_are_printed_through_the_gateway_beside_raw_sql_and_bare_reportlab(printed: resume.Result) -> None:
    resumes = SIZES.resume.resumes
    assert printed.checked == {"named": resumes, "raw reads": resumes}
    assert printed.pages >= 1
    _ratio(printed.ours.p95_ms, printed.raw.p95_ms)
    rows = _table(report.resume_section(printed, loaded_here=False), "resume")
    assert [row["resume"] for row in rows] == ["PDF through the gateway", "raw SQL + bare reportlab"]
    for row in rows:
        assert _shown(row["p50 ms"]) > 0
        assert _shown(row["p95 ms"]) >= _shown(row["p50 ms"])
    _shown(rows[0]["ratio to raw, p95"])


def test_web_pages_are_timed_to_their_first_byte_beside_the_rest_calls_they_make(paged: web_pages.Result) -> None:
    pages = SIZES.web_pages.pages
    assert paged.checked == {"staff pages": pages, "record pages": pages}
    _ratio(paged.staff_page.p95_ms, paged.staff_rest.p95_ms)
    _ratio(paged.record_page.p95_ms, paged.record_rest.p95_ms)
    assert 0 < paged.session_check.p50_ms <= paged.session_check.p95_ms
    rows = _table(report.web_pages_report(paged).splitlines(), "page")
    assert [row["page"] for row in rows] == [
        "staff list (100 people)",
        "record page",
        "Keycloak's userinfo alone (each page's session check)",
    ]
    for row in rows:
        assert len(_figures(row["page p50 / p95 ms"])) == 2
    for row in rows[:2]:
        _shown(row["ratio, p95"])


def test_the_audit_chain_is_verified_beside_a_raw_cursor_and_a_changed_entry_is_named(
    chained: audit_chain.Result,
) -> None:
    entries = SIZES.audit_chain.entries
    assert chained.checked == {"ours": entries, "raw": entries, "tampered": entries // 2}
    _ratio(chained.ours_per_s, chained.raw_per_s)
    (row,) = _table(report.audit_chain_section(chained), "personnel's verification entries/s")
    for column in row:
        _shown(row[column])


def test_the_import_is_measured_beside_copy_and_creates_nothing_twice(imported: import_rows.Result) -> None:
    """The benchmark itself checks each report (every row created, then every row already present)."""
    rows = SIZES.imports.rows
    for kind in import_rows.KINDS:
        for step in ("dry", "applied", "again"):
            assert imported.runs[f"{kind}:{step}"].rows == rows
        _ratio(imported.runs[f"{kind}:applied"].rows_per_second, imported.runs[f"copy:{kind}"].rows_per_second)
    table = _table(report.import_section(imported), "file")
    assert [(row["file"], row["step"]) for row in table] == [
        (kind, step)
        for kind in import_rows.KINDS
        for step in ("dry run (checked, nothing written)", "applied", "the same file again", "raw COPY")
    ]
    for row in table:
        assert _shown(row["rows/s"]) > 0


def test_periods_fan_out_and_completeness_count_beside_raw_sql(reported: report_workflow.Result) -> None:
    sizes = SIZES.report_workflow
    assert reported.checked["assigned"] == sizes.chi_cuc
    assert reported.checked["sector"] == sizes.units - 1
    _ratio(reported.fan_out_ours_s, reported.fan_out_raw_s)
    _ratio(reported.completeness_ours_ms, reported.completeness_raw_ms)
    rows = _table(report.report_workflow_section(reported), "measurement")
    assert len(rows) == 2
    for row in rows:
        _shown(row["ratio"])


def test_the_statistics_are_replayed_from_events_and_bm01_counts_what_raw_sql_counts(
    counted: statistics.Result,
) -> None:
    sizes = SIZES.statistics
    assert counted.loaded.people == sizes.people
    assert counted.checked["events applied"] == counted.events > sizes.people
    in_service = [n for key, n in counted.checked.items() if key.startswith("people in service")]
    assert len(in_service) == 2
    assert all(0 < n <= sizes.people for n in in_service)
    assert 0 < counted.bm03_people <= sizes.people
    rows = _table(report.statistics_section(counted), "measurement")
    assert len(rows) == 14
    for row in (rows[0], rows[1], rows[3], rows[4], *rows[6:10], rows[12]):
        _shown(row["ratio"])
    assert "drill-down" in rows[12]["measurement"]
    assert counted.profiles_seconds > 0
    assert counted.years_seconds > 0
    assert counted.past.year == counted.year_end.year == vietnam_today().year - 5
    for between in counted.between:
        assert 85 <= abs((between.day - between.nearest).days) <= 92, "a quarter from the nearest stored day"
    assert _shown(rows[13]["ours"]) > 0, "events/s"


def test_the_page_is_written_from_every_benchmark_and_says_what_no_test_enforces(
    verified: token_verify.Result,
    calls: grpc_call.Result,
    relayed: relay.Result,
    issued: issuance.Result,
    lag: dict[str, event_latency.Phase],
    whole: record_read.Result,
    found: search.Result,
    exported: export.Result,
    chained: audit_chain.Result,
    imported: import_rows.Result,
    printed: resume.Result,
    reported: report_workflow.Result,
) -> None:
    page = report.document(
        run.Results(
            verified, calls, relayed, issued, lag, whole, found, exported, chained, imported, printed, reported
        ),
        1.0,
    ).splitlines()
    headings = [line for line in page if line.startswith("#")]
    assert headings == [
        "# Benchmarks",
        "## Summary",
        "## Bearer-token verification",
        "## Authenticated trivial gRPC call",
        "## Event latency, commit to projection",
        "## Outbox relay throughput",
        "## Account issuance, end to end",
        "## Whole record at scale",
        "## Search at scale",
        "## Export at scale",
        "## Audit chain verification",
        "## Bulk import",
        "## Resume PDF",
        "## Report workflow at the scale of the sector",
        report.ENFORCED[0],
    ]
    summary = _table(page, "measurement")
    assert len(summary) == 17
    for row in summary:
        _shown(row["ours"])
        if row["baseline"] != "—":
            _shown(row["baseline"])
            _shown(row["ratio"])
    # The committed page ends with the same section, which `make bench` writes again each time.
    committed = Path(repo_root() / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert committed.endswith("\n".join(report.ENFORCED))
