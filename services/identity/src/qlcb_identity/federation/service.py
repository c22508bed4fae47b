"""Registers another agency's OIDC provider in Keycloak with claim → tier and unit mappers, and
keeps every partner's mappers clear of the tiers no partner may be given (UNMAPPABLE_TIERS)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from keycloak import KeycloakAdmin, urls_patterns
from keycloak.exceptions import KeycloakDeleteError, KeycloakError, raise_error_from_response

from qlcb_common.errors import AlreadyExists, InvalidArgument
from qlcb_common.shutdown import Stopping
from qlcb_identity.federation.schemas import UNMAPPABLE_TIERS, AgencyCreate, refusal
from qlcb_identity.unit_groups.projection import ensure_group_path

log = structlog.get_logger(__name__)

DISCOVERED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
"""The addresses of a discovery document Keycloak calls or sends users to."""


def _https(url: str) -> bool:
    return urlsplit(url).scheme.lower() == "https"


async def discover(
    issuer: str, *, allow_http: bool, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any]:
    """The agency's discovery document, read over https (plain http only with `allow_http`, a
    development setting) and naming only https endpoints; `transport` only in unit tests."""
    if not allow_http and not _https(issuer):
        raise InvalidArgument.single("issuer", "Issuer của cơ quan khác phải dùng https")
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=10, transport=transport) as client:
            response = await client.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise InvalidArgument.single("issuer", f"Không đọc được cấu hình OpenID của {url}: {exc}") from exc
    if document.get("issuer") != issuer.rstrip("/"):
        raise InvalidArgument.single("issuer", f"Nhà cung cấp tự khai issuer {document.get('issuer')!r}")
    plain = [key for key in DISCOVERED_ENDPOINTS if document.get(key) and not _https(str(document[key]))]
    if plain and not allow_http:
        raise InvalidArgument.single(
            "issuer", f"Cấu hình OpenID của {url} nêu địa chỉ không dùng https: {', '.join(plain)}"
        )
    return document


def register(admin: KeycloakAdmin, agency: AgencyCreate, discovery: dict[str, Any]) -> None:
    """Creates the identity provider and its mappers; refuses an alias already in use."""
    if any(idp["alias"] == agency.alias for idp in admin.get_idps()):
        raise AlreadyExists(f"alias: cơ quan {agency.alias} đã được đăng ký")
    admin.create_idp(
        {
            "alias": agency.alias,
            "displayName": agency.display_name,
            "providerId": "oidc",
            "enabled": True,
            "trustEmail": False,
            "storeToken": False,
            "firstBrokerLoginFlowAlias": "first broker login",
            "config": {
                "issuer": discovery["issuer"],
                "authorizationUrl": discovery["authorization_endpoint"],
                "tokenUrl": discovery["token_endpoint"],
                "userInfoUrl": discovery.get("userinfo_endpoint", ""),
                "jwksUrl": discovery["jwks_uri"],
                "useJwksUrl": "true",
                "validateSignature": "true",
                "clientId": agency.client_id,
                "clientSecret": agency.client_secret,
                "clientAuthMethod": "client_secret_post",
                "defaultScope": "openid profile email",
                "pkceEnabled": "true",
                "pkceMethod": "S256",
                "syncMode": "FORCE",
            },
        }
    )
    try:
        for n, mapping in enumerate(agency.mappings, start=1):
            ensure_group_path(admin, mapping.unit_path)
            admin.add_mapper_to_idp(
                agency.alias,
                {
                    "name": f"{n} tier {mapping.tier.value}",
                    "identityProviderAlias": agency.alias,
                    "identityProviderMapper": "oidc-role-idp-mapper",
                    "config": {
                        "claim": mapping.claim,
                        "claim.value": mapping.value,
                        "role": mapping.tier.value,
                        "syncMode": "FORCE",
                    },
                },
            )
            admin.add_mapper_to_idp(
                agency.alias,
                {
                    "name": f"{n} unit {mapping.unit_path}",
                    "identityProviderAlias": agency.alias,
                    "identityProviderMapper": "oidc-advanced-group-idp-mapper",
                    "config": {
                        "claims": json.dumps([{"key": mapping.claim, "value": mapping.value}]),
                        "are.claim.values.regex": "false",
                        "group": mapping.unit_path,
                        "syncMode": "FORCE",
                    },
                },
            )
    except KeycloakError:
        admin.delete_idp(agency.alias)
        raise


def forbidden_mappers(admin: KeycloakAdmin) -> list[tuple[str, dict[str, Any]]]:
    """Every mapper of every identity provider of the realm that gives a tier no partner may have,
    whatever its kind (a claim's role, a hardcoded role, …), with the provider's alias."""
    return [
        (idp["alias"], mapper)
        for idp in admin.get_idps()
        for mapper in admin.get_idp_mappers(idp["alias"])
        if (mapper.get("config") or {}).get("role") in UNMAPPABLE_TIERS
    ]


def remove_forbidden_mappers(admin: KeycloakAdmin) -> None:
    """Deletes the forbidden mappers (one added or changed on Keycloak's console or admin API) and
    takes back what each gave. Keycloak's admin event of each change reaches the audit log, naming
    identity's client."""
    for alias, mapper in forbidden_mappers(admin):
        role = mapper["config"]["role"]
        path = urls_patterns.URL_ADMIN_IDP_MAPPER_UPDATE.format(
            **{"realm-name": admin.connection.realm_name, "idp-alias": alias, "mapper-id": mapper["id"]}
        )
        raise_error_from_response(admin.connection.raw_delete(path), KeycloakDeleteError, expected_codes=[204])
        log.warning("partner mapper removed", audit=True, agency=alias, mapper=mapper["name"], reason=refusal(role))
        _take_back(admin, alias, role)


def _take_back(admin: KeycloakAdmin, alias: str, role: str) -> None:
    """Takes `role` from the agency's users who hold it and ends their sessions: a login while the
    mapper was in place gave it, and Keycloak keeps a role that no mapper gives any more."""
    for user in admin.get_users({"idpAlias": alias}):
        held = [r for r in admin.get_realm_roles_of_user(user["id"]) if r["name"] == role]
        if held:
            admin.delete_realm_roles_of_user(user["id"], held)
            admin.user_logout(user["id"])
            log.warning(
                "partner user's tier taken back", audit=True, agency=alias, username=user["username"], tier=role
            )


async def keep_partner_mappers(admin: Callable[[], KeycloakAdmin], interval: float, stopping: Stopping) -> None:
    """Removes forbidden partner mappers every `interval` seconds, for as long as identity runs."""
    while not stopping.is_set():
        try:
            await asyncio.to_thread(remove_forbidden_mappers, admin())
        except Exception as exc:
            log.warning("cannot check partner agencies' mappers", error=repr(exc))
        await stopping.sleep(interval)
