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
