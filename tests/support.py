"""What the cross-service tests share: the running system and small waiting helpers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, urljoin, urlparse

import asyncpg
import httpx
import jwt
import nats
from keycloak import KeycloakAdmin
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from qlcb_common.days import VIETNAM
from qlcb_common.events import streams
from qlcb_common.settings import Environment, api_audience
from qlcb_devstack.accounts import Account, ensure_user, password_token
from qlcb_devstack.probes import http_ok
from qlcb_devstack.procs import ManagedProcess, free_ports, wait_until
from qlcb_devstack.realm import dev_overlay_file, realm_file
from qlcb_devstack.stack import START_ORDER, Infra, ServiceStack
from qlcb_identity.credential_mail import code_in
from qlcb_identity.realm.admin import realm_sync
from qlcb_identity.realm.sync import RealmSync
from qlcb_identity.settings import KeycloakAdminSettings

T = TypeVar("T")

EVERY_API = tuple(api_audience(service) for service in START_ORDER)
"""The audiences of the five APIs: what the realm's login clients put into a user's tokens."""

RETIRED_AUDIENCE = "qlcb-api"
"""The one audience every API once shared; tests use it as a wrong audience, none accepts it."""

REDIRECT_URI = "http://localhost:9/callback"


def unique_code(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


async def new_sub_unit(system: System, parent_id: str, name: str = "Chi cục kiểm thử tài khoản") -> dict[str, str]:
    """A sub-unit made by the system admin under `parent_id`: its id, path and the rest as the API gives them."""
    async with api_client(system.gateway_url, system.token("quantri")) as admin:
        unit = await admin.post(
            "/v1/units",
            json={"code": unique_code("DS"), "name": name, "kind": "sub_unit", "parent_id": parent_id},
        )
    assert unit.status_code == 201, unit.text
    made: dict[str, str] = unit.json()
    return made


def person_body(unit_id: str, full_name: str, *, sex: str = "male", born: str = "1988-05-19") -> dict[str, str]:
    """A valid new record for `POST /v1/persons`, with a fresh personal id and staff number."""
    return {
        "personal_id": f"{uuid.uuid4().int % 10**12:012d}",
        "staff_number": unique_code("P"),
        "full_name": full_name,
        "date_of_birth": born,
        "sex": sex,
        "unit_id": unit_id,
    }


async def eventually(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *, timeout: float, what: str) -> T:
    """Polls `probe` until `accept` holds for its result; fails naming `what` and the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if accept(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {result!r}")
        await asyncio.sleep(0.1)


async def sessions_waiting_on_locks(dsn: str, database: str, *, advisory: bool = False) -> int:
    """How many sessions of `database` wait on a lock now (only on an advisory lock, if asked)."""
    connection = await asyncpg.connect(dsn)
    try:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"
        if advisory:
            query += " AND wait_event = 'advisory'"
        return int(await connection.fetchval(query, database))
    finally:
        await connection.close()


def handover_day() -> str:
    """Today in Vietnam: the day a purpose account's hand-over or release is recorded for, the only
    one identity takes (ADR 0047)."""
    return datetime.now(VIETNAM).date().isoformat()


async def handed_over_on(system: System, account_id: str, day: date) -> None:
    """Identity's current holding of the account moved back to begin on `day`, and the holding it
    followed to end then, as if handed over that day: a hand-over is recorded only on its day (ADR
    0047), so a history of several holders is made a hand-over at a time, each moved back.
    Personnel's copy of the history is left as identity's events told it."""
    connection = await asyncpg.connect(system.postgres_dsn("identity"))
    try:
        async with connection.transaction():
            await connection.execute(
                "UPDATE holder_assignments SET valid_to = $2 WHERE account_id = $1 AND valid_to = "
                "(SELECT valid_from FROM holder_assignments WHERE account_id = $1 AND valid_to IS NULL)",
                account_id,
                day,
            )
            moved = await connection.execute(
                "UPDATE holder_assignments SET valid_from = $2 WHERE account_id = $1 AND valid_to IS NULL",
                account_id,
                day,
            )
    finally:
        await connection.close()
    assert moved == "UPDATE 1", moved


async def handed_over(
    identity: httpx.AsyncClient, account_id: str, holder: dict[str, str], *, timeout: float = 30
) -> httpx.Response:
    """A purpose account handed to a holder whose record personnel has just created: identity learns
    of it from personnel's event and asks to wait (409) until then."""

    async def hand_over() -> httpx.Response:
        return await identity.post(f"/v1/purpose-accounts/{account_id}/holders", json=holder)

    return await eventually(
        hand_over, lambda r: r.status_code != 409, timeout=timeout, what="identity to know the holder's record"
    )


async def mailed_code(system: System, recipient: str, *, after: int = 0, timeout: float = 30) -> str:
    """The first-login code in the mail to `recipient` that follows its first `after` mails."""

    async def mails() -> int:
        return len(system.infra.mail.messages_to(recipient))

    await eventually(mails, lambda count: count > after, timeout=timeout, what=f"a mail to {recipient}")
    code = code_in(system.infra.mail.messages_to(recipient)[after])
    assert code is not None, "the mail carries a code"
    return code


def keycloak_admin_api(system: System, token: str) -> httpx.AsyncClient:
    """Keycloak's own admin REST API of the qlcb realm, called with `token` (skipping identity)."""
    return httpx.AsyncClient(
        base_url=f"{system.infra.keycloak.base_url}/admin/realms/qlcb",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


async def claim_credential(system: System, code: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=system.services.identity_url, timeout=30) as anonymous:
        return await anonymous.post("/v1/credentials", json={"token": code})


async def metric_value(system: System, service: str, sample: str, labels: dict[str, str]) -> float:
    """The value of one sample on a service's /metrics, 0 when it has not been exported yet."""
    return await metric_at(system.services.ops_url(service), sample, labels)


async def metric_at(base_url: str, sample: str, labels: dict[str, str]) -> float:
    """The value of one sample on the /metrics at `base_url`, 0 when it has not been exported yet."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as ops:
        text = (await ops.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == sample and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


async def wait_for_headcount(api: httpx.AsyncClient, unit_id: str, expected: int, *, timeout: float = 60) -> int:
    async def probe() -> int:
        response = await api.get(f"/v1/units/{unit_id}/headcount")
        return int(response.json()["headcount"]) if response.status_code == 200 else -1

    return await eventually(probe, lambda n: n >= expected, timeout=timeout, what=f"headcount {expected}")


async def consumer_behind(system: System, consumer: str) -> int:
    """The messages of personnel's stream the consumer has yet to apply: pending or unacknowledged."""
    user, password = system.infra.nats.credentials("ops")
    bus = await nats.connect(
        system.infra.nats.url, user=user, password=password, allow_reconnect=False, connect_timeout=5
    )
    try:
        info = await bus.jetstream().consumer_info(streams.PERSONNEL.name, consumer)
    finally:
        await bus.close()
    return int(info.num_pending or 0) + int(info.num_ack_pending or 0)


async def caught_up(system: System, consumer: str, *, timeout: float = 60) -> None:
    """Waits until the consumer has applied every event personnel has committed so far: the relay
    has published them all, and the consumer has none pending or unacknowledged."""
    await eventually(system.services.outbox_pending, lambda n: n == 0, timeout=timeout, what="an empty outbox")
    await eventually(
        lambda: consumer_behind(system, consumer), lambda n: n == 0, timeout=timeout, what=f"{consumer} to catch up"
    )


@dataclass
class System:
    infra: Infra
    services: ServiceStack
    unit_ids: dict[str, str]
    passwords: dict[str, str]
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def root_unit_id(self) -> str:
        return self.unit_ids["TCHQ"]

    @property
    def gateway_url(self) -> str:
        return self.services.gateway_url

    def postgres_dsn(self, database: str) -> str:
        assert self.infra.postgres is not None, "the test system runs on PostgreSQL"
        return self.infra.postgres.dsn(database, driver="postgresql")

    def token(self, username: str) -> str:
        """A fresh-enough access token of a seeded account (tokens live five minutes)."""
        cached = self._tokens.get(username)
        if cached and cached[1] > time.monotonic() + 60:
            return cached[0]
        token = password_token(self.infra.keycloak.base_url, username, self.passwords[username])
        self._tokens[username] = (token, time.monotonic() + 240)
        return token


def identity_settings(system: System) -> KeycloakAdminSettings:
    """How identity reaches Keycloak in the test system: its own client of the realm, whose secret
    the installer (devstack) read, and the realm file with the development overlay."""
    return KeycloakAdminSettings(
        QLCB_ENVIRONMENT=Environment.DEVELOPMENT,  # devstack's Keycloak speaks http
        keycloak_url=system.infra.keycloak.base_url,  # type: ignore[arg-type]
        keycloak_client_secret=SecretStr(system.infra.identity_client_secret),
        realm_file=realm_file(),
        realm_overlays=[dev_overlay_file()],
    )


def identity_realm_sync(system: System) -> RealmSync:
    """The realm sync as identity runs it, with identity's own client."""
    return realm_sync(identity_settings(system))


def audience_mapper(audience: str) -> dict[str, object]:
    """A client's protocol mapper putting `audience` into its access tokens, as the realm file's do."""
    return {
        "name": f"audience {audience}",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "config": {"included.custom.audience": audience, "access.token.claim": "true"},
    }


def api_audiences(token: str) -> set[str]:
    """The QLCB APIs an access token is meant for: the `qlcb-` audiences of its `aud` claim."""
    aud = jwt.decode(token, options={"verify_signature": False}).get("aud", [])
    return {a for a in ([aud] if isinstance(aud, str) else aud) if a.startswith("qlcb-")}


def password_client(
    admin: KeycloakAdmin, client_id: str, audiences: Sequence[str], *, lifespan: int | None = None
) -> None:
    """A throwaway public client with the password grant whose tokens are meant for `audiences`."""
    payload: dict[str, object] = {
        "clientId": client_id,
        "publicClient": True,
        "directAccessGrantsEnabled": True,
        "standardFlowEnabled": False,
        "protocolMappers": [audience_mapper(audience) for audience in audiences],
    }
    if lifespan is not None:
        payload["attributes"] = {"access.token.lifespan": str(lifespan)}
    admin.create_client(payload, skip_exists=True)


def authorization_request() -> tuple[dict[str, str], str]:
    """The gateway client's authorization-code request with PKCE: its query and its verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "client_id": "qlcb-gateway",
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return params, verifier


def browser_client() -> httpx.Client:
    """An HTTP client that keeps Keycloak's cookies as a browser does on http://localhost
    (Keycloak marks them Secure; browsers still send them there, httpx would not)."""

    def like_a_browser(response: httpx.Response) -> None:
        for cookie in browser.cookies.jar:
            cookie.secure = False

    browser = httpx.Client(timeout=30, follow_redirects=False, event_hooks={"response": [like_a_browser]})
    return browser


IDLE_CONNECTIONS = httpx.Limits(keepalive_expiry=2)
"""Idle connections are dropped before the services' HTTP server drops them (after 5 s): a request
sent on a connection the server is closing at that moment fails with a read error."""


def api_client(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30, limits=IDLE_CONNECTIONS
    )


def browser_login(
    system: System, username: str, password: str, *, idp_hint: str | None = None, new_password: str | None = None
) -> str:
    """Logs in with the gateway client as the web front end does (authorization code with PKCE),
    following the redirects a browser would and filling the login form (the brokered agency's
    with `idp_hint`), then the forced password change of a first login with `new_password`;
    returns the access token."""
    params, verifier = authorization_request()
    if idp_hint is not None:
        params["kc_idp_hint"] = idp_hint
    with browser_client() as browser:
        response = browser.get(f"{system.infra.issuer}/protocol/openid-connect/auth", params=params)
        submitted = False
        for _ in range(20):
            location = response.headers.get("location")
            if location and location.startswith(REDIRECT_URI):
                code = parse_qs(urlparse(location).query)["code"][0]
                break
            if location:
                response = browser.get(urljoin(str(response.url), location))
                continue
            assert response.status_code == 200, f"{response.url}:\n{response.text[:2000]}"
            form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            assert form, response.text[:2000]
            if submitted and new_password is not None and 'name="password-new"' in response.text:
                fields = {"password-new": new_password, "password-confirm": new_password}
                response = browser.post(html.unescape(form.group(1)), data=fields)
                new_password = None
                continue
            assert not submitted, f"unexpected page after login:\n{response.text[:3000]}"
            response = browser.post(html.unescape(form.group(1)), data={"username": username, "password": password})
            submitted = True
        else:
            raise AssertionError("the login never came back to the application")
        token = browser.post(
            f"{system.infra.issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "authorization_code",
                "client_id": "qlcb-gateway",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
    token.raise_for_status()
    access: str = token.json()["access_token"]
    return access


async def restore_by_two(
    system: System, set_id: object, suffix: str, *stores: str, reason: str = "Kiểm tra bộ sao lưu"
) -> httpx.Response:
    """A restore as R-OPS-2 has it: one system admin (quantri) asks, another (quantri2) confirms; answers
    the confirmation."""
    async with api_client(system.gateway_url, system.token("quantri")) as api:
        body = {"set_id": set_id, "stores": list(stores), "target_suffix": suffix, "reason": reason}
        requested = await api.post("/v1/restores", json=body)
    assert requested.status_code == 201, requested.text
    assert requested.json()["status"] == "requested"
    async with api_client(system.gateway_url, system.token("quantri2")) as api:
        return await api.post(f"/v1/restores/{requested.json()['id']}/confirm")


AGENCY_CLIENT, AGENCY_SECRET = "qlcb-broker", "broker-secret-for-tests"


def agency_realm(system: System, realm: str, alias: str, users: dict[str, tuple[str, str, list[str]]]) -> str:
    """A realm of the suite's Keycloak playing another agency (R-ACC-10): a confidential client for
    the broker registered as `alias`, its groups sent as the `agency_groups` claim, and `users`
    (username → password, full name, groups). Returns its issuer."""
    system.infra.keycloak_admin("master").create_realm({"realm": realm, "enabled": True}, skip_exists=True)
    agency = system.infra.keycloak_admin(realm)
    agency.create_client(
        {
            "clientId": AGENCY_CLIENT,
            "publicClient": False,
            "secret": AGENCY_SECRET,
            "standardFlowEnabled": True,
            "redirectUris": [f"{system.infra.issuer}/broker/{alias}/endpoint"],
            "protocolMappers": [
                {
                    "name": "agency groups",
                    "protocol": "openid-connect",
                    "protocolMapper": "oidc-group-membership-mapper",
                    "config": {
                        "claim.name": "agency_groups",
                        "full.path": "false",
                        "id.token.claim": "true",
                        "access.token.claim": "true",
                        "userinfo.token.claim": "true",
                    },
                }
            ],
        },
        skip_exists=True,
    )
    for username, (password, name, groups) in users.items():
        ensure_user(agency, Account(username, password, "offline_access", None, name))
        user_id = agency.get_user_id(username)
        assert user_id is not None
        for group in groups:
            agency.create_group({"name": group}, skip_exists=True)
            agency.group_user_add(user_id, agency.get_group_by_path(f"/{group}")["id"])
    return f"{system.infra.keycloak.base_url}/realms/{realm}"


def agency_registration(
    issuer: str, alias: str, display_name: str, group: str, unit_path: str, *tiers: str
) -> dict[str, object]:
    """Identity's body registering the agency under `alias`, its `group` mapped to each tier in the unit."""
    return {
        "alias": alias,
        "display_name": display_name,
        "issuer": issuer,
        "client_id": AGENCY_CLIENT,
        "client_secret": AGENCY_SECRET,
        "mappings": [
            {"claim": "agency_groups", "value": group, "tier": tier, "unit_path": unit_path} for tier in tiers
        ],
    }


@dataclass(frozen=True)
class Beside:
    """A second process of a gRPC service, like the suite's and on the same store, with settings of
    its own (a sector's rule, an operator's folder): not started yet."""

    process: ManagedProcess
    target: str  # its gRPC address
    ops_url: str


def beside(system: System, service: str, settings: Mapping[str, str], log_dir: Path) -> Beside:
    """`service` as the suite runs it, with `settings` (QLCB_<SERVICE>_… variables) over its
    environment, on ports of its own."""
    suites = system.services.processes[service]
    assert suites.env is not None
    grpc_port, ops_port = free_ports(2)
    prefix = f"QLCB_{service.upper()}_"
    env = suites.env | dict(settings) | {f"{prefix}GRPC_PORT": str(grpc_port), f"{prefix}OPS_PORT": str(ops_port)}
    process = ManagedProcess(f"{service}-beside", suites.argv, log_dir=log_dir, env=env)
    return Beside(process, f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{ops_port}")


@contextmanager
def running_beside(system: System, service: str, settings: Mapping[str, str], log_dir: Path) -> Iterator[str]:
    """`beside`, started and ready for the block; its gRPC address. Stopped after it."""
    second = beside(system, service, settings, log_dir)
    second.process.start()
    try:
        wait_until(
            lambda: http_ok(f"{second.ops_url}/readyz"),
            timeout=60,
            what=f"a second {service} to be ready",
            process=second.process,
        )
        yield second.target
    finally:
        second.process.stop()
