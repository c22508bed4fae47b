"""The Keycloak realm's content digest (ADR 0025): equal for the same accounts whatever Keycloak's
internal ids and the order of its lists, different when an account, its password hash, its groups,
its roles or its attributes differ."""

from __future__ import annotations

import copy
import json
from typing import Any

from qlcb_backup.stores.realm_digest import realm_digest


def _password(value: str, salt: str) -> dict[str, Any]:
    return {
        "id": f"cred-{value}",
        "type": "password",
        "createdDate": 1764000000000,
        "secretData": json.dumps({"value": value, "salt": salt, "additionalParameters": {}}),
        "credentialData": json.dumps({"hashIterations": 5, "algorithm": "argon2", "additionalParameters": {}}),
    }


def _realm() -> dict[str, Any]:
    return {
        "id": "realm-1",
        "realm": "qlcb",
        "roles": {
            "realm": [
                {"id": "r1", "name": "system-admin", "containerId": "realm-1"},
                {"id": "r2", "name": "self", "containerId": "realm-1"},
            ],
            "client": {"qlcb-backup": [{"id": "r3", "name": "realm-backup", "containerId": "c1"}]},
        },
        "groups": [
            {
                "id": "g1",
                "name": "TCHQ",
                "path": "/TCHQ",
                "attributes": {"unit_id": ["u-1"]},
                "subGroups": [{"id": "g2", "name": "CUC", "path": "/TCHQ/CUC", "parentId": "g1", "subGroups": []}],
            }
        ],
        "users": [
            {
                "id": "user-1",
                "username": "quantri",
                "enabled": True,
                "attributes": {"qlcb_sections": ["a", "b"]},
                "groups": ["/TCHQ"],
                "realmRoles": ["system-admin", "default-roles-qlcb"],
                "credentials": [_password("hash-1", "salt-1")],
            },
            {
                "id": "user-2",
                "username": "canbo",
                "enabled": True,
                "groups": ["/TCHQ/CUC"],
                "realmRoles": ["self"],
                "credentials": [_password("hash-2", "salt-2")],
            },
        ],
        "clients": [{"id": "c1", "clientId": "qlcb-backup", "secret": "s3cret", "redirectUris": []}],
    }


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in {"id", "containerId", "parentId"}}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def test_the_same_realm_imported_again_with_new_ids_and_in_another_order_has_the_same_digest() -> None:
    restored = _without_ids(_realm())
    restored["realm"] = "qlcb_restore_x"
    restored["users"].reverse()
    restored["users"][1]["realmRoles"].reverse()
    restored["users"][1]["attributes"]["qlcb_sections"].reverse()
    restored["roles"]["realm"].reverse()
    # Keycloak writes its JSON strings with another layout: only their content counts.
    credential = restored["users"][0]["credentials"][0]
    credential["secretData"] = json.dumps(json.loads(credential["secretData"]), indent=2)

    assert realm_digest(restored) == realm_digest(_realm())


def _changed(change: str) -> dict[str, Any]:
    realm = copy.deepcopy(_realm())
    quantri = realm["users"][0]
    if change == "password hash":
        quantri["credentials"] = [_password("hash-other", "salt-1")]
    elif change == "group membership":
        quantri["groups"] = ["/TCHQ/CUC"]
    elif change == "role mapping":
        quantri["realmRoles"] = ["default-roles-qlcb"]
    elif change == "user attribute":
        quantri["attributes"] = {"qlcb_sections": ["a"]}
    elif change == "user added":
        realm["users"].append({"username": "moi", "enabled": True})
    elif change == "group attribute":
        realm["groups"][0]["attributes"] = {"unit_id": ["u-2"]}
    elif change == "client secret":
        realm["clients"][0]["secret"] = "other"
    else:
        realm["roles"]["realm"].pop()
    return realm


def test_each_change_to_accounts_groups_roles_or_secrets_changes_the_digest() -> None:
    changes = [
        "password hash",
        "group membership",
        "role mapping",
        "user attribute",
        "user added",
        "group attribute",
        "client secret",
        "role removed",
    ]
    digests = {change: realm_digest(_changed(change)) for change in changes}
    assert realm_digest(_realm()) not in digests.values()
    assert len(set(digests.values())) == len(changes)
