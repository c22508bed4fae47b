"""The realm file agrees with the shared authorization policy on what a local officer can be granted,
holds nothing of development, and the development overlay adds only what `make up` and the tests need."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import ANY

from qlcb_common.authz import GRANTABLE_SECTIONS
from qlcb_common.settings import api_audience
from qlcb_common.tiers import Tier
from qlcb_identity.account_sections.service import SECTIONS_ATTRIBUTE
from qlcb_identity.realm.definition import load

REALM_DIR = Path(__file__).resolve().parents[3] / "deploy" / "keycloak"
REALM_FILE = REALM_DIR / "realm-qlcb.json"
DEV_OVERLAY = REALM_DIR / "realm-qlcb.dev-overlay.json"
APIS = {api_audience(service) for service in ("gateway", "identity", "personnel", "reports", "backup")}


def test_keycloak_allows_exactly_the_grantable_sections() -> None:
    definition = load(REALM_FILE)
    (attribute,) = [a for a in definition.profile_attributes if a["name"] == SECTIONS_ATTRIBUTE]
    assert set(attribute["validations"]["options"]["options"]) == {s.value for s in GRANTABLE_SECTIONS}
    assert attribute["permissions"] == {"view": ["admin"], "edit": ["admin"]}  # holders cannot edit their own


def test_both_login_clients_put_the_sections_into_access_tokens() -> None:
    definition = load(REALM_FILE, [DEV_OVERLAY])
    for client in definition.clients:
        if client["clientId"] not in ("qlcb-gateway", "qlcb-cli"):
            continue
        (mapper,) = [m for m in client["protocolMappers"] if m["name"] == "sections"]
        assert mapper["config"]["user.attribute"] == SECTIONS_ATTRIBUTE
        assert mapper["config"]["access.token.claim"] == "true"


def test_the_user_profile_is_not_sent_to_keycloak_as_part_of_the_realm() -> None:
    definition = load(REALM_FILE)
    assert "userProfile" not in definition.realm
    assert "userProfile" not in definition.settings


def test_tier_roles_are_not_composites() -> None:
    """ADR 0005: a wider tier must not inherit a narrower tier's duties, e.g. the unit head's consent."""
    definition = load(REALM_FILE)
    assert {r["name"] for r in definition.roles} == {t.value for t in Tier}
    assert [r["name"] for r in definition.roles if r.get("composite") or r.get("composites")] == []


def test_localization_texts_are_not_sent_to_keycloak_as_realm_settings() -> None:
    """Keycloak's realm update ignores them and its realm representation leaves them out: the realm
    sync compares and sets them through the localization endpoint; a new realm takes them as they are."""
    definition = load(REALM_FILE)
    assert "localizationTexts" not in definition.settings
    assert definition.realm["localizationTexts"] == definition.localization_texts


# Keycloak reports a broken rule of the password policy by the message key of the rule.
RULE_MESSAGES = {
    "length": "invalidPasswordMinLengthMessage",
    "notUsername": "invalidPasswordNotUsernameMessage",
    "notContainsUsername": "invalidPasswordNotContainsUsernameMessage",
    "notContainsUsernamePart": "invalidPasswordNotContainsUsernamePartMessage",
    "passwordHistory": "invalidPasswordHistoryMessage",
    "regexPattern": "invalidPasswordRegexPatternMessage",
}
NOT_A_RULE = {"forceExpiredPasswordChange"}  # expires a password; no new password breaks it
WITH_PARAMETER = {"length", "passwordHistory"}  # Keycloak passes the policy's number as {0}


def test_every_password_rule_has_its_own_message_in_each_supported_locale() -> None:
    definition = load(REALM_FILE)
    rules = {part.split("(", 1)[0] for part in definition.payload["passwordPolicy"].split(" and ")}
    assert rules - NOT_A_RULE == RULE_MESSAGES.keys()
    for locale in definition.payload["supportedLocales"]:
        texts = definition.localization_texts[locale]
        for rule, key in RULE_MESSAGES.items():
            assert key in texts, (locale, key)
            assert ("{0}" in texts[key]) == (rule in WITH_PARAMETER), (locale, key)
            # Keycloak formats the texts with MessageFormat, where a single quote starts a literal.
            assert "'" not in texts[key], (locale, key)
    regex = definition.localization_texts["vi"]["invalidPasswordRegexPatternMessage"]
    assert regex.startswith("Mật khẩu phải có ít nhất 3 trong 4 loại ký tự: chữ hoa"), "it states the rule"


def _addresses(client: dict[str, Any]) -> list[str]:
    logout = client.get("attributes", {}).get("post.logout.redirect.uris", "")
    return [*client.get("redirectUris", []), *client.get("webOrigins", []), *logout.split("##")]


def test_the_production_realm_has_no_development_client_or_address() -> None:
    """16.9: no password grant for a public client (Keycloak's own `admin-cli`, public with the
    password grant in every new realm, is turned off), no localhost address, no `+` or `*` origin,
    every audience one QLCB API by name; the web client is PKCE (S256) only."""
    clients = {c["clientId"]: c for c in load(REALM_FILE).clients}
    assert set(clients) == {"qlcb-gateway", "qlcb-identity", "qlcb-backup", "admin-cli"}
    assert clients.pop("admin-cli") == {"clientId": "admin-cli", "enabled": False}, "Keycloak's own password client"
    for client_id, client in clients.items():
        assert not (client.get("publicClient") and client.get("directAccessGrantsEnabled")), client_id
        assert not client.get("implicitFlowEnabled"), client_id
        for address in _addresses(client):
            assert "localhost" not in address, (client_id, address)
            assert "127.0.0.1" not in address, (client_id, address)
        assert not {"+", "*"} & set(client.get("webOrigins", [])), client_id
        assert all("*" not in uri for uri in client.get("redirectUris", [])), client_id
        for mapper in client.get("protocolMappers", []):
            assert mapper["protocolMapper"] != "oidc-audience-resolve-mapper", (client_id, mapper["name"])
            if mapper["protocolMapper"] == "oidc-audience-mapper":
                assert mapper["config"]["included.custom.audience"] in APIS, (client_id, mapper["name"])
    web = clients["qlcb-gateway"]
    assert web["publicClient"]
    assert web["standardFlowEnabled"]
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"
    for service in (clients["qlcb-identity"], clients["qlcb-backup"]):
        assert not service["publicClient"]
        assert service["serviceAccountsEnabled"]
        assert not service["standardFlowEnabled"]
        assert not service["directAccessGrantsEnabled"]


def test_identity_holds_only_the_admin_roles_it_uses_and_backup_none() -> None:
    """16.6: users and groups (accounts, unit groups), realm settings, roles, user profile and texts
    (the realm sync), clients (the sync), identity providers (federation), admin events (the audit log);
    never realm-admin, impersonation, authorization or the master realm. Backup holds no admin role
    at all: only its own client's role, which the realm-backup extension asks for (ADR 0025)."""
    assert load(REALM_FILE).client_roles == {"qlcb-backup": [{"name": "realm-backup", "description": ANY}]}
    assert load(REALM_FILE).service_accounts == {
        "qlcb-backup": {"qlcb-backup": ["realm-backup"]},
        "qlcb-identity": {
            "realm-management": [
                "manage-realm",
                "manage-users",
                "manage-clients",
                "manage-identity-providers",
                "view-events",
            ]
        },
    }


