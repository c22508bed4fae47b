"""The Helm chart's `values.schema.json`, written from the services' typed settings so that a
service's `settings` and `secretSettings` in the chart's values accept exactly the settings the
service reads, with their types and limits, and nothing else (`additionalProperties: false`
everywhere). `python -m qlcb_devstack.helm_schema` rewrites the file; `tests/test_helm_chart.py`
fails when the committed file differs from what this writes.

A setting is either given by the chart itself (`CHART_MANAGED`: addresses, ports, certificate
files, the realm file), read from the service's existing Secret (`SECRET_ONLY`: anything holding
a credential), or a plain value in the service's ConfigMap (`settings`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

from pydantic_settings import BaseSettings

from qlcb_backup.settings import BackupSettings
from qlcb_common.settings import HttpApiSettings, OidcSettings
from qlcb_devstack.state import repo_root
from qlcb_gateway.settings import GatewaySettings
from qlcb_identity.settings import IdentitySettings
from qlcb_personnel.settings import PersonnelSettings
from qlcb_reports.settings import ReportsSettings

SERVICES: Final[dict[str, tuple[type[BaseSettings], str]]] = {
    "identity": (IdentitySettings, "http"),
    "personnel": (PersonnelSettings, "grpc"),
    "reports": (ReportsSettings, "grpc"),
    "backup": (BackupSettings, "grpc"),
    "gateway": (GatewaySettings, "http"),
}

CHART_MANAGED: Final = frozenset(
    {
        "host",
        "port",
        "ops_port",
        "grpc_port",
        "nats_url",
        "nats_user",
        "nats_tls_ca_file",
        "nats_tls_cert_file",
        "nats_tls_key_file",
        "nats_stream_replicas",
        "grpc_tls_cert_file",
        "grpc_tls_key_file",
        "grpc_tls_client_ca_file",
        "grpc_tls_ca_file",
        "tls_cert_file",
        "tls_key_file",
        "identity_tls_ca_file",
        "identity_url",
        "personnel_target",
        "reports_target",
        "backup_target",
        "keycloak_url",
        "realm_file",
        "realm_overlays",
        "statistics_forms_dir",
        "environment",
        "migrate_at_start",
    }
)
"""Settings the chart sets from its own values: where things listen and are, the mounted files."""

SECRET_ONLY: Final = frozenset({"database_url", "stores"})
"""Settings holding credentials besides those typed SecretStr: only from the service's Secret."""

OIDC_MANAGED: Final = frozenset({"audience"})
"""OIDC settings left to the service: each checks its own audience, qlcb-<service>."""

_KEPT = ("type", "description", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "enum")


def env_name(settings: type[BaseSettings], field: str) -> str:
    """The environment variable of a field, e.g. QLCB_PERSONNEL_DATABASE_URL."""
    return (settings.model_config.get("env_prefix", "") + field).upper()


def is_secret(settings: type[BaseSettings], field: str) -> bool:
    if field in SECRET_ONLY:
        return True
    return "SecretStr" in repr(settings.model_fields[field].annotation)


