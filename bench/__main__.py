"""`make bench`: starts the real stack on PostgreSQL, runs every benchmark, writes docs/benchmarks.md."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import event_latency, grpc_call, issuance, relay, token_verify
from bench.stats import Latency
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.keycloak import KeycloakServer
from qlcb_devstack.mail import MailSink
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.postgres import PostgresCluster
from qlcb_devstack.seed import seed_accounts
from qlcb_devstack.stack import DATABASES, Infra, ServiceStack
from qlcb_devstack.state import repo_root, state_dir

SERVERS = {
    "bare": "bare `grpc.aio`",
    "ours": "shared interceptor",
    "ours_cached": "shared interceptor, token verified once",
}


def _step(what: str) -> None:
    print(f"[bench] {what}", file=sys.stderr, flush=True)  # noqa: T201


def _grpc_rows(calls: dict[str, tuple[Latency, Latency]]) -> list[str]:
    rows = []
    for index, mode in enumerate(("sequential", f"{grpc_call.WORKERS} concurrent")):
        bare = calls["bare"][index]
        for kind, label in SERVERS.items():
            ours = calls[kind][index]
            rows.append(
                f"| {mode} | {label} | {ours.p50_ms:.3f} | {ours.p99_ms:.3f} | {ours.per_second:,.0f} "
                f"| {ours.p50_ms / bare.p50_ms:.2f} | {ours.per_second / bare.per_second:.2f} |"
            )
    return rows


def _lag_rows(lag: dict[str, event_latency.Phase]) -> list[str]:
    rows = []
    for name, phase in (("writes only", lag["quiet"]), ("writes + polling", lag["polled"])):
        lead = f"| {name} | {phase.achieved_rate:.1f} | {phase.write_p50_ms:.1f}"
        rows.append(
            f"{lead} | lag histogram (occurred_at → reports' commit) | {phase.histogram_events} "
            f"| {phase.histogram_p50_ms:.1f} | {phase.histogram_p99_ms:.1f} | — |"
        )
        t = phase.stamps
        rows.append(
            f"{lead} | row stamps: occurred_at → reports' inbox row | {t.events} | {t.inbox_p50_ms:.1f} "
            f"| {t.inbox_p99_ms:.1f} | {t.inbox_max_ms:.1f} |"
        )
        rows.append(
            f"{lead} | row stamps: occurred_at → relay's batch acked | {t.events} | {t.acked_p50_ms:.1f} "
            f"| {t.acked_p99_ms:.1f} | — |"
        )
        if phase.direct is not None:
            d = phase.direct
            rows.append(
                f"{lead} | client, reply → counted (poll every {d.poll_interval_ms:.1f} ms) | {d.events} "
                f"| {d.p50_ms:.1f} | {d.p99_ms:.1f} | {d.max_ms:.1f} |"
            )
    return rows


def _start_infra(run_dir: Path) -> Infra:
    """devstack's `start_infra` with PostgreSQL, except that what has started is stopped again
    when a later step fails (devstack's leaves it running)."""
    postgres = PostgresCluster(data_dir=run_dir / "postgres")
    infra = Infra(
        keycloak=KeycloakServer(data_dir=run_dir / "keycloak"),
        nats=NatsServer(data_dir=run_dir / "nats"),
        postgres=postgres,
        mail=MailSink(data_dir=run_dir / "mail"),
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
    except BaseException:
        infra.stop()
        raise
    return infra


async def _run() -> str:
    began = time.monotonic()
    run_dir = state_dir() / "bench-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    _step("starting Keycloak, NATS and PostgreSQL")
    infra = _start_infra(run_dir)
    services = ServiceStack(infra, run_dir)
    try:
        if infra.postgres is None:
            raise RuntimeError("the benchmarks need PostgreSQL")
        _step("starting the services")
        services.start_all()
        passwords = seed_accounts(infra.keycloak_admin())

        def admin_token() -> str:
            return password_token(infra.keycloak.base_url, "quantri", passwords["quantri"])

        token = admin_token()
        async with httpx.AsyncClient(base_url=services.gateway_url, timeout=30) as api:
            unit = await api.post(
                "/v1/units",
                json={"code": "BENCH", "name": "Đơn vị đo hiệu năng", "kind": "general_department"},
                headers={"Authorization": f"Bearer {token}"},
            )
            unit.raise_for_status()
        _step("token verification")
        verify = await token_verify.measure(infra.issuer, token)
        _step("authenticated gRPC call")
        calls = await grpc_call.measure(infra.issuer, token)
        _step("outbox relay")
        infra.postgres.create_database("bench_outbox")
        throughput = await relay.measure(
            infra.nats.url, infra.nats.credentials("ops"), infra.postgres.dsn("bench_outbox")
        )
        _step("account issuance")
        steps = []
        for account in (
            Account("bench.officer", "Đo hiệu năng 2026", "local-officer", "/BENCH", "Lê Văn Đề"),
            Account("bench.leader", "Đo hiệu năng 2026", "unit-leader", "/BENCH", "Lý Văn Đo"),
            Account("bench.admin", "Đo hiệu năng 2026", "local-admin", "/BENCH", "Lâm Văn Duyệt"),
        ):
            ensure_user(infra.keycloak_admin(), account)
            steps.append(password_token(infra.keycloak.base_url, account.username, account.password))
        issue = await issuance.measure(
            services.identity_url,
            issuance.Signers(steps[0], steps[1], steps[2], admin_token()),
            "/BENCH",
            infra.keycloak_admin(),
            infra.mail,
        )
        _step(f"event latency (twice {event_latency.RATE} writes/s for {event_latency.SECONDS} s)")
        lag = await event_latency.measure(
            services.personnel_target,
            services.grpc_target("reports"),
            services.ops_url("reports"),
            services.database_urls,
            admin_token(),
            unit.json()["id"],
        )
    finally:
        _step("stopping everything")
        services.stop_all()
        infra.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    ours_seq, ours_conc = calls["ours"]
    bare_seq, bare_conc = calls["bare"]
    return "\n".join(
        [
            "# Benchmarks",
            "",
            f"Generated by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {platform.machine()}. Real Keycloak, NATS JetStream and "
            "PostgreSQL on this machine, started by devstack for the run; each of our paths is measured beside "
            f"a raw baseline in the same run. The whole run took {time.monotonic() - began:.0f} s. Absolute "
            "figures depend on the machine; the ratios are the point.",
            "",
            "## Summary",
            "",
            "| measurement | ours | baseline | ratio |",
            "|---|---|---|---|",
            f"| authenticated gRPC call, sequential, p50 | {ours_seq.p50_ms:.3f} ms | {bare_seq.p50_ms:.3f} ms "
            f"| {ours_seq.p50_ms / bare_seq.p50_ms:.2f} |",
            f"| authenticated gRPC call, sequential, throughput | {ours_seq.per_second:,.0f} calls/s "
            f"| {bare_seq.per_second:,.0f} calls/s | {ours_seq.per_second / bare_seq.per_second:.2f} |",
            f"| authenticated gRPC call, {grpc_call.WORKERS} concurrent, p50 | {ours_conc.p50_ms:.3f} ms "
            f"| {bare_conc.p50_ms:.3f} ms | {ours_conc.p50_ms / bare_conc.p50_ms:.2f} |",
            f"| authenticated gRPC call, {grpc_call.WORKERS} concurrent, throughput | "
            f"{ours_conc.per_second:,.0f} calls/s | {bare_conc.per_second:,.0f} calls/s "
            f"| {ours_conc.per_second / bare_conc.per_second:.2f} |",
            f"| event latency, commit to projection, p50 / p99 (lag histogram; exact from row stamps) "
            f"| {lag['quiet'].histogram_p50_ms:.1f} / {lag['quiet'].histogram_p99_ms:.1f} ms; "
            f"{lag['quiet'].stamps.inbox_p50_ms:.1f} / {lag['quiet'].stamps.inbox_p99_ms:.1f} ms | — | — |",
            f"| outbox relay throughput | {throughput['ours_per_s']:,.0f} msgs/s "
            f"| {throughput['bare_per_s']:,.0f} msgs/s | {throughput['ratio']:.2f} |",
            "",
            "## Bearer-token verification",
            "",
            "The shared `TokenVerifier` (cached JWKS, RS256, issuer, audience, expiry) against a bare "
            f"`jwt.decode` with the same key and checks, {token_verify.N} times each. Target: ratio ≤ 1.2.",
            "",
            "| bare PyJWT µs/token | TokenVerifier µs/token | ratio |",
            "|---|---|---|",
            f"| {verify['bare_us']:.1f} | {verify['ours_us']:.1f} | {verify['ratio']:.2f} |",
            "",
            "## Authenticated trivial gRPC call",
            "",
            "A 64-byte echo (`/bench.Echo/Echo`, generic handler) served in a separate process by a bare "
            "`grpc.aio` server, and by a server with the shared `ServiceInterceptor` wired as "
            "`grpc_runtime.serve` wires it (token verification against the real Keycloak issuer, RED metrics, "
            "error mapping), called with a real Keycloak access token. The third server is the same interceptor "
            "with a verifier that checks the token once and then trusts it: the gap between it and the second "
            f"is the per-call RS256 verification. After {grpc_call.WARMUP} warm-up calls: "
            f"{grpc_call.SEQUENTIAL} sequential calls, then {grpc_call.CONCURRENT} calls from "
            f"{grpc_call.WORKERS} concurrent callers on one channel. Ratios are to the bare server.",
            "",
            "| mode | server | p50 ms | p99 ms | calls/s | p50 ratio | throughput ratio |",
            "|---|---|---|---|---|---|---|",
            *_grpc_rows(calls),
            "",
            "## Event latency, commit to projection",
            "",
            f"{event_latency.RATE} `CreatePerson` calls per second for {event_latency.SECONDS} s through "
            f"personnel's gRPC API on PostgreSQL, each time after {event_latency.WARMUP_SECONDS} s of uncounted "
            "writes at the same rate (the first events a fresh process handles are markedly slower), twice. "
            "Three views of each event: the reports service's "
            "`qlcb_event_lag_seconds` histogram, from the envelope's `occurred_at` (stamped inside personnel's "
            "transaction) to the commit of its effect in reports, its percentiles interpolated within the "
            "buckets (bounds at 5, 10, 25, 50 ms, so coarse); the same span read exactly, after the run, from "
            "the rows both services wrote (outbox `created_at` to reports' inbox `processed_at`, written just "
            "before the consumer commits), and, as the relay's share, to the outbox row's `published_at` (its "
            "batch acknowledged by JetStream; the consumer may be done before that stamp). In the second run "
            "the client also measures from the receipt of each `CreatePerson` reply to the first `GetHeadcount` "
            "of reports that counts the person, polling back to back with one call in flight (resolution: the "
            "poll interval); that polling loads reports while it consumes, so the first run is the headline.",
            "",
            "| run | achieved writes/s | CreatePerson p50 ms | view | events | p50 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|---|---|",
            *_lag_rows(lag),
            "",
            "## Outbox relay throughput",
            "",
            f"{relay.N} envelopes of the same size: a bare nats-py loop publishing them to a scratch JetStream "
            f"stream in `asyncio.gather` batches of {relay.BATCH} (awaiting acks, with `Nats-Msg-Id`), against "
            "`OutboxRelay.publish_batch()` called until it returns 0 over the same number of rows staged with "
            "`Outbox.add` in PostgreSQL: each batch claims rows (`FOR UPDATE SKIP LOCKED`), publishes them the "
            "same way and marks them published in one transaction. The last column is the relay over the same "
            "rows again with a publisher that acknowledges at once: its database work alone. A batch's claim, "
            "publish and mark run one after the other, so the relay's time per batch is about the sum of the two.",
            "",
            "| bare publish msgs/s | relay msgs/s | ratio | relay, no-op publisher, msgs/s |",
            "|---|---|---|---|",
            f"| {throughput['bare_per_s']:,.0f} | {throughput['ours_per_s']:,.0f} | {throughput['ratio']:.2f} "
            f"| {throughput['database_only_per_s']:,.0f} |",
            "",
            "## Account issuance, end to end",
            "",
            f"{issuance.N} accounts, each through identity's whole workflow (request, the unit head's consent, "
            "approval, issuance into Keycloak, one-time retrieval of the first-login password), against the "
            "bare Keycloak admin calls that create the same account (user, temporary password, role, group).",
            "",
            "| bare Keycloak p50 / p99 ms | workflow p50 / p99 ms | p50 ratio |",
            "|---|---|---|",
            f"| {issue['bare'].p50_ms:.0f} / {issue['bare'].p99_ms:.0f} | {issue['ours'].p50_ms:.0f} / "
            f"{issue['ours'].p99_ms:.0f} | {issue['ours'].p50_ms / issue['bare'].p50_ms:.2f} |",
            "",
        ]
    )


def main() -> None:
    report = asyncio.run(_run())
    (repo_root() / "docs" / "benchmarks.md").write_text(report, encoding="utf-8")
    print(report)  # noqa: T201


if __name__ == "__main__":
    main()
