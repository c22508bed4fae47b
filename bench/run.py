"""Each benchmark run against a system that is already running: what it needs set up first (a
unit, the accounts that sign a request, a scratch database), then its `measure`. `python -m
bench` calls these on the stack it starts; the suite's smoke test calls them, at `SMOKE` sizes,
on the stack the suite starts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import (
    audit_chain,
    backup_restore,
    event_latency,
    export,
    grpc_call,
    import_rows,
    issuance,
    record_read,
    relay,
    report_workflow,
    resume,
    search,
    statistics,
    token_verify,
    web_pages,
)
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.stack import Infra, ServiceStack


@dataclass(frozen=True)
class Sizes:
    """How much each benchmark does: `FULL` for the figures in docs/benchmarks.md, `SMOKE` to
    see that each still runs and checks itself, in seconds."""

    token_verify: token_verify.Sizes = field(default_factory=token_verify.Sizes)
    grpc_call: grpc_call.Sizes = field(default_factory=grpc_call.Sizes)
    relay: relay.Sizes = field(default_factory=relay.Sizes)
    issuance: issuance.Sizes = field(default_factory=issuance.Sizes)
    event_latency: event_latency.Sizes = field(default_factory=event_latency.Sizes)
    record_read: record_read.Sizes = field(default_factory=record_read.Sizes)
    search: search.Sizes = field(default_factory=search.Sizes)
    export: export.Sizes = field(default_factory=export.Sizes)
    audit_chain: audit_chain.Sizes = field(default_factory=audit_chain.Sizes)
    imports: import_rows.Sizes = field(default_factory=import_rows.Sizes)
    resume: resume.Sizes = field(default_factory=resume.Sizes)
    report_workflow: report_workflow.Sizes = field(default_factory=report_workflow.Sizes)
    statistics: statistics.Sizes = field(default_factory=statistics.Sizes)
    web_pages: web_pages.Sizes = field(default_factory=web_pages.Sizes)


FULL = Sizes()
SMOKE = Sizes(
    token_verify=token_verify.SMOKE,
    grpc_call=grpc_call.SMOKE,
    relay=relay.SMOKE,
    issuance=issuance.SMOKE,
    event_latency=event_latency.SMOKE,
    record_read=record_read.SMOKE,
    search=search.SMOKE,
    export=export.SMOKE,
    resume=resume.SMOKE,
    audit_chain=audit_chain.SMOKE,
    imports=import_rows.SMOKE,
    report_workflow=report_workflow.SMOKE,
    statistics=statistics.SMOKE,
    web_pages=web_pages.SMOKE,
)


@dataclass(frozen=True)
class Results:
    """One run of every benchmark: what docs/benchmarks.md is written from."""

    verify: token_verify.Result
    calls: grpc_call.Result
    relay: relay.Result
    issuance: issuance.Result
    lag: dict[str, event_latency.Phase]
    whole: record_read.Result
    found: search.Result
    exported: export.Result
    chain: audit_chain.Result
    imported: import_rows.Result
    resumes: resume.Result
    reports: report_workflow.Result


async def bench_unit(gateway_url: str, token: str, code: str, parent_id: str | None = None) -> str:
    """A unit of its own for the accounts issued and the people written; returns its id. At the top
    of an empty organisation (`make bench`), or below `parent_id` in one that has a root already
    (the suite's), which keeps a single root there."""
    body: dict[str, str] = {"code": code, "name": "Đơn vị đo hiệu năng", "kind": "general_department"}
    if parent_id is not None:
        body |= {"kind": "sub_unit", "parent_id": parent_id}
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as api:
        unit = await api.post("/v1/units", json=body, headers={"Authorization": f"Bearer {token}"})
        unit.raise_for_status()
    unit_id: str = unit.json()["id"]
    return unit_id


async def account_issuance(
    infra: Infra, services: ServiceStack, unit_path: str, admin_token: str, sizes: issuance.Sizes
) -> issuance.Result:
    """Three people of the unit at `unit_path` sign the requests, the system admin issues: their
    accounts are made first (`<code>.officer`, `.leader`, `.admin`)."""
    unit_code = unit_path.rsplit("/", 1)[-1]

    def signer(role: str, tier: str, name: str) -> str:
        account = Account(f"{unit_code.lower()}.{role}", "Đo hiệu năng 2026", tier, unit_path, name)
        ensure_user(infra.keycloak_admin(), account)
        return password_token(infra.keycloak.base_url, account.username, account.password)

    requester, consenter, approver = await asyncio.gather(
        asyncio.to_thread(signer, "officer", "local-officer", "Lê Văn Đề"),
        asyncio.to_thread(signer, "leader", "unit-leader", "Lý Văn Đo"),
        asyncio.to_thread(signer, "admin", "local-admin", "Lâm Văn Duyệt"),
    )
    return await issuance.measure(
        services.identity_url,
        issuance.Signers(requester, consenter, approver, admin_token),
        unit_path,
        infra.keycloak_admin(),
        infra.mail,
        sizes,
    )


async def outbox_relay(infra: Infra, database: str, sizes: relay.Sizes) -> relay.Result:
    """The relay over an outbox in `database`, created here on the stack's PostgreSQL."""
    if infra.postgres is None:
        raise RuntimeError("the relay benchmark needs PostgreSQL")
    await asyncio.to_thread(infra.postgres.create_database, database)
    return await relay.measure(infra.nats.url, infra.nats.credentials("ops"), infra.postgres.dsn(database), sizes)


async def audit_chain_verification(infra: Infra, database: str, sizes: audit_chain.Sizes) -> audit_chain.Result:
    """The chain loaded into `database`, created here on the stack's PostgreSQL, and verified."""
    if infra.postgres is None:
        raise RuntimeError("the audit chain benchmark needs PostgreSQL")
    await asyncio.to_thread(infra.postgres.create_database, database)
    return await audit_chain.measure(
        infra.postgres.dsn(database), infra.postgres.dsn(database, driver="postgresql"), sizes
    )


async def report_workflow_at_scale(infra: Infra, database: str, sizes: report_workflow.Sizes) -> report_workflow.Result:
    """The unit tree loaded into `database`, created here on the stack's PostgreSQL, then the
    fan-out of periods and the sector's completeness."""
    if infra.postgres is None:
        raise RuntimeError("the report workflow benchmark needs PostgreSQL")
    await asyncio.to_thread(infra.postgres.create_database, database)
    return await report_workflow.measure(
        infra.postgres.dsn(database), infra.postgres.dsn(database, driver="postgresql"), sizes
    )


async def statistics_at_scale(infra: Infra, database: str, sizes: statistics.Sizes) -> statistics.Result:
    """The read-model in `database` and personnel's tables in `database`_personnel, both created here
    on the stack's PostgreSQL."""
    if infra.postgres is None:
        raise RuntimeError("the statistics benchmark needs PostgreSQL")
    personnel = f"{database}_personnel"
    for name in (database, personnel):
        await asyncio.to_thread(infra.postgres.create_database, name)
    return await statistics.measure(
        infra.postgres.dsn(database), infra.postgres.dsn(personnel, driver="postgresql"), sizes
    )


async def event_lag(
    services: ServiceStack, admin_token: str, unit_id: str, sizes: event_latency.Sizes
) -> dict[str, event_latency.Phase]:
    return await event_latency.measure(
        services.personnel_target,
        services.grpc_target("reports"),
        services.ops_url("reports"),
        services.database_urls,
        admin_token,
        unit_id,
        sizes,
    )


async def whole_records(
    services: ServiceStack, admin_token: Callable[[], str], sizes: record_read.Sizes
) -> record_read.Result:
    """Loads straight into personnel's database, which must hold nothing yet: the generated units
    and people are the demo's own (`qlcb_devstack.demo`), and the loader rebuilds the entries'
    indexes and constraints."""
    return await record_read.measure(services.gateway_url, admin_token, _personnel_dsn(services), sizes)


def _personnel_dsn(services: ServiceStack) -> str:
    if services.infra.postgres is None:
        raise RuntimeError("the record and search benchmarks need PostgreSQL")
    return services.infra.postgres.dsn(services.database_name("personnel"), driver="postgresql")


async def searches(
    services: ServiceStack, admin_token: Callable[[], str], loaded: record_read.Loaded, sizes: search.Sizes
) -> search.Result:
    """The five searches over the people the whole-record benchmark `loaded` (after its writes)."""
    return await search.measure(services.gateway_url, admin_token, _personnel_dsn(services), loaded, sizes)


async def searches_alone(
    services: ServiceStack, admin_token: Callable[[], str], record_sizes: record_read.Sizes, sizes: search.Sizes
) -> search.Result:
    """`--only search`: the whole-record benchmark's loader, then the searches. Personnel's
    database must hold nothing yet."""
    dsn = _personnel_dsn(services)
    loaded = await record_read.load_in_child(dsn, record_sizes.people, record_sizes.units)
    return await search.measure(services.gateway_url, admin_token, dsn, loaded, sizes)


def _pids(services: ServiceStack) -> dict[str, int]:
    """The gateway's and personnel's processes, whose memory the export benchmark samples."""
    pids = {name: services.processes[name].pid for name in ("gateway", "personnel")}
    return {name: pid for name, pid in pids.items() if pid is not None}


async def exports(
    services: ServiceStack, admin_token: Callable[[], str], loaded: record_read.Loaded, sizes: export.Sizes
) -> export.Result:
    """Every person the whole-record benchmark `loaded`, exported as CSV and XLSX, beside COPY."""
    return await export.measure(
        services.gateway_url, admin_token, _personnel_dsn(services), loaded, _pids(services), sizes
    )


async def exports_alone(
    services: ServiceStack, admin_token: Callable[[], str], record_sizes: record_read.Sizes, sizes: export.Sizes
) -> export.Result:
    """`--only export`: the whole-record benchmark's loader, then the exports. Personnel's database
    must hold nothing yet."""
    dsn = _personnel_dsn(services)
    loaded = await record_read.load_in_child(dsn, record_sizes.people, record_sizes.units)
    return await export.measure(services.gateway_url, admin_token, dsn, loaded, _pids(services), sizes)


async def imports(
    services: ServiceStack, admin_token: Callable[[], str], unit_id: str, unit_code: str, sizes: import_rows.Sizes
) -> import_rows.Result:
    """New people into the unit `unit_code`, then an evaluation each, through the gateway's import, beside COPY."""
    return await import_rows.measure(
        services.gateway_url, admin_token, _personnel_dsn(services), unit_id, unit_code, sizes
    )


async def resumes(
    services: ServiceStack, admin_token: Callable[[], str], loaded: record_read.Loaded, sizes: resume.Sizes
) -> resume.Result:
    """Resumes of people the whole-record benchmark `loaded`, as PDF, beside raw SQL and bare reportlab."""
    return await resume.measure(services.gateway_url, admin_token, _personnel_dsn(services), loaded, sizes)


async def resumes_alone(
    services: ServiceStack, admin_token: Callable[[], str], record_sizes: record_read.Sizes, sizes: resume.Sizes
) -> resume.Result:
    """`--only resume`: the whole-record benchmark's loader, then the resumes. Personnel's database
    must hold nothing yet."""
    dsn = _personnel_dsn(services)
    loaded = await record_read.load_in_child(dsn, record_sizes.people, record_sizes.units)
    return await resume.measure(services.gateway_url, admin_token, dsn, loaded, sizes)


async def web_pages_of(
    services: ServiceStack,
    credentials: tuple[str, str],
    admin_token: Callable[[], str],
    loaded: record_read.Loaded,
    sizes: web_pages.Sizes,
) -> web_pages.Result:
    """Staff lists and record pages of the people the whole-record benchmark `loaded`."""
    userinfo = f"{services.infra.issuer}/protocol/openid-connect/userinfo"
    return await web_pages.measure(
        services.gateway_url, userinfo, credentials, admin_token, _personnel_dsn(services), loaded, sizes
    )


async def web_pages_alone(
    services: ServiceStack, credentials: tuple[str, str], admin_token: Callable[[], str], sizes: Sizes
) -> web_pages.Result:
    """`--only web`: the whole-record benchmark's loader, then the staff lists and record pages beside
    their REST calls. Personnel's database must hold nothing yet."""
    dsn = _personnel_dsn(services)
    loaded = await record_read.load_in_child(dsn, sizes.record_read.people, sizes.record_read.units)
    return await web_pages_of(services, credentials, admin_token, loaded, sizes.web_pages)


async def backup_and_restore(services: ServiceStack, record_sizes: record_read.Sizes, work_dir: Path) -> str:
    """`--only backup`: the whole-record benchmark's loader, then a set of personnel's database and its
    restore beside bare pg_dump and pg_restore. Personnel's database must hold nothing yet."""
    postgres = services.infra.postgres
    if postgres is None:
        raise RuntimeError("the backup benchmark needs PostgreSQL")
    loaded = await record_read.load_in_child(_personnel_dsn(services), record_sizes.people, record_sizes.units)
    database = services.database_name("personnel")
    result = await backup_restore.measure(
        postgres.dsn(database), postgres.dsn("postgres", driver="postgresql"), database, postgres.bin_dir, work_dir
    )
    return "\n".join(backup_restore.rows(result, loaded.people, f"{datetime.now(UTC):%Y-%m-%d %H:%M}"))
