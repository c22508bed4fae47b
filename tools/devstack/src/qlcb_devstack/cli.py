"""Command line: `python -m qlcb_devstack check` proves that all three servers start here."""

import argparse
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from qlcb_devstack.compose import write_nats_config
from qlcb_devstack.docker_engine import DockerEngine
from qlcb_devstack.images import IMAGES, build_all
from qlcb_devstack.keycloak import KeycloakServer, ensure_keycloak
from qlcb_devstack.keycloak_extensions import build_extension, extension_folders
from qlcb_devstack.nats import NatsServer
from qlcb_devstack.postgres import PostgresCluster
from qlcb_devstack.state import state_subdir
from qlcb_devstack.up import run_up


def check() -> int:
    """Start PostgreSQL, NATS and Keycloak in a scratch folder, print their URLs, stop them."""
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="check-", dir=state_subdir("run"))))

        began = time.monotonic()
        postgres = PostgresCluster(scratch / "postgres")
        stack.callback(postgres.destroy)
        postgres.start()
        print(f"postgres  {postgres.dsn()}  ({time.monotonic() - began:.1f}s)")

        began = time.monotonic()
        nats = NatsServer(scratch / "nats")
        stack.callback(nats.stop)
        nats.start()
        nats.wait_ready()
        print(f"nats      {nats.url}  ({time.monotonic() - began:.1f}s)")

        began = time.monotonic()
        keycloak = KeycloakServer(data_dir=scratch / "keycloak")
        stack.callback(keycloak.stop)
        keycloak.start()
        keycloak.wait_ready()
        print(f"keycloak  {keycloak.base_url}  ({time.monotonic() - began:.1f}s)")
    print("all stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qlcb_devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="start and stop PostgreSQL, NATS and Keycloak once")
    up = commands.add_parser("up", help="run the whole system here with demo data until Ctrl+C")
    up.add_argument("--run-dir", type=Path, help="data and logs of this run (default: .state/run, wiped first)")
    up.add_argument(
        "--tls",
        action="store_true",
        help="run gRPC and NATS (both with client certificates) and identity over TLS, from throwaway CAs",
    )
    extensions = commands.add_parser(
        "keycloak-extensions", help="build QLCB's Keycloak provider jars (for a Keycloak image's providers/)"
    )
    extensions.add_argument("--out", type=Path, required=True, help="folder to write the jars to")
    images = commands.add_parser(
        "images", help="build the container images (base image, staged wheels, every Dockerfile), as make images"
    )
    images.add_argument("names", nargs="*", help=f"only these, of {', '.join(IMAGES)}")
    commands.add_parser("compose-nats-config", help="rewrite deploy/compose/nats.conf from the bus permissions")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check()
    if args.command == "up":
        return run_up(args.run_dir, tls=args.tls)
    if args.command == "keycloak-extensions":
        home = ensure_keycloak()
        for folder in extension_folders():
            print(build_extension(folder, home, args.out))
        return 0
    if args.command == "images":
        with DockerEngine(state_subdir("docker")):
            build_all(args.names)
        return 0
    if args.command == "compose-nats-config":
        print(write_nats_config())
        return 0
    parser.error(f"unknown command {args.command}")
    return 2
