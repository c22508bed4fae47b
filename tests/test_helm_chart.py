"""The Helm chart (deploy/helm/qlcb), checked without a cluster: Helm's strict lint, the rendered
examples kept in the repository, the values schema refusing what it does not name, every object
validated against a pinned Kubernetes version's schemas, checkov, and what an operator would
notice: non-root read-only pods, gRPC health probes, the services' settings, the network's edges.

Helm and checkov come from `scripts/bootstrap.sh --helm` (cached in the state folder);
`QLCB_HELM_RENDER=1 pytest tests/test_helm_chart.py` rewrites deploy/helm/rendered/ after a
deliberate change to the chart or an example."""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet
from kubernetes_validate.utils import ValidationError

from qlcb_common.settings import ENVIRONMENT_VARIABLE, HttpApiSettings, OidcSettings
from qlcb_devstack import helm_schema
from qlcb_devstack.state import state_dir
from qlcb_identity.realm.definition import load as load_realm

ROOT = Path(__file__).resolve().parents[1]
HELM_DIR = ROOT / "deploy" / "helm"
CHART = HELM_DIR / "qlcb"
EXAMPLES = sorted(p.stem for p in (HELM_DIR / "examples").glob("*.yaml"))
HELM_VERSION = "v3.22.0"
KUBERNETES_VERSION = "1.35.0"
"""The Kubernetes version the chart is rendered for and validated against (kubernetes-validate's
schemas, offline)."""
RELEASE, NAMESPACE = "qlcb", "qlcb"
CUSTOM_RESOURCES = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}
"""Kinds of operators' custom resources, which kubernetes-validate has no schema for."""

Manifest = dict[str, Any]


def _tool(path: Path) -> Path:
    assert path.exists(), f"{path} is missing: run scripts/bootstrap.sh --helm"
    return path


