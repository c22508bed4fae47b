"""The devstack really starts and stops each server (no mocks: that is the point)."""

import asyncio
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from qlcb_devstack.jdk import MIN_JAVA_VERSION, find_java, java_version
from qlcb_devstack.keycloak import (
    KEYCLOAK_VERSION,
    KeycloakServer,
    admin_client,
    ensure_keycloak,
    restore_build,
    save_build,
)
from qlcb_devstack.keycloak_extensions import build_extension, extension_folders
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.postgres import PostgresCluster
from qlcb_devstack.probes import http_ok
from qlcb_devstack.procs import ManagedProcess, wait_until


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats")
    yield server
    server.stop()


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(tmp_path / "postgres")
    yield cluster
    cluster.destroy()


@pytest.fixture
def keycloak(tmp_path: Path) -> Iterator[KeycloakServer]:
    server = KeycloakServer(data_dir=tmp_path / "keycloak")
    yield server
    server.stop()


def test_managed_process_stop_kill_and_timeout(tmp_path: Path) -> None:
    proc = ManagedProcess("sleeper", ["sh", "-c", "echo hello; exec sleep 60"], log_dir=tmp_path)
    proc.start()
    wait_until(lambda: "hello" in proc.tail(), timeout=10, what="the greeting", process=proc)
    assert proc.is_running
    assert proc.stop(timeout=5) == -15
    proc.start()
    proc.kill()
    assert not proc.is_running
    assert proc.returncode == -9
    with pytest.raises(TimeoutError, match="never") as excinfo:
        wait_until(lambda: False, timeout=0.3, what="never", interval=0.1, log_path=proc.log_path)
    assert "hello" in str(excinfo.value)


def test_wait_until_fails_fast_when_the_process_exits(tmp_path: Path) -> None:
    proc = ManagedProcess("crasher", ["sh", "-c", "echo boom; exit 3"], log_dir=tmp_path)
    proc.start()
    with pytest.raises(RuntimeError, match="exited with code 3") as excinfo:
        wait_until(lambda: False, timeout=30, what="nothing", process=proc)
    assert "boom" in str(excinfo.value)


def test_find_java_is_new_enough() -> None:
    assert (java_version(find_java()) or 0) >= MIN_JAVA_VERSION


def test_nats_restarts_on_the_same_port_and_store(nats: NatsServer) -> None:
    nats.start()
    nats.wait_ready()
    assert (nats.data_dir / "jetstream").is_dir()
    nats.stop()
    assert not http_ok(nats.health_url)
    nats.start()
    nats.wait_ready()
    assert nats.url == f"nats://127.0.0.1:{nats.port}"
    nats.kill()
    assert not nats.is_running


def test_postgres_cluster_serves_a_new_database(postgres: PostgresCluster) -> None:
    postgres.start()
    postgres.create_database("personnel")
    postgres.create_database("personnel")  # idempotent

    async def query() -> str:
        conn = await asyncpg.connect(postgres.dsn("personnel", driver="postgresql"))
        try:
            return str(await conn.fetchval("SELECT current_database()"))
        finally:
            await conn.close()

    assert asyncio.run(query()) == "personnel"
    assert (postgres.bin_dir / "pg_dump").is_file()
    postgres.stop()
    assert not postgres.is_running
    postgres.start()
    assert postgres.psql("SELECT 1", db="personnel").strip() == "1"
    postgres.destroy()
    assert not postgres.data_dir.exists()


def test_postgres_cluster_runs_with_the_settings_it_was_given(tmp_path: Path) -> None:
    """The benchmarks size their cluster as a server would be (`bench.server.SERVER_SIZED`)."""
    cluster = PostgresCluster(tmp_path / "postgres", settings={"shared_buffers": "160MB", "work_mem": "12MB"})
    try:
        cluster.start()
        assert cluster.psql("SHOW shared_buffers").strip() == "160MB"
        assert cluster.psql("SHOW work_mem").strip() == "12MB", "a setting given replaces devstack's own"
        assert cluster.psql("SHOW fsync").strip() == "off", "devstack's other settings stay"
    finally:
        cluster.destroy()