def test_the_development_overlay_adds_the_cli_client_and_local_addresses() -> None:
    production = {c["clientId"]: c for c in load(REALM_FILE).clients}
    development = {c["clientId"]: c for c in load(REALM_FILE, [DEV_OVERLAY]).clients}
    assert set(development) - set(production) == {"qlcb-cli"}
    cli = development["qlcb-cli"]
    assert cli["publicClient"]
    assert cli["directAccessGrantsEnabled"]
    web = development["qlcb-gateway"]
    assert web["redirectUris"] == ["http://localhost:*", "http://127.0.0.1:*"]
    assert web["webOrigins"] == ["+"]
    # Merged over the production client: everything else of it is kept.
    assert web["protocolMappers"] == production["qlcb-gateway"]["protocolMappers"]
    assert {k: v for k, v in web.items() if k not in ("redirectUris", "webOrigins")} == {
        k: v for k, v in production["qlcb-gateway"].items() if k not in ("redirectUris", "webOrigins")
    }
    assert load(REALM_FILE, [DEV_OVERLAY]).service_accounts == load(REALM_FILE).service_accounts


DEV_HASHING = " and hashAlgorithm(pbkdf2-sha256) and hashIterations(1000)"


def test_the_development_overlay_keeps_the_password_rules_and_only_hashes_cheaper() -> None:
    """ADR 0034: the same rules as production, which the tests check, with a hash that costs a
    millisecond instead of argon2's tenth of a second at every login of `make up` and the suite."""
    production = load(REALM_FILE).payload["passwordPolicy"]
    assert "hashAlgorithm" not in production, "production keeps Keycloak's default (argon2)"
    assert load(REALM_FILE, [DEV_OVERLAY]).payload["passwordPolicy"] == production + DEV_HASHING
