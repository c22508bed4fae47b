"""`make bench`: starts the real stack on PostgreSQL, runs every benchmark, writes docs/benchmarks.md.

`python -m bench --only grpc` starts Keycloak, NATS and PostgreSQL but not the services, runs the
token verification and the gRPC call benchmarks and prints their sections; it writes no file.
`python -m bench --only record [--people N --units N]` starts the whole stack, loads the people and
reads and writes their records (`record_read`), and prints that section; it writes no file.
`python -m bench --smoke` runs every benchmark at its smoke sizes (each module's `SMOKE`: a few
calls, rows or people; the suite runs them so in tests/integration/test_bench_smoke.py), to see
that each still runs and passes its own checks, in seconds; it prints the page, whose figures
mean nothing at those sizes, and writes no file.
`python -m bench --only search [--people N --units N]` starts the whole stack, loads the people the
same way and runs the five searches (`search`), and prints that section; it writes no file.
`python -m bench --only export [--people N --units N]` does the same for the exports (`export`: e.g.
`--people 100000` for the issue's 100,000 rows as CSV and XLSX); it writes no file.

`python -m bench --only import [--rows N]` starts the whole stack and imports N new people and an
evaluation each through the gateway (`import_rows`, 50,000 by default), and prints that section; it
writes no file.

`python -m bench --only resume [--people N --units N]` loads the people as `--only search` does and prints
their resumes as PDF (`resume`), and prints that section; it writes no file.

`python -m bench --only backup [--people N --units N]` loads the people as `--only search` does, then
backs personnel's database up as a set and restores it (`backup_restore`) beside bare `pg_dump` and
`pg_restore`, and prints the two summary rows; it writes no file.

Every run's PostgreSQL is sized as a server would be (`bench.server.SERVER_SIZED`).

`python -m bench --only statistics [--people N --units N --queries N]` starts PostgreSQL alone, loads the people into
personnel's tables as `--only search` does and replays the events personnel would publish for them into
reports' statistics read-model (`statistics`), then times BM01 and BM03; it prints that section and
writes no file.

`python -m bench --only audit [--entries N]` starts PostgreSQL (and Keycloak, NATS), loads an audit
chain and verifies it (`audit_chain`), and prints that section; it writes no file.

`python -m bench --only reports` starts PostgreSQL (and Keycloak, NATS), loads a unit tree into a
scratch database of reports' schema, opens periods and counts the sector's completeness
(`report_workflow`), and prints that section; it writes no file.

`python -m bench --only web [--people N --units N]` loads the people as `--only search` does, logs the
system admin in through the web pages' own login, and times the staff lists and record pages beside the
REST calls they make (`web_pages`); it prints that section and writes no file."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import sys
import time
from pathlib import Path

from bench import grpc_call, report, run, statistics, token_verify
from bench.server import SERVER_SIZED
from qlcb_devstack.accounts import password_token
from qlcb_devstack.keycloak import KeycloakServer
from qlcb_devstack.mail import MailSink
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.ports import StackPorts
from qlcb_devstack.postgres import PostgresCluster
from qlcb_devstack.seed import seed_accounts
from qlcb_devstack.stack import DATABASES, Infra, ServiceStack
from qlcb_devstack.state import repo_root, state_dir

UNIT = "BENCH"
"""The unit the benchmarks' accounts and people belong to."""


def _step(what: str) -> None:
    print(f"[bench] {what}", file=sys.stderr, flush=True)  # noqa: T201


def _start_infra(run_dir: Path) -> Infra:
    """devstack's `start_infra` with PostgreSQL, except that what has started is stopped again
    when a later step fails (devstack's leaves it running)."""
    ports = StackPorts.free()
    postgres = PostgresCluster(data_dir=run_dir / "postgres", settings=SERVER_SIZED)
    infra = Infra(
        keycloak=KeycloakServer(
            data_dir=run_dir / "keycloak", port=ports.keycloak_port, management_port=ports.keycloak_management_port
        ),
        nats=NatsServer(data_dir=run_dir / "nats", port=ports.nats_port, http_port=ports.nats_monitoring_port),
        postgres=postgres,
        mail=MailSink(data_dir=run_dir / "mail", port=ports.smtp_port),
        ports=ports,
    )
    try:
        infra.mail.start()
        infra.keycloak.start()
        infra.nats.start()
        postgres.start()
        for database in DATABASES:
            postgres.create_database(database)
        infra.nats.wait_ready()
        infra.keycloak.wait_ready()
        infra.install_realm()
    except BaseException:
        infra.stop()
        raise
    return infra