def test_keycloak_rejects_a_tarball_with_the_wrong_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QLCB_STATE_DIR", str(tmp_path))
    tarball = tmp_path / "downloads" / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.tar.gz"
    tarball.parent.mkdir()
    tarball.write_bytes(b"not keycloak")
    with pytest.raises(RuntimeError, match="SHA-256"):
        ensure_keycloak()
    assert not tarball.exists()


def test_keycloak_serves_the_admin_api_and_keeps_its_data(keycloak: KeycloakServer, tmp_path: Path) -> None:
    realm_file = tmp_path / "realm-devstack-test.json"
    realm_file.write_text('{"realm": "devstack-test", "enabled": true}')
    keycloak.realm_files.append(realm_file)
    keycloak.start()
    keycloak.wait_ready()
    realms = {realm["realm"] for realm in admin_client(keycloak).get_realms()}
    assert {"master", "devstack-test"} <= realms
    assert keycloak.apply_realm(realm_file) is False
    assert (keycloak.data_dir / "h2").is_dir()

    keycloak.stop()
    assert not keycloak.process.is_running
    keycloak.start()
    keycloak.wait_ready()  # applies the realm file again: a no-op, the realm is in the H2 store
    assert http_ok(f"{keycloak.base_url}/realms/devstack-test")


def test_keycloak_extensions_build_into_provider_jars(tmp_path: Path) -> None:
    home = ensure_keycloak()
    folder = extension_folders()[0]
    jar = build_extension(folder, home, tmp_path)
    with zipfile.ZipFile(jar) as archive:
        names = set(archive.namelist())
    assert "META-INF/beans.xml" in names
    assert "vn/qlcb/keycloak/AdminRefusalAuditFilter.class" in names
    assert build_extension(folder, home, tmp_path / "again").read_bytes() == jar.read_bytes()


def test_a_keycloak_extension_that_does_not_compile_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "extensions" / "broken"
    source = broken / "src" / "main" / "java" / "Broken.java"
    source.parent.mkdir(parents=True)
    source.write_text("public class Broken { UnknownType field; }\n")
    with pytest.raises(RuntimeError, match=r"(?s)broken failed.*UnknownType"):
        build_extension(broken, ensure_keycloak(), tmp_path / "out")
    assert not (tmp_path / "out" / "qlcb-broken.jar").exists()


def test_an_augmented_keycloak_build_is_kept_for_other_clones_with_its_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keycloak re-augments when a provider jar's modification time differs from the one its build
    recorded: the copy a fresh clone takes from the machine's cache must keep them."""
    monkeypatch.setenv("QLCB_CACHE_DIR", str(tmp_path / "cache"))
    built, fresh = tmp_path / "built", tmp_path / "fresh"
    for home in (built, fresh):
        (home / "lib" / "quarkus").mkdir(parents=True)
        (home / "providers").mkdir()
    (built / "lib" / "quarkus" / "build-system.properties").write_text("kc.provider.file.a.jar.last-modified=1")
    jar = built / "providers" / "qlcb-a.jar"
    jar.write_bytes(b"jar")
    os.utime(jar, ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    (fresh / "providers" / "qlcb-stale.jar").write_bytes(b"old")

    assert restore_build(fresh, "b1") is False, "nothing cached yet"
    save_build(built, "b1")
    save_build(fresh, "b1")  # a second clone finishing later keeps the first one's
    assert restore_build(fresh, "b1") is True
    assert sorted(p.name for p in (fresh / "providers").iterdir()) == ["qlcb-a.jar"]
    assert (fresh / "providers" / "qlcb-a.jar").stat().st_mtime_ns == jar.stat().st_mtime_ns
    properties = fresh / "lib" / "quarkus" / "build-system.properties"
    assert properties.read_text() == "kc.provider.file.a.jar.last-modified=1"
    assert restore_build(fresh, "b2") is False, "another build's inputs"
