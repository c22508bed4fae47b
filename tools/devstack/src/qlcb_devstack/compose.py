"""The compose stack's files and checks. deploy/compose/nats.conf is written from
`qlcb_common.events.permissions` (as the devstack's own nats.conf is): one user per service with
its permissions, each password read by nats-server from an environment variable the compose file
requires; `python -m qlcb_devstack compose-nats-config` rewrites it, and a test fails when it
differs from what the permissions say now. `compose_checker()` builds tests/compose-check, which
loads a compose file as Docker Compose v2 does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from qlcb_common.events.permissions import BUS_USERS, permissions
from qlcb_devstack.state import machine_cache_subdir, repo_root


def nats_config_file() -> Path:
    return repo_root() / "deploy" / "compose" / "nats.conf"


def nats_password_variable(user: str) -> str:
    """The environment variable holding a bus user's password, in the NATS container and in compose."""
    return f"QLCB_NATS_PASSWORD_{user.upper()}"


def nats_config() -> str:
    lines = [
        "# The compose stack's NATS server: JetStream, and a user per service with the permissions of",
        "# qlcb_common.events.permissions. Written by `python -m qlcb_devstack compose-nats-config`;",
        "# do not edit. Each password is an environment variable of the container (unquoted $NAME).",
        "port: 4222",
        "http_port: 8222",
        'jetstream { store_dir: "/data" }',
        "authorization {",
        "  users: [",
    ]
    for user in BUS_USERS:
        granted = permissions(user)
        lines += [
            "    {",
            f"      user: {json.dumps(user)}",
            f"      password: ${nats_password_variable(user)}",
            "      permissions: {",
        ]
        for direction in ("publish", "subscribe"):
            lines.append(f"        {direction}: {{")
            for rule, subjects in granted[direction].items():
                lines.append(f"          {rule}: [")
                lines += [f"            {json.dumps(subject)}" for subject in subjects]
                lines.append("          ]")
            lines.append("        }")
        lines += ["      }", "    }"]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def write_nats_config() -> Path:
    path = nats_config_file()
    path.write_text(nats_config())
    return path


def compose_checker() -> Path:
    """tests/compose-check (compose-go, the loader of Docker Compose v2) built with the machine's
    Go, once per version of its sources and of Go, and kept with Go's module and build caches in the
    machine's cache, which every clone shares (a fresh clone, CI's, skips the build)."""
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("building tests/compose-check needs Go: install a Go toolchain")
    source = repo_root() / "tests" / "compose-check"
    digest = hashlib.sha256()
    for name in ("main.go", "go.mod", "go.sum"):
        digest.update((source / name).read_bytes())
    digest.update(subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.encode())
    target = machine_cache_subdir("compose-check", digest.hexdigest()[:16]) / "compose-check"
    if target.is_file():
        return target
    go_state = machine_cache_subdir("go")
    env = {
        **os.environ,
        "GOMODCACHE": str(go_state / "mod"),
        "GOCACHE": str(go_state / "cache"),
        "GOFLAGS": "-modcacherw",
        "GOTOOLCHAIN": "local",
    }
    partial = target.with_suffix(f".partial-{os.getpid()}")
    result = subprocess.run(
        [go, "build", "-o", str(partial), "."], cwd=source, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"go build of tests/compose-check failed:\n{result.stdout}\n{result.stderr}")
    partial.replace(target)
    return target