def _helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    helm = _tool(state_dir() / "helm" / HELM_VERSION / "bin" / "helm")
    done = subprocess.run(
        [str(helm), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env=_helm_env()
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _helm_env() -> dict[str, str]:
    """Helm with no user configuration or cache of this machine's: repositories, plugins."""
    home = state_dir() / "helm" / "home"
    return {
        **os.environ,
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def _template_args(*values: str, sets: tuple[str, ...] = ()) -> list[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", KUBERNETES_VERSION]
    for path in values:
        args += ["--values", path]
    for assignment in sets:
        args += ["--set", assignment]
    return args


@functools.cache
def render(example: str, *sets: str) -> str:
    return _helm(*_template_args(str(HELM_DIR / "examples" / f"{example}.yaml"), sets=sets)).stdout


def objects(example: str, *sets: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(render(example, *sets)) if doc]


def of_kind(docs: list[Manifest], kind: str) -> list[Manifest]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs: list[Manifest], kind: str, name: str) -> Manifest:
    (found,) = [doc for doc in of_kind(docs, kind) if doc["metadata"]["name"] == name]
    return found


def service_of(doc: Manifest) -> str:
    return str(doc["metadata"]["labels"]["app.kubernetes.io/name"])


def pod_specs(docs: list[Manifest]) -> Iterator[tuple[str, Manifest]]:
    for doc in docs:
        if doc["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]


# Lint, the committed renderings and the schema


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_chart_lints_cleanly_in_strict_mode(example: str) -> None:
    done = _helm("lint", str(CHART), "--strict", "--kube-version", KUBERNETES_VERSION, "--values",
                 str(HELM_DIR / "examples" / f"{example}.yaml"))  # fmt: skip
    assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout, done.stdout


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_example_renders_exactly_as_committed(example: str) -> None:
    committed = HELM_DIR / "rendered" / f"{example}.yaml"
    rendered = render(example)
    if os.environ.get("QLCB_HELM_RENDER") == "1":
        committed.write_text(rendered, encoding="utf-8")
    assert committed.exists(), f"{committed} is missing: QLCB_HELM_RENDER=1 pytest {__file__}"
    assert rendered == committed.read_text(encoding="utf-8"), (
        f"the chart renders {example} differently from {committed.relative_to(ROOT)}: review the change and "
        f"rewrite it with QLCB_HELM_RENDER=1 pytest tests/test_helm_chart.py"
    )


def test_the_values_schema_is_the_one_written_from_the_services_settings() -> None:
    assert (CHART / "values.schema.json").read_text(encoding="utf-8") == helm_schema.render(), (
        "values.schema.json differs from the settings: python -m qlcb_devstack.helm_schema"
    )


@pytest.mark.parametrize(
    ("assignment", "refused"),
    [
        ("services.personnel.replicas=2", "replicas"),  # replicaCount misspelt
        ("services.personnel.settings.decision_apply_interval=30", "decision_apply_interval"),  # not a setting
        ("services.identity.settings.smtp_password=hunter2", "smtp_password"),  # a secret as a plain value
        ("networkPolicy.postgres.port=5432", "postgres"),
        ("tls.enable=false", "enable"),
    ],
)
def test_an_unknown_values_key_is_refused_by_the_schema(assignment: str, refused: str) -> None:
    done = _helm(*_template_args(str(HELM_DIR / "examples" / "single-node.yaml"), sets=(assignment,)), check=False)
    assert done.returncode != 0, f"--set {assignment} was accepted"
    assert "values don't meet the specifications of the schema" in done.stderr, done.stderr
    assert refused in done.stderr, done.stderr


def test_a_setting_out_of_its_range_is_refused_by_the_schema() -> None:
    done = _helm(
        *_template_args(
            str(HELM_DIR / "examples" / "single-node.yaml"), sets=("services.identity.settings.smtp_port=70000",)
        ),
        check=False,
    )
    assert done.returncode != 0
    assert "smtp_port" in done.stderr, done.stderr


def test_the_defaults_alone_are_refused_naming_the_endpoints_to_give() -> None:
    done = _helm(*_template_args(), check=False)
    assert done.returncode != 0
    for path in ("/oidc/issuer", "/keycloak/url", "/nats/url", "/services/identity/settings/smtp_host"):
        assert path in done.stderr, done.stderr


# Every object is a valid Kubernetes object, and checkov passes


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_rendered_object_validates_against_the_pinned_kubernetes_schemas(example: str) -> None:
    docs = objects(example)
    problems = []
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except ValidationError as error:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {error.message} at {list(error.path)}")
    assert not problems, "\n".join(problems)
    kinds = {(doc["apiVersion"], doc["kind"]) for doc in docs}
    assert kinds & CUSTOM_RESOURCES == CUSTOM_RESOURCES


def test_checkov_passes_on_the_rendered_examples() -> None:
    checkov = _tool(state_dir() / "checkov" / "current" / "bin" / "checkov")
    done = subprocess.run(
        [
            str(checkov),
            "--config-file",
            str(HELM_DIR / "checkov" / "config.yaml"),
            *[arg for example in EXAMPLES for arg in ("--file", str(HELM_DIR / "rendered" / f"{example}.yaml"))],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
    assert "Failed checks: 0" in done.stdout, done.stdout[-4000:]


# What an operator would notice


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_pod_runs_as_non_root_on_a_read_only_root_filesystem_without_capabilities(example: str) -> None:
    specs = list(pod_specs(objects(example)))
    # five Deployments, the realm-sync Job and four stores' migration Jobs
    assert len(specs) == 10, [name for name, _ in specs]
    for name, spec in specs:
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            assert container["resources"]["requests"], name


GRPC_SERVICES = [name for name, (_, kind) in helm_schema.SERVICES.items() if kind == "grpc"]


def _container(docs: list[Manifest], service: str) -> Manifest:
    deployment = named(docs, "Deployment", f"{RELEASE}-{service}")
    container: Manifest = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def test_every_grpc_service_is_probed_by_its_grpc_health_service_when_its_port_is_plaintext() -> None:
    docs = objects("single-node", "tls.enabled=false", "environment=development")
    for service in GRPC_SERVICES:
        container = _container(docs, service)
        port = {p["name"]: p["containerPort"] for p in container["ports"]}["grpc"]
        assert container["readinessProbe"]["grpc"] == {"port": port}, service
        assert container["startupProbe"]["grpc"] == {"port": port}, service
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez", service


@pytest.mark.parametrize("example", EXAMPLES)
def test_under_tls_a_grpc_service_is_probed_on_its_ops_port_and_the_http_services_over_https(example: str) -> None:
    """The kubelet's gRPC probe speaks no TLS; the ops port's /readyz reports the same readiness
    (database and NATS connected) as the gRPC health service."""
    docs = objects(example)
    for service in GRPC_SERVICES:
        probe = _container(docs, service)["readinessProbe"]["httpGet"]
        assert (probe["path"], probe["port"], probe["scheme"]) == ("/readyz", "ops", "HTTP"), service
    assert _container(docs, "identity")["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert _container(docs, "gateway")["readinessProbe"]["httpGet"]["scheme"] == "HTTP"


def _service_env(docs: list[Manifest], service: str) -> dict[str, str | None]:
    """What a service's container gets: its ConfigMap's data and its env (None: from a Secret)."""
    container = _container(docs, service)
    (source,) = container["envFrom"]
    env: dict[str, str | None] = dict(named(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        assert "secretKeyRef" in entry["valueFrom"], entry
        env[entry["name"]] = None
    return env


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_service_gets_exactly_settings_it_reads_and_every_one_it_requires(example: str) -> None:
    docs = objects(example)
    for service, (settings, kind) in helm_schema.SERVICES.items():
        env = _service_env(docs, service)
        known = {helm_schema.env_name(settings, field) for field in settings.model_fields}
        known |= {helm_schema.env_name(OidcSettings, field) for field in OidcSettings.model_fields}
        known.add(ENVIRONMENT_VARIABLE)
        if kind == "http":
            known |= {helm_schema.env_name(HttpApiSettings, field) for field in HttpApiSettings.model_fields}
        assert set(env) <= known, f"{service} is given what it does not read: {sorted(set(env) - known)}"
        required = {
            helm_schema.env_name(settings, f) for f, info in settings.model_fields.items() if info.is_required()
        }
        assert required <= set(env), f"{service} misses {sorted(required - set(env))}"
        assert env["QLCB_OIDC_ISSUER"] == "https://login.qlcb.example.org/realms/qlcb"
        assert env[ENVIRONMENT_VARIABLE] == "production"
        for name, value in env.items():
            secret = any(
                word in name
                for word in ("PASSWORD", "SECRET", "SESSION_KEY", "DATABASE_URL", "CREDENTIAL_KEYS", "STORES")
            )
            assert not secret or value is None, f"{service}: {name} is a plain value, not from its Secret"


SECRET_SAMPLES = {
    "DATABASE_URL": "postgresql+asyncpg://qlcb:secret@db.qlcb-infra:5432/qlcb",
    "NATS_PASSWORD": "secret",
    "KEYCLOAK_CLIENT_SECRET": "secret",
    "CREDENTIAL_KEYS": json.dumps([Fernet.generate_key().decode()]),
    "SMTP_PASSWORD": "secret",
    "SIGNING_SECRET": "a-signing-secret-of-at-least-32-characters",
    "WEB_SESSION_KEY": Fernet.generate_key().decode(),
    "STORES": json.dumps({"personnel": "postgresql+asyncpg://backup:secret@db.qlcb-infra:5432/personnel"}),
    "BACKUP_KEYS": json.dumps({"k1": base64.b64encode(os.urandom(32)).decode()}),
}
"""What an operator's Secrets would hold, by the end of the variable's name."""


def _load_settings(docs: list[Manifest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Each service's typed settings loaded from the chart's environment for it, its Secrets' keys
    filled in and the mounted files stood in for by local ones."""
    pem = tmp_path / "certificate.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    realm_dir = tmp_path / "realm"
    realm_dir.mkdir()
    for key, content in named(docs, "ConfigMap", f"{RELEASE}-realm")["data"].items():
        (realm_dir / key).write_text(content, encoding="utf-8")

    def local(value: str) -> str:
        if value.startswith("/etc/qlcb/tls/"):
            return str(pem)
        return value.replace("/etc/qlcb/realm/", f"{realm_dir}/")

    loaded: dict[str, Any] = {}
    for service, (settings, _) in helm_schema.SERVICES.items():
        with monkeypatch.context() as patch:
            for name in [name for name in os.environ if name.startswith("QLCB_")]:
                patch.delenv(name)
            for name, value in _service_env(docs, service).items():
                if value is None:
                    value = next(sample for end, sample in SECRET_SAMPLES.items() if name.endswith(end))
                patch.setenv(name, local(value))
            loaded[service] = settings()
            OidcSettings()  # type: ignore[call-arg]
    return loaded


@pytest.mark.parametrize(
    ("example", "sets"),
    [("single-node", ()), ("high-availability", ()), ("single-node", ("tls.enabled=false", "environment=development"))],
)
def test_each_services_typed_settings_load_from_what_the_chart_gives_it(
    example: str, sets: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings refuse plaintext outside development and read every certificate as they load:
    what the chart gives each service is what lets it start."""
    loaded = _load_settings(objects(example, *sets), tmp_path, monkeypatch)
    identity = loaded["identity"]
    realm = load_realm(identity.realm_file, identity.realm_overlays)
    (web,) = [client for client in realm.clients if client["clientId"] == "qlcb-gateway"]
    assert web["redirectUris"] == ["https://qlcb.example.org/*"]
    assert not any(client["clientId"] == "qlcb-cli" for client in realm.clients)


def test_production_without_tls_is_refused_when_rendering_as_the_gateway_would_refuse_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = str(HELM_DIR / "examples" / "single-node.yaml")
    done = _helm(*_template_args(example, sets=("tls.enabled=false",)), check=False)
    assert done.returncode != 0
    assert "tls.enabled=false needs environment=development" in done.stderr, done.stderr
    # ...which is what the gateway's settings would say: forced past the chart, it would not start
    docs = objects("single-node", "tls.enabled=false", "environment=development")
    for configmap in of_kind(docs, "ConfigMap"):
        if "QLCB_ENVIRONMENT" in configmap["data"]:
            configmap["data"]["QLCB_ENVIRONMENT"] = "production"
    with pytest.raises(ValueError, match="QLCB_GATEWAY_GRPC_TLS_CA_FILE is unset"):
        _load_settings(docs, tmp_path, monkeypatch)


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_gateway_reaches_the_backends_it_checks_over_tls_by_their_service_names(example: str) -> None:
    docs = objects(example)
    env = _service_env(docs, "gateway")
    # Every replica's address (ADR 0012): a headless Service, resolved again as connections recycle.
    assert env["QLCB_GATEWAY_PERSONNEL_TARGET"] == f"dns:///{RELEASE}-personnel:50051"
    for backend in ("personnel", "reports", "backup"):
        assert named(docs, "Service", f"{RELEASE}-{backend}")["spec"]["clusterIP"] == "None"
    assert "clusterIP" not in named(docs, "Service", f"{RELEASE}-gateway")["spec"]
    assert env["QLCB_GATEWAY_IDENTITY_URL"] == f"https://{RELEASE}-identity:8081"
    assert env["QLCB_GATEWAY_GRPC_TLS_CA_FILE"] == "/etc/qlcb/tls/ca.crt"


def _policy(docs: list[Manifest], name: str) -> Manifest:
    spec: Manifest = named(docs, "NetworkPolicy", f"{RELEASE}-{name}")["spec"]
    return spec


def _ports(rules: list[Manifest]) -> set[int]:
    return {port["port"] for rule in rules for port in rule.get("ports", [])}


@pytest.mark.parametrize("example", EXAMPLES)
def test_network_policies_do_not_let_the_gateway_reach_postgresql_or_nats(example: str) -> None:
    docs = objects(example)
    values = yaml.safe_load((HELM_DIR / "examples" / f"{example}.yaml").read_text(encoding="utf-8"))
    postgresql, nats = values["networkPolicy"]["postgresql"], values["networkPolicy"]["nats"]
    gateway = _policy(docs, "gateway")
    assert gateway["policyTypes"] == ["Ingress", "Egress"]
    assert postgresql["port"] not in _ports(gateway["egress"])
    assert nats["port"] not in _ports(gateway["egress"])
    for rule in gateway["egress"]:
        for peer in rule.get("to", []):
            assert peer not in postgresql["to"], peer
            assert peer not in nats["to"], peer
    # ...while the services that own a store do reach it
    for service in ("identity", *GRPC_SERVICES):
        assert postgresql["port"] in _ports(_policy(docs, service)["egress"]), service


def test_backup_reaches_s3_storage_only_when_its_sets_go_there() -> None:
    """Off-site copies (storage s3) need their own egress: on another port than Keycloak's 443 (MinIO's
    9000 here), they were cut off by the policy."""
    minio = "networkPolicy.s3.port=9000"
    local = _ports(_policy(objects("single-node", minio), "backup")["egress"])
    s3 = objects("single-node", minio, "services.backup.settings.storage=s3", "services.backup.settings.s3_bucket=qlcb")
    offsite = _ports(_policy(s3, "backup")["egress"])
    assert (9000 in local, 9000 in offsite) == (False, True)


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_grpc_service_admits_only_the_gateway_on_its_grpc_port_and_prometheus_on_its_ops_port(example: str) -> None:
    docs = objects(example)
    for service in GRPC_SERVICES:
        ingress = _policy(docs, service)["ingress"]
        by_port = {port["port"]: rule.get("from") for rule in ingress for port in rule["ports"]}
        assert set(by_port) == {50051, 9090}, service
        assert by_port[50051] == [
            {
                "podSelector": {
                    "matchLabels": {"app.kubernetes.io/name": "gateway", "app.kubernetes.io/instance": RELEASE}
                }
            }
        ], service
        assert by_port[9090], service
        assert all("namespaceSelector" in peer for peer in by_port[9090]), service


def test_every_pod_is_selected_by_a_network_policy() -> None:
    docs = objects("high-availability")
    selectors = [policy["spec"]["podSelector"]["matchLabels"] for policy in of_kind(docs, "NetworkPolicy")]
    for name, _spec in pod_specs(docs):
        owner = next(d for d in docs if f"{d['kind']}/{d['metadata']['name']}" == name)
        labels = owner["spec"]["template"]["metadata"]["labels"]
        assert any(selector.items() <= labels.items() for selector in selectors), name


# What the chart takes from the repository as it is


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_alert_rules_are_the_repositorys_own_files(example: str) -> None:
    rules = {doc["metadata"]["name"]: doc["spec"] for doc in of_kind(objects(example), "PrometheusRule")}
    files = sorted(p for p in (ROOT / "deploy" / "prometheus" / "alerts").glob("*.yml") if ".test." not in p.name)
    assert sorted(rules) == [f"{RELEASE}-alerts-{p.stem}" for p in files]
    for path in files:
        assert rules[f"{RELEASE}-alerts-{path.stem}"] == yaml.safe_load(path.read_text(encoding="utf-8"))


def _alerted_jobs() -> set[str]:
    """The scrape jobs `QlcbServiceDown` selects, as the rule file writes them."""
    (group,) = [g for g in _slo_rules()["groups"] if any(r.get("alert") == "QlcbServiceDown" for r in g["rules"])]
    (rule,) = [r for r in group["rules"] if r.get("alert") == "QlcbServiceDown"]
    match = re.search(r'up\{job=~"([^"]+)"\}', rule["expr"])
    assert match, rule["expr"]
    return set(match.group(1).split("|"))


def _alerted_rules() -> list[Manifest]:
    """Every alert of the repository's rule files."""
    return [
        rule
        for path in sorted((ROOT / "deploy" / "prometheus" / "alerts").glob("*.yml"))
        if ".test." not in path.name
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def _slo_rules() -> Manifest:
    loaded: Manifest = yaml.safe_load(
        (ROOT / "deploy" / "prometheus" / "alerts" / "slo.yml").read_text(encoding="utf-8")
    )
    return loaded


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_scrape_job_is_named_as_the_alerts_select_it_and_keeps_the_metrics_service_label(example: str) -> None:
    """The Prometheus Operator names a job after the Service (`qlcb-personnel`) and relabels a
    metric's own `service` unless told otherwise: then `QlcbServiceDown` and the dashboards'
    `service="…"` filters match nothing on a cluster."""
    docs = objects(example)
    monitors = of_kind(docs, "ServiceMonitor")
    jobs = set()
    for monitor in monitors:
        assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/name", monitor["metadata"]["name"]
        assert all(endpoint["honorLabels"] is True for endpoint in monitor["spec"]["endpoints"])
        selected = named(docs, "Service", monitor["metadata"]["name"])
        assert monitor["spec"]["selector"]["matchLabels"].items() <= selected["metadata"]["labels"].items()
        jobs.add(selected["metadata"]["labels"]["app.kubernetes.io/name"])
    assert jobs == _alerted_jobs()


@pytest.mark.parametrize(("example", "replicas"), [("single-node", "1"), ("high-availability", "3")])
def test_streams_are_kept_on_as_many_nats_servers_as_the_example_has_and_backups_run_on_a_schedule(
    example: str, replicas: str
) -> None:
    docs = objects(example)
    for service in ("identity", "personnel", "reports", "backup"):
        key = f"QLCB_{service.upper()}_NATS_STREAM_REPLICAS"
        assert _service_env(docs, service)[key] == replicas, service
    backup = _service_env(docs, "backup")
    assert (backup["QLCB_BACKUP_SCHEDULE"], backup["QLCB_BACKUP_DRILL_SCHEDULE"]) == ("0 1 * * *", "0 4 * * 0")


def test_every_pod_trusts_a_private_ca_bundle_when_one_is_given() -> None:
    """Keycloak, PostgreSQL or S3 behind a private CA: each service, migration and the realm's sync
    reads the bundle the operator's Secret holds, through the variables Python's TLS clients read."""
    docs = objects("single-node", "trustedCa.secretName=qlcb-private-ca")
    pods = dict(pod_specs(docs))
    assert len(pods) >= 9
    for name, spec in pods.items():
        (volume,) = [v for v in spec["volumes"] if v["name"] == "trusted-ca"]
        assert volume["secret"]["secretName"] == "qlcb-private-ca", name
        for container in spec["containers"]:
            env = {e["name"]: e.get("value") for e in container["env"]}
            bundle = "/etc/qlcb/trusted-ca/ca-bundle.crt"
            assert (env["SSL_CERT_FILE"], env["REQUESTS_CA_BUNDLE"]) == (bundle, bundle), name
            assert {"name": "trusted-ca", "mountPath": "/etc/qlcb/trusted-ca", "readOnly": True} in container[
                "volumeMounts"
            ], name
    plain = dict(pod_specs(objects("single-node")))
    assert not [n for n, spec in plain.items() if any(v["name"] == "trusted-ca" for v in spec["volumes"])]


def test_runbook_links_open_in_a_browser_when_the_repository_address_is_given() -> None:
    base = "https://git.qlcb.example.org/qlcb/blob/main/"
    docs = objects("single-node", f"metrics.prometheusRule.runbookBaseUrl={base}")
    urls = [
        rule["annotations"]["runbook_url"]
        for doc in of_kind(docs, "PrometheusRule")
        for group in doc["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    assert len(urls) == len(_alerted_rules())
    assert [url for url in urls if not url.startswith(f"{base}docs/operations.md#")] == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_realm_is_the_repositorys_file_and_the_sync_job_runs_identitys_command(example: str) -> None:
    docs = objects(example)
    realm = named(docs, "ConfigMap", f"{RELEASE}-realm")["data"]
    assert realm["realm-qlcb.json"] == (ROOT / "deploy" / "keycloak" / "realm-qlcb.json").read_text(
        encoding="utf-8"
    ).rstrip("\n")
    assert not any("dev-overlay" in key or "qlcb-cli" in value for key, value in realm.items())
    job = named(docs, "Job", f"{RELEASE}-realm-sync")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "-m",
        "qlcb_identity",
        "realm",
        "apply",
    ]
    env = _service_env(docs, "identity")
    assert env["QLCB_IDENTITY_REALM_OVERLAYS"] == '["/etc/qlcb/realm/overlay-web-address.json"]'


def test_dashboards_are_shipped_one_configmap_each_for_grafanas_sidecar() -> None:
    dashboards = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
    shipped = [
        doc for doc in of_kind(objects("single-node"), "ConfigMap") if "grafana_dashboard" in doc["metadata"]["labels"]
    ]
    assert len(shipped) == len(dashboards)
    for doc in shipped:
        assert doc["metadata"]["labels"]["grafana_dashboard"] == "1"


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_store_is_migrated_by_a_job_before_install_and_upgrade_and_the_services_only_check_it(
    example: str,
) -> None:
    docs = objects(example)
    with_database = sorted(name for name in helm_schema.SERVICES if name != "gateway")
    jobs = {
        job["metadata"]["name"]: job for job in of_kind(docs, "Job") if job["metadata"]["name"].endswith("-migrate")
    }
    assert sorted(jobs) == [f"{RELEASE}-{name}-migrate" for name in with_database]
    for name in with_database:
        job = jobs[f"{RELEASE}-{name}-migrate"]
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", "qlcb_common.migrations", "upgrade", name]
        assert container["image"] == _container(docs, name)["image"]
        (database_url,) = container["env"]
        assert database_url["name"] == f"QLCB_{name.upper()}_DATABASE_URL"
        assert database_url["valueFrom"]["secretKeyRef"]["key"] == "database-url"
        # Hooks run before the release's objects: nothing but the existing Secret may be needed.
        assert "envFrom" not in container
        assert "serviceAccountName" not in job["spec"]["template"]["spec"]
        policy = named(docs, "NetworkPolicy", f"{RELEASE}-{name}-migrate")
        assert policy["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert policy["spec"]["ingress"] == []
        assert _service_env(docs, name)[f"QLCB_{name.upper()}_MIGRATE_AT_START"] == "false"
    assert "QLCB_GATEWAY_MIGRATE_AT_START" not in _service_env(docs, "gateway")


def test_without_the_migration_jobs_each_service_migrates_at_start() -> None:
    docs = objects("single-node", "migrations.enabled=false")
    assert not [job for job in of_kind(docs, "Job") if job["metadata"]["name"].endswith("-migrate")]
    assert _service_env(docs, "personnel")["QLCB_PERSONNEL_MIGRATE_AT_START"] == "true"


def test_reports_may_reach_the_national_report_system_only_once_its_address_is_set() -> None:
    def egress_ports(*sets: str) -> set[int]:
        return _ports(_policy(objects("single-node", *sets), "reports")["egress"])

    assert 8443 not in egress_ports("networkPolicy.national.port=8443")
    assert 8443 in egress_ports(
        "networkPolicy.national.port=8443", "services.reports.settings.national_url=https://bc.example.gov.vn/api"
    )


def test_the_operators_statistics_forms_are_mounted_into_reports_and_read_at_start() -> None:
    """A corrected layout is a values change: its ConfigMap is mounted where reports' setting points,
    and a change of it rolls reports' pods; without layouts, nothing of it is rendered."""
    sets = (
        r"services.reports.statisticsForms.bm99\.json.form=BM99",
        r"services.reports.statisticsForms.bm99\.json.title=Đảng viên nữ",
    )
    docs = objects("single-node", *sets)
    layouts = named(docs, "ConfigMap", f"{RELEASE}-statistics-forms")["data"]
    assert json.loads(layouts["bm99.json"]) == {"form": "BM99", "title": "Đảng viên nữ"}
    assert _service_env(docs, "reports")["QLCB_REPORTS_STATISTICS_FORMS_DIR"] == "/etc/qlcb/statistics-forms"
    reports = named(docs, "Deployment", f"{RELEASE}-reports")["spec"]["template"]
    (mount,) = [m for m in reports["spec"]["containers"][0]["volumeMounts"] if m["name"] == "statistics-forms"]
    assert (mount["mountPath"], mount["readOnly"]) == ("/etc/qlcb/statistics-forms", True)
    (volume,) = [v for v in reports["spec"]["volumes"] if v["name"] == "statistics-forms"]
    assert volume["configMap"]["name"] == f"{RELEASE}-statistics-forms"
    changed = objects("single-node", sets[0], r"services.reports.statisticsForms.bm99\.json.title=Khác")
    annotations = named(changed, "Deployment", f"{RELEASE}-reports")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/statistics-forms"] != reports["metadata"]["annotations"]["checksum/statistics-forms"]

    plain = objects("single-node")
    assert not [d for d in of_kind(plain, "ConfigMap") if d["metadata"]["name"].endswith("statistics-forms")]
    assert "QLCB_REPORTS_STATISTICS_FORMS_DIR" not in _service_env(plain, "reports")
