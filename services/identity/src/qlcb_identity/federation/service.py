"""Registers another agency's OIDC provider in Keycloak with claim → tier and unit mappers."""

from __future__ import annotations

import json
from typing import Any

import httpx
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from qlcb_common.errors import AlreadyExists, InvalidArgument
from qlcb_identity.federation.schemas import AgencyCreate
from qlcb_identity.unit_groups.projection import ensure_group_path


async def discover(issuer: str) -> dict[str, Any]:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise InvalidArgument.single("issuer", f"Không đọc được cấu hình OpenID của {url}: {exc}") from exc
    if document.get("issuer") != issuer.rstrip("/"):
        raise InvalidArgument.single("issuer", f"Nhà cung cấp tự khai issuer {document.get('issuer')!r}")
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
