"""`make up`: the whole system on this machine on embedded defaults (Keycloak dev mode,
local NATS, SQLite stores), seeded with the demo organisation. Each run starts afresh, on the
same ports (`ports.StackPorts`), so the addresses it prints stay the same."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import ValidationError

from qlcb_devstack import demo, records
from qlcb_devstack.ports import ENV_PREFIX, StackPorts
from qlcb_devstack.report_seed import REGIME_CODE, seed_reports
from qlcb_devstack.seed import seed_accounts, seed_organisation
from qlcb_devstack.stack import REALM, ServiceStack, start_infra
from qlcb_devstack.state import state_dir


def run_up(run_dir: Path | None = None, *, tls: bool = False) -> int:
    try:
        ports = StackPorts()
        size = demo.DemoSize()
    except ValidationError as error:
        print(f"Cannot start: the {ENV_PREFIX}* settings are wrong: {error}", file=sys.stderr, flush=True)
        return 1
    taken = ports.taken()
    for problem in taken:
        print(f"Cannot start: {problem}", file=sys.stderr, flush=True)
    if len(taken) == len(StackPorts.model_fields):
        print("Every port of make up is taken: is another make up running?", file=sys.stderr, flush=True)
    if taken:
        return 1
    run_dir = run_dir or state_dir() / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    print("Starting Keycloak, NATS and the five services (the first start takes a few minutes)…", flush=True)
    infra = start_infra(run_dir, ports, with_postgres=False, tls=tls)
    # The demo's records are taken in at start: their recruitments, all by the demo's reference day,
    # are history, not late new records (R-PER-4). A setting of the caller's own wins.
    first_new_record = records.REFERENCE_DAY + timedelta(days=1)
    os.environ.setdefault("QLCB_PERSONNEL_DEADLINE_NEW_RECORDS_FROM", first_new_record.isoformat())
    services = ServiceStack(infra, run_dir, tls=tls)
    try:
        services.start_all()
        seed_accounts(infra.keycloak_admin())
        print(f"Seeding the demo organisation ({len(demo.UNITS)} units, {size.demo_people} people)…", flush=True)
        began = time.monotonic()
        unit_ids = seed_organisation(services.gateway_url, infra.keycloak.base_url, persons=size.demo_people)
        print(f"Seeding the report regime {REGIME_CODE} with reports in every state…", flush=True)
        today = datetime.now(timezone(timedelta(hours=7))).date()  # Vietnam's day: the periods' months
        seed_reports(services.gateway_url, infra.keycloak.base_url, unit_ids, today=today)
        _print_banner(services, size.demo_people, time.monotonic() - began, unit_ids[demo.UNITS[0].code])
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        signal.sigwait(stop_signals)
        print("\nStopping…", flush=True)
    finally:
        services.stop_all()
        infra.stop()
    return 0


def _print_banner(services: ServiceStack, people: int, seeding_seconds: float, root_unit_id: str) -> None:
    infra = services.infra
    kc = infra.keycloak.base_url
    statistics = f"{services.gateway_url}/v1/statistics"
    lines = [
        "",
        "QLCB — Hệ thống Quản lý cán bộ tập trung is running.",
        "",
        f"  Web (đăng nhập)      {services.gateway_url}/web/",
        f"  REST API (OpenAPI)   {services.gateway_url}/docs",
        f"  Identity             {services.identity_url}/docs",
        f"  Keycloak account     {kc}/realms/{REALM}/account",
        f"  Keycloak admin       {kc}/admin",
        f"                       user {infra.keycloak.admin_user}, password {infra.keycloak.admin_password}",
        f"  NATS                 {infra.nats.url}",
        *_tls_lines(services),
        f"  Thư gửi đi           {infra.mail.maildir}  (SMTP {infra.mail.host}:{infra.mail.port}: mã nhận",
        "                       mật khẩu lần đầu gửi người giữ tài khoản; each message is a file)",
        f"  Logs and data        {services.run_dir}",
        "",
        f"Demo organisation: {len(demo.UNITS)} units, {people} people with whole records "
        f"(seeded through the API in {seeding_seconds:.0f} s).",
        "",
        "Demo logins (one per tier; password for all: " + demo.DEMO_PASSWORD + "):",
    ]
    for account in demo.accounts():
        granted = f"  (phần hồ sơ được giao: {', '.join(account.sections)})" if account.sections else ""
        lines.append(f"  {account.username:<16} {account.tier:<14} {account.unit_path}{granted}")
    lines += [
        "",
        "Get a token and call the API, e.g.:",
        "  TOKEN=$(curl -s -d grant_type=password -d client_id=qlcb-cli -d username=quantri \\",
        f"      -d 'password={demo.DEMO_PASSWORD}' {kc}/realms/{REALM}/protocol/openid-connect/token \\",
        "      | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
        f'  curl -H "Authorization: Bearer $TOKEN" {services.gateway_url}/v1/me',
        "The sector's BM01 (số lượng, chất lượng công chức) as of today, as a spreadsheet, and BM03",
        "(danh sách và tiền lương) as PDF (the counts follow the seeding's events within a minute or so):",
        f'  curl -H "Authorization: Bearer $TOKEN" "{statistics}/BM01?unit={root_unit_id}"',
        f'  curl -OJ -H "Authorization: Bearer $TOKEN" "{statistics}/BM01/export?unit={root_unit_id}"',
        f'  curl -OJ -H "Authorization: Bearer $TOKEN" "{statistics}/BM03/export?unit={root_unit_id}&format=pdf"',
        "",
        "Press Ctrl+C to stop.",
    ]
    print("\n".join(lines), flush=True)


def _tls_lines(services: ServiceStack) -> list[str]:
    """With --tls: the throwaway CAs a client needs to trust (and the client certificates)."""
    bus = services.infra.nats.tls
    if services.tls is None or bus is None:
        return []
    return [
        f"  TLS CA               {services.tls.ca}  (gRPC and identity; client certificate",
        f"                       {services.tls.client_cert})",
        f"  NATS TLS CA          {bus.ca}  (client certificate {bus.client_cert})",
    ]