async def _statistics(run_dir: Path, sizes: statistics.Sizes) -> str:
    """PostgreSQL alone: the read-model is filled in process, personnel's tables by the loader."""
    postgres = PostgresCluster(data_dir=run_dir / "postgres", settings=SERVER_SIZED)
    try:
        postgres.start()
        for database in ("bench_statistics", "bench_personnel"):
            postgres.create_database(database)
        measured = await statistics.measure(
            postgres.dsn("bench_statistics"), postgres.dsn("bench_personnel", driver="postgresql"), sizes
        )
    finally:
        postgres.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    return report.statistics_report(measured)


async def _run(only: str | None, sizes: run.Sizes, command: str) -> str:
    began = time.monotonic()
    run_dir = state_dir() / "bench-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    if only == "statistics":
        people = sizes.statistics.people
        _step(f"statistics: loading {people:,} people into personnel's tables and replaying their events")
        return await _statistics(run_dir, sizes.statistics)
    _step("starting Keycloak, NATS and PostgreSQL")
    infra = _start_infra(run_dir)
    services = ServiceStack(infra, run_dir)
    try:
        if only not in ("grpc", "audit", "reports"):
            _step("starting the services")
            services.start_all()
        passwords = seed_accounts(infra.keycloak_admin())

        def admin_token() -> str:
            return password_token(infra.keycloak.base_url, "quantri", passwords["quantri"])

        if only == "audit":
            _step(f"audit chain verification ({sizes.audit_chain.entries:,} entries)")
            chain_only = await run.audit_chain_verification(infra, "bench_audit", sizes.audit_chain)
            return "\n".join(report.audit_chain_section(chain_only))
        if only == "reports":
            _step(f"report workflow ({sizes.report_workflow.units:,} units)")
            reported = await run.report_workflow_at_scale(infra, "bench_reports", sizes.report_workflow)
            return "\n".join(report.report_workflow_section(reported))
        token = admin_token()
        people = sizes.record_read.people
        if only == "import":
            _step(f"import: {sizes.imports.rows:,} new people, then an evaluation each")
            import_unit = await run.bench_unit(services.gateway_url, token, UNIT)
            return report.import_report(await run.imports(services, admin_token, import_unit, UNIT, sizes.imports))
        if only == "search":
            _step(f"search: loading {people:,} people, then searching")
            return report.search_report(
                await run.searches_alone(services, admin_token, sizes.record_read, sizes.search)
            )
        if only == "export":
            _step(f"export: loading {people:,} people, then exporting them")
            return report.export_report(await run.exports_alone(services, admin_token, sizes.record_read, sizes.export))
        if only == "resume":
            _step(f"resume: loading {people:,} people, then printing resumes")
            return report.resume_report(await run.resumes_alone(services, admin_token, sizes.record_read, sizes.resume))
        if only == "backup":
            _step(f"backup: loading {people:,} people, then backup and restore beside pg_dump / pg_restore")
            return await run.backup_and_restore(services, sizes.record_read, run_dir / "bench-backup")
        if only == "web":
            _step(f"web pages: loading {people:,} people, then asking staff lists and record pages")
            return report.web_pages_report(
                await run.web_pages_alone(services, ("quantri", passwords["quantri"]), admin_token, sizes)
            )
        if only == "record":
            _step(f"whole records: loading {people:,} people, then reading and writing")
            return report.record_report(await run.whole_records(services, admin_token, sizes.record_read))
        _step("token verification")
        verify = await token_verify.measure(infra.issuer, token, sizes.token_verify)
        _step(f"authenticated gRPC call ({sizes.grpc_call.rounds} rounds)")
        calls = await grpc_call.measure(infra.issuer, token, sizes.grpc_call)
        if only == "grpc":
            return report.grpc_report(verify, calls)
        unit_id = await run.bench_unit(services.gateway_url, token, UNIT)
        _step("outbox relay")
        relayed = await run.outbox_relay(infra, "bench_outbox", sizes.relay)
        _step("account issuance")
        issued = await run.account_issuance(infra, services, f"/{UNIT}", admin_token(), sizes.issuance)
        lag_sizes = sizes.event_latency
        _step(f"event latency (twice {lag_sizes.rate} writes/s for {lag_sizes.seconds} s)")
        lag = await run.event_lag(services, admin_token(), unit_id, lag_sizes)
        _step(f"audit chain verification ({sizes.audit_chain.entries:,} entries)")
        chained = await run.audit_chain_verification(infra, "bench_audit", sizes.audit_chain)
        _step(f"report workflow ({sizes.report_workflow.units:,} units)")
        reported = await run.report_workflow_at_scale(infra, "bench_reports", sizes.report_workflow)
        _step(f"whole records: loading {people:,} people, then reading and writing")
        whole = await run.whole_records(services, admin_token, sizes.record_read)
        _step("search over the same people")
        found = await run.searches(services, admin_token, whole.loaded, sizes.search)
        _step("export of the same people")
        exported = await run.exports(services, admin_token, whole.loaded, sizes.export)
        _step(f"bulk import ({sizes.imports.rows:,} rows of each kind)")
        imported = await run.imports(services, admin_token, unit_id, UNIT, sizes.imports)
        _step("resumes of the same people")
        printed = await run.resumes(services, admin_token, whole.loaded, sizes.resume)
    finally:
        _step("stopping everything")
        services.stop_all()
        infra.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    results = run.Results(
        verify, calls, relayed, issued, lag, whole, found, exported, chained, imported, printed, reported
    )
    return report.document(results, time.monotonic() - began, command)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        choices=[
            "grpc",
            "record",
            "search",
            "export",
            "audit",
            "import",
            "resume",
            "reports",
            "backup",
            "statistics",
            "web",
        ],
        help="run only these benchmarks and print them",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="every benchmark at its smoke sizes, not the full ones: "
        + "; ".join(f"{f.name}: {_sizes(getattr(run.SMOKE, f.name))}" for f in dataclasses.fields(run.SMOKE))
        + " (print only, no file written)",
    )
    parser.add_argument(
        "--people",
        type=int,
        help="people the record, search, export, resume and statistics benchmarks load"
        f" (default {run.FULL.record_read.people:,})",
    )
    parser.add_argument(
        "--units",
        type=int,
        help="units the record, search, export, resume and statistics benchmarks load"
        f" (default {run.FULL.record_read.units:,})",
    )
    parser.add_argument(
        "--queries",
        type=int,
        help="times the statistics benchmark times each form, after one untimed"
        f" (default {run.FULL.statistics.queries})",
    )
    parser.add_argument(
        "--entries",
        type=int,
        help=f"audit entries the chain benchmark loads (default {run.FULL.audit_chain.entries:,})",
    )
    parser.add_argument(
        "--rows",
        type=int,
        help=f"rows of each kind the import benchmark imports (default {run.FULL.imports.rows:,})",
    )
    args = parser.parse_args()
    sizes = run.SMOKE if args.smoke else run.FULL
    overrides = {name: value for name in ("people", "units") if (value := getattr(args, name)) is not None}
    if args.queries is not None:
        if args.only != "statistics":
            parser.error("--queries is for --only statistics")
        overrides["queries"] = args.queries
    if args.only == "statistics":
        try:
            sizes = dataclasses.replace(sizes, statistics=dataclasses.replace(sizes.statistics, **overrides))
        except ValueError as exc:
            parser.error(str(exc))
    elif overrides:
        try:
            record_sizes = dataclasses.replace(sizes.record_read, **overrides)
        except ValueError as exc:
            parser.error(str(exc))
        sizes = dataclasses.replace(sizes, record_read=record_sizes)
    if args.entries is not None:
        try:
            sizes = dataclasses.replace(sizes, audit_chain=dataclasses.replace(sizes.audit_chain, entries=args.entries))
        except ValueError as exc:
            parser.error(str(exc))
    if args.rows is not None:
        try:
            sizes = dataclasses.replace(sizes, imports=dataclasses.replace(sizes.imports, rows=args.rows))
        except ValueError as exc:
            parser.error(str(exc))
    command = "python -m bench --smoke" if args.smoke else "make bench"
    page = asyncio.run(_run(args.only, sizes, command))
    if args.only is None and not args.smoke:
        (repo_root() / "docs" / "benchmarks.md").write_text(page, encoding="utf-8")
    print(page)  # noqa: T201


def _sizes(sizes: object) -> str:
    return ", ".join(f"{field.name} {getattr(sizes, field.name)}" for field in dataclasses.fields(sizes))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
