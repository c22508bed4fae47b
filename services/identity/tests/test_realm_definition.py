"""The realm file agrees with the shared authorization policy on what a local officer can be granted."""

from __future__ import annotations

from pathlib import Path

from qlcb_common.authz import GRANTABLE_SECTIONS
from qlcb_common.tiers import Tier
from qlcb_identity.account_sections.service import SECTIONS_ATTRIBUTE
from qlcb_identity.realm.definition import load

REALM_FILE = Path(__file__).resolve().parents[3] / "deploy" / "keycloak" / "realm-qlcb.json"


def test_keycloak_allows_exactly_the_grantable_sections() -> None:
    definition = load(REALM_FILE)
    (attribute,) = [a for a in definition.profile_attributes if a["name"] == SECTIONS_ATTRIBUTE]
    assert set(attribute["validations"]["options"]["options"]) == {s.value for s in GRANTABLE_SECTIONS}
    assert attribute["permissions"] == {"view": ["admin"], "edit": ["admin"]}  # holders cannot edit their own


def test_both_login_clients_put_the_sections_into_access_tokens() -> None:
    definition = load(REALM_FILE)
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