def _property(raw: dict[str, Any], required: bool, defs: dict[str, Any]) -> dict[str, Any]:
    """A settings field's JSON schema as a values property: type and limits, no formats. A type
    defined once (an enum's values) is written out in place."""
    if "$ref" in raw:
        raw = {**defs[raw["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in raw.items() if k != "$ref"}}
    nullable = False
    if "anyOf" in raw:
        branches = [b for b in raw["anyOf"] if b.get("type") != "null"]
        nullable = len(branches) < len(raw["anyOf"])
        merged = {**branches[0], **{k: v for k, v in raw.items() if k != "anyOf"}}
        raw = merged
    prop = {key: raw[key] for key in _KEPT if key in raw}
    if raw.get("type") == "array":
        prop["items"] = {key: raw["items"][key] for key in ("type",) if key in raw.get("items", {})}
    if raw.get("type") == "object":
        prop["additionalProperties"] = raw.get("additionalProperties", {"type": "string"})
    if required and raw.get("type") == "string":
        prop["minLength"] = max(1, prop.get("minLength", 1))
    if nullable:
        prop["type"] = [prop.get("type", "string"), "null"]
    return prop


def settings_schema(settings: type[BaseSettings], exclude: frozenset[str], *, secret: bool) -> dict[str, Any]:
    """The `settings` (secret=False) or `secretSettings` (secret=True) object of a service."""
    raw = settings.model_json_schema(by_alias=False)
    required = set(raw.get("required", []))
    properties: dict[str, Any] = {}
    for field in sorted(settings.model_fields):
        if field in exclude or is_secret(settings, field) is not secret:
            continue
        if secret:
            properties[field] = {
                "type": "string",
                "minLength": 1,
                "description": f"Key of the service's Secret holding {env_name(settings, field)}",
            }
        else:
            properties[field] = _property(raw["properties"][field], field in required, raw.get("$defs", {}))
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _object(properties: dict[str, Any], *, description: str | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if description:
        schema["description"] = description
    schema.update(extra)
    return schema


STRING: Final = {"type": "string"}
BOOLEAN: Final = {"type": "boolean"}
PORT: Final = {"type": "integer", "minimum": 1, "maximum": 65535}
STRING_MAP: Final = {"type": "object", "additionalProperties": {"type": "string"}}
ANY_OBJECT: Final = {"type": "object", "description": "A Kubernetes object of the kind named, passed as it is"}
OBJECT_LIST: Final = {"type": "array", "items": {"type": "object"}}
QUANTITY: Final = {"type": ["string", "integer", "number"]}


def _resources() -> dict[str, Any]:
    amounts = _object({"cpu": QUANTITY, "memory": QUANTITY, "ephemeral-storage": QUANTITY})
    return _object({"requests": amounts, "limits": amounts})


def _defs() -> dict[str, Any]:
    peers = {
        "type": "array",
        "items": {"type": "object"},
        "description": "NetworkPolicy peers (podSelector, namespaceSelector, ipBlock); empty: any address",
    }
    return {
        "image": _object(
            {
                "registry": STRING,
                "repository": STRING,
                "tag": STRING,
                "digest": {"type": "string", "pattern": "^(sha256:[0-9a-f]{64})?$"},
                "pullPolicy": {"type": "string", "enum": ["", "Always", "IfNotPresent", "Never"]},
            }
        ),
        "resources": _resources(),
        "endpoint": _object({"port": PORT, "to": peers}),
        "peers": peers,
    }


def service_schema(name: str) -> dict[str, Any]:
    settings, kind = SERVICES[name]
    ports = {"http": PORT} if kind == "http" else {"grpc": PORT, "ops": PORT}
    return _object(
        {
            "enabled": BOOLEAN,
            "kind": {"const": kind, "description": "grpc: a gRPC port and an ops port; http: one HTTP port"},
            "command": {"type": "array", "items": STRING, "minItems": 1},
            "image": {"$ref": "#/$defs/image"},
            "replicaCount": {"type": "integer", "minimum": 0},
            "ports": _object(ports, required=sorted(ports)),
            "uses": _object(
                {"database": BOOLEAN, "nats": BOOLEAN, "keycloak": BOOLEAN, "smtp": BOOLEAN},
                description="What the service reaches besides its callers: its env and NetworkPolicy egress",
            ),
            "backends": {
                "type": "array",
                "items": {"type": "string", "enum": [s for s, (_, k) in SERVICES.items() if k == "grpc"]},
                "description": "gRPC services this one calls (<NAME>_TARGET settings, NetworkPolicy egress)",
            },
            "callsIdentity": {"type": "boolean", "description": "Sets identity_url and allows the edge to identity"},
            "tlsServer": {
                "type": "boolean",
                "description": "An HTTP service serving its port over TLS from tlsSecret when tls.enabled (identity)",
            },
            "realm": {
                "type": "boolean",
                "description": "Keeps the Keycloak realm (identity): the realm file, its overlays and keycloak.url",
            },
            "statisticsForms": {
                "type": "object",
                "propertyNames": {"pattern": "^[a-z0-9_]+\\.json$"},
                "additionalProperties": {"type": "object"},
                "description": "Statistics form layouts (reports), file name → layout: read at start beside the "
                "packaged forms, replacing a form of the same code",
            },
            "realmBackup": {
                "type": "boolean",
                "description": "Backs up the Keycloak realm (backup, ADR 0025): keycloak.url",
            },
            "settings": settings_schema(settings, CHART_MANAGED, secret=False),
            "secretSettings": settings_schema(settings, CHART_MANAGED, secret=True),
            "existingSecret": {
                "type": "string",
                "description": "Secret holding secretSettings' keys; empty: <fullname>-<service>. Never created "
                "by the chart",
            },
            "tlsSecret": {
                "type": "string",
                "description": "Secret with tls.crt, tls.key and ca.crt (cert-manager's shape) when tls.enabled; "
                "empty: <fullname>-<service>-tls",
            },
            "resources": {"$ref": "#/$defs/resources"},
            "autoscaling": _object(
                {
                    "enabled": BOOLEAN,
                    "minReplicas": {"type": "integer", "minimum": 1},
                    "maxReplicas": {"type": "integer", "minimum": 1},
                    "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100},
                }
            ),
            "pdb": _object(
                {
                    "enabled": BOOLEAN,
                    "minAvailable": {"type": ["integer", "string"]},
                    "maxUnavailable": {"type": ["integer", "string", "null"]},
                }
            ),
            "topologySpread": _object(
                {
                    "enabled": BOOLEAN,
                    "maxSkew": {"type": "integer", "minimum": 1},
                    "whenUnsatisfiable": {"type": "string", "enum": ["ScheduleAnyway", "DoNotSchedule"]},
                    "topologyKeys": {"type": "array", "items": STRING},
                }
            ),
            "serviceAccount": _object({"create": BOOLEAN, "name": STRING, "annotations": STRING_MAP}),
            "persistence": _object(
                {
                    "enabled": BOOLEAN,
                    "mountPath": STRING,
                    "existingClaim": STRING,
                    "size": STRING,
                    "storageClass": {"type": ["string", "null"]},
                    "accessModes": {"type": "array", "items": STRING},
                },
                description="A volume for files the service keeps (backup's backup_dir)",
            ),
            "networkPolicy": _object(
                {
                    "allowExternal": {"type": "boolean", "description": "Any source may reach the API port"},
                    "externalFrom": {"$ref": "#/$defs/peers"},
                }
            ),
            "podAnnotations": STRING_MAP,
            "podLabels": STRING_MAP,
            "nodeSelector": STRING_MAP,
            "tolerations": OBJECT_LIST,
            "affinity": ANY_OBJECT,
            "priorityClassName": STRING,
        },
        description=f"The {name} service ({kind})",
    )


def values_schema() -> dict[str, Any]:
    oidc = settings_schema(OidcSettings, OIDC_MANAGED, secret=False)
    oidc["description"] = "QLCB_OIDC_* of every service: where tokens come from (an https issuer in production)"
    http = settings_schema(HttpApiSettings, frozenset(), secret=False)
    http["description"] = "QLCB_HTTP_* of the HTTP services"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "QLCB chart values (written by python -m qlcb_devstack.helm_schema)",
        "type": "object",
        "additionalProperties": False,
        "$defs": _defs(),
        "properties": {
            "global": _object({"imageRegistry": STRING, "imagePullSecrets": {"type": "array", "items": STRING}}),
            "nameOverride": STRING,
            "fullnameOverride": STRING,
            "commonLabels": STRING_MAP,
            "environment": {"type": "string", "enum": ["production", "development"]},
            "image": {"$ref": "#/$defs/image"},
            "oidc": oidc,
            "http": http,
            "keycloak": _object(
                {
                    "url": {"type": "string", "minLength": 1, "description": "Keycloak's base URL for identity"},
                    "realm": _object(
                        {
                            "overlays": {
                                "type": "object",
                                "additionalProperties": {"type": "object"},
                                "description": "name → JSON object merged over the realm file, in name order",
                            },
                            "sync": _object(
                                {
                                    "enabled": BOOLEAN,
                                    "backoffLimit": {"type": "integer", "minimum": 0},
                                    "activeDeadlineSeconds": {"type": "integer", "minimum": 1},
                                    "resources": {"$ref": "#/$defs/resources"},
                                }
                            ),
                        }
                    ),
                }
            ),
            "migrations": _object(
                {
                    "enabled": BOOLEAN,
                    "backoffLimit": {"type": "integer", "minimum": 0},
                    "activeDeadlineSeconds": {"type": "integer", "minimum": 1},
                    "resources": {"$ref": "#/$defs/resources"},
                },
                description="Schema migrations as a Job per service before each install and upgrade (ADR 0022)",
            ),
            "trustedCa": _object(
                {
                    "secretName": STRING,
                    "key": {"type": "string", "minLength": 1, "pattern": "^[-._a-zA-Z0-9]+$"},
                },
                description="A CA bundle every pod trusts instead of the image's (SSL_CERT_FILE, REQUESTS_CA_BUNDLE)",
            ),
            "nats": _object(
                {
                    "url": {"type": "string", "minLength": 1, "description": "nats:// or tls:// of the bus"},
                    "caFromTlsSecret": {
                        "type": "boolean",
                        "description": "Check NATS's certificate against ca.crt of each service's tlsSecret",
                    },
                    "streamReplicas": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 5,
                        "description": "On how many servers of the NATS cluster each stream is kept",
                    },
                }
            ),
            "tls": _object(
                {
                    "enabled": BOOLEAN,
                    "requireClientCertificates": BOOLEAN,
                    "mountPath": STRING,
                }
            ),
            "podSecurityContext": ANY_OBJECT,
            "containerSecurityContext": ANY_OBJECT,
            "networkPolicy": _object(
                {
                    "enabled": BOOLEAN,
                    "dns": _object(
                        {"to": {"$ref": "#/$defs/peers"}, "port": PORT},
                        description="Where pods resolve names",
                    ),
                    "postgresql": {"$ref": "#/$defs/endpoint"},
                    "nats": {"$ref": "#/$defs/endpoint"},
                    "keycloak": {"$ref": "#/$defs/endpoint"},
                    "smtp": {"$ref": "#/$defs/endpoint"},
                    "national": {"$ref": "#/$defs/endpoint"},
                    "s3": {"$ref": "#/$defs/endpoint"},
                    "prometheus": _object({"from": {"$ref": "#/$defs/peers"}}),
                }
            ),
            "metrics": _object(
                {
                    "serviceMonitor": _object(
                        {"enabled": BOOLEAN, "labels": STRING_MAP, "interval": STRING, "scrapeTimeout": STRING}
                    ),
                    "prometheusRule": _object(
                        {
                            "enabled": BOOLEAN,
                            "labels": STRING_MAP,
                            "runbookBaseUrl": {
                                "type": "string",
                                "pattern": "^(https?://.*/)?$",
                                "description": "Where the repository's files are read, ending in /: prefixed to "
                                "each alert's runbook_url (docs/operations.md#…)",
                            },
                        }
                    ),
                    "dashboards": _object(
                        {
                            "enabled": BOOLEAN,
                            "label": STRING,
                            "labelValue": STRING,
                            "folder": STRING,
                            "folderAnnotation": STRING,
                        }
                    ),
                }
            ),
            "services": _object({name: service_schema(name) for name in SERVICES}, required=sorted(SERVICES)),
        },
    }


def schema_path() -> Path:
    return repo_root() / "deploy" / "helm" / "qlcb" / "values.schema.json"


def render() -> str:
    return json.dumps(values_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    schema_path().write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {schema_path()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
