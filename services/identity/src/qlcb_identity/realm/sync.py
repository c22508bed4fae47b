"""Applies the realm definition to Keycloak idempotently and reports drift between them.

Only what the definition states is compared: Keycloak's own defaults and data created at
run time (users, groups, clients outside QLCB's `qlcb-` names) are left alone. A client the
definition states has exactly the protocol mappers it lists: a mapper renamed or dropped there
(an audience, say) is removed from the live client too. A `qlcb-` client it does not state (one
retired, or the development overlay's CLI client in a production realm) is removed. A client's
service account holds exactly the client roles the definition gives it (Keycloak's admin roles
for identity's own), and the roles the definition gives a client of the realm exist (backup's).
The realm's localization texts it states (the password policy's messages, say) are compared one
by one and set through Keycloak's localization endpoint, since its realm settings neither return
nor change them; other texts are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakGetError, KeycloakPostError, raise_error_from_response

from qlcb_identity.realm.definition import RealmDefinition

log = structlog.get_logger(__name__)

AdminFactory = Callable[[], KeycloakAdmin]
"""An admin API client of the defined realm: identity's own client, or an installer's master admin."""

QLCB_CLIENTS = "qlcb-"


@dataclass(frozen=True)
class Drift:
    """One difference between the definition and the live realm; `actual` None means missing,
    `expected` None means present but not in the definition."""

    kind: str
    name: str
    field: str
    expected: Any
    actual: Any

    def describe(self) -> str:
        if self.actual is None and self.field == "*":
            return f"{self.kind} {self.name}: missing"
        if self.expected is None and self.field == "*":
            return f"{self.kind} {self.name}: not in the definition"
        return f"{self.kind} {self.name}: {self.field} is {self.actual!r}, expected {self.expected!r}"


class RealmSync:
    def __init__(self, admin: AdminFactory, definition: RealmDefinition) -> None:
        self._admin = admin
        self._definition = definition

    @property
    def name(self) -> str:
        return self._definition.name

    def diff(self) -> list[Drift]:
        admin = self._admin()
        name = self._definition.name
        try:
            live = admin.get_realm(name)
        except KeycloakGetError as error:
            if error.response_code != 404:
                raise
            return [Drift("realm", name, "*", "present", None)]
        drift = _compare("realm", name, self._definition.settings, live)
        for role in self._definition.roles:
            try:
                live = admin.get_realm_role(role["name"])
            except KeycloakGetError:
                drift.append(Drift("role", role["name"], "*", "present", None))
                continue
            drift += _compare("role", role["name"], {k: v for k, v in role.items() if k != "composites"}, live)
        for client in self._definition.clients:
            drift += self._client_drift(admin, client)
        stated = {c["clientId"] for c in self._definition.clients}
        for live_client in admin.get_clients():
            client_id = live_client["clientId"]
            if client_id.startswith(QLCB_CLIENTS) and client_id not in stated:
                drift.append(Drift("client", client_id, "*", None, "present"))
        for client_id, stated_roles in self._definition.client_roles.items():
            drift += self._client_role_drift(admin, client_id, stated_roles)
        for client_id, roles in self._definition.service_accounts.items():
            drift += self._service_account_drift(admin, client_id, roles)
        return drift + self._profile_drift(admin) + self._localization_drift(admin)

    def apply(self) -> list[Drift]:
        """Brings the live realm to the definition; returns the drift it corrected."""
        drift = self.diff()
        if not drift:
            return []
        admin = self._admin()
        name = self._definition.name
        if any(d.kind == "realm" and d.field == "*" for d in drift):
            # Only an installer's master admin may create a realm; identity's own client lives in it.
            admin.create_realm(self._definition.realm)
            self._apply_profile(admin)
            log.info("realm created", realm=name)
            return drift
        if any(d.kind == "realm" for d in drift):
            admin.update_realm(name, self._definition.settings)
        for role in self._definition.roles:
            if any(d.kind == "role" and d.name == role["name"] for d in drift):
                if any(d.kind == "role" and d.name == role["name"] and d.field == "*" for d in drift):
                    admin.create_realm_role(role, skip_exists=True)
                else:
                    admin.update_realm_role(role["name"], role)
        for client in self._definition.clients:
            if any(d.kind in ("client", "mapper") and d.name.split(" ")[0] == client["clientId"] for d in drift):
                self._apply_client(admin, client)
        for item in drift:
            if item.kind == "client" and item.field == "*" and item.actual == "present":
                admin.delete_client(_internal_id(admin, item.name))
        missing_roles = {d.name for d in drift if d.kind == "client role"}
        for client_id, stated_roles in self._definition.client_roles.items():
            for role in stated_roles:
                if f"{client_id} {role['name']}" in missing_roles:
                    admin.create_client_role(_internal_id(admin, client_id), role, skip_exists=True)
        for client_id, roles in self._definition.service_accounts.items():
            if any(d.kind in ("client", "service account") and d.name == client_id for d in drift):
                self._apply_service_account(admin, client_id, roles)
        if any(d.kind == "profile attribute" for d in drift):
            self._apply_profile(admin)
        for locale in sorted({d.name.split(" ")[0] for d in drift if d.kind == "localization text"}):
            self._apply_localization(admin, locale)
        for item in drift:
            log.warning("realm drift corrected", drift=item.describe())
        return drift

    def _profile_drift(self, admin: KeycloakAdmin) -> list[Drift]:
        live = {a["name"]: a for a in admin.get_realm_users_profile().get("attributes", [])}
        drift: list[Drift] = []
        for attribute in self._definition.profile_attributes:
            found = live.get(attribute["name"])
            if found is None:
                drift.append(Drift("profile attribute", attribute["name"], "*", "present", None))
            else:
                drift += _compare("profile attribute", attribute["name"], attribute, found)
        return drift

    def _apply_profile(self, admin: KeycloakAdmin) -> None:
        """Replaces the stated attributes in the live profile, keeping every other one as it is."""
        profile = admin.get_realm_users_profile()
        stated = {a["name"]: a for a in self._definition.profile_attributes}
        kept = [a for a in profile.get("attributes", []) if a["name"] not in stated]
        admin.update_realm_users_profile({**profile, "attributes": [*kept, *stated.values()]})

    def _localization_drift(self, admin: KeycloakAdmin) -> list[Drift]:
        drift: list[Drift] = []
        for locale, texts in sorted(self._definition.localization_texts.items()):
            response = admin.connection.raw_get(self._localization_path(locale))
            live = raise_error_from_response(response, KeycloakGetError, expected_codes=[200])
            if not isinstance(live, dict):
                raise TypeError(f"Keycloak answered {live!r} for the realm's {locale} texts")
            for key, text in sorted(texts.items()):
                label = f"{locale} {key}"
                if key not in live:
                    drift.append(Drift("localization text", label, "*", "present", None))
                elif live[key] != text:
                    drift.append(Drift("localization text", label, "text", text, live[key]))
        return drift

    def _apply_localization(self, admin: KeycloakAdmin, locale: str) -> None:
        """Sets the stated texts of `locale` in one call; Keycloak keeps the locale's other texts."""
        texts = self._definition.localization_texts[locale]
        response = admin.connection.raw_post(self._localization_path(locale), data=json.dumps(texts))
        raise_error_from_response(response, KeycloakPostError, expected_codes=[204])

    def _localization_path(self, locale: str) -> str:
        return f"admin/realms/{self._definition.name}/localization/{locale}"

    def _client_drift(self, admin: KeycloakAdmin, client: dict[str, Any]) -> list[Drift]:
        client_id = client["clientId"]
        internal = admin.get_client_id(client_id)
        if internal is None:
            return [Drift("client", client_id, "*", "present", None)]
        expected = {k: v for k, v in client.items() if k != "protocolMappers"}
        drift = _compare("client", client_id, expected, admin.get_client(internal))
        live_mappers = {m["name"]: m for m in admin.get_mappers_from_client(internal)}
        stated = client.get("protocolMappers", [])
        for mapper in stated:
            label = f"{client_id} {mapper['name']}"
            live = live_mappers.get(mapper["name"])
            if live is None:
                drift.append(Drift("mapper", label, "*", "present", None))
            else:
                drift += _compare("mapper", label, mapper, live)
        for name in sorted(live_mappers.keys() - {m["name"] for m in stated}):
            drift.append(Drift("mapper", f"{client_id} {name}", "*", None, "present"))
        return drift

    def _client_role_drift(self, admin: KeycloakAdmin, client_id: str, roles: list[dict[str, Any]]) -> list[Drift]:
        """The stated roles of one of the realm's own clients that it lacks (a realm created from an
        older realm file); roles it has beyond them are left alone."""
        internal = admin.get_client_id(client_id)
        live = {role["name"] for role in admin.get_client_roles(internal)} if internal is not None else set()
        return [
            Drift("client role", f"{client_id} {role['name']}", "*", "present", None)
            for role in roles
            if role["name"] not in live
        ]

    def _service_account_drift(self, admin: KeycloakAdmin, client_id: str, roles: dict[str, list[str]]) -> list[Drift]:
        if admin.get_client_id(client_id) is None:
            return []  # the client is reported missing; creating it creates its service account
        drift: list[Drift] = []
        for role_client, expected in sorted(roles.items()):
            held = sorted(_service_account_roles(admin, client_id, role_client))
            if held != sorted(expected):
                drift.append(Drift("service account", client_id, f"{role_client} roles", sorted(expected), held))
        return drift

    def _apply_service_account(self, admin: KeycloakAdmin, client_id: str, roles: dict[str, list[str]]) -> None:
        """Grants the stated client roles the account lacks and takes away those it holds beyond them."""
        user_id = admin.get_client_service_account_user(_internal_id(admin, client_id))["id"]
        for role_client, expected in roles.items():
            role_client_id = _internal_id(admin, role_client)
            held = _service_account_roles(admin, client_id, role_client)
            extra = [role for name, role in held.items() if name not in expected]
            missing = [admin.get_client_role(role_client_id, name) for name in expected if name not in held]
            if extra:
                admin.delete_client_roles_of_user(user_id, role_client_id, extra)
            if missing:
                admin.assign_client_role(user_id, role_client_id, missing)

    def _apply_client(self, admin: KeycloakAdmin, client: dict[str, Any]) -> None:
        internal = admin.get_client_id(client["clientId"])
        if internal is None:
            admin.create_client(client)
            return
        live = admin.get_client(internal)
        admin.update_client(internal, {**live, **{k: v for k, v in client.items() if k != "protocolMappers"}})
        live_mappers = {m["name"]: m for m in admin.get_mappers_from_client(internal)}
        stated = client.get("protocolMappers", [])
        for mapper in stated:
            existing = live_mappers.get(mapper["name"])
            if existing is None:
                admin.add_mapper_to_client(internal, mapper)
            elif _compare("mapper", mapper["name"], mapper, existing):
                admin.update_client_mapper(internal, existing["id"], {**existing, **mapper})
        for name in live_mappers.keys() - {m["name"] for m in stated}:
            admin.remove_client_mapper(internal, live_mappers[name]["id"])


def _internal_id(admin: KeycloakAdmin, client_id: str) -> str:
    internal = admin.get_client_id(client_id)
    if internal is None:
        raise LookupError(f"client {client_id} is not in realm {admin.connection.realm_name}")
    return internal


def _service_account_roles(admin: KeycloakAdmin, client_id: str, role_client: str) -> dict[str, dict[str, Any]]:
    """The roles of `role_client` given directly to `client_id`'s service account, by name."""
    user_id = admin.get_client_service_account_user(_internal_id(admin, client_id))["id"]
    roles = admin.get_client_roles_of_user(user_id, _internal_id(admin, role_client))
    return {role["name"]: role for role in roles}


def _compare(kind: str, name: str, expected: Any, actual: Any, path: str = "") -> list[Drift]:
    if isinstance(expected, dict):
        actual_dict = actual if isinstance(actual, dict) else {}
        drift: list[Drift] = []
        for key, value in expected.items():
            drift += _compare(kind, name, value, actual_dict.get(key), f"{path}.{key}" if path else key)
        return drift
    if isinstance(expected, list) and all(isinstance(v, str) for v in expected):
        if sorted(expected) != sorted(actual or []):
            return [Drift(kind, name, path, expected, actual)]
        return []
    if expected != actual:
        return [Drift(kind, name, path, expected, actual)]
    return []
