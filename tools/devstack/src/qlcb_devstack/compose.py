"""The compose stack's files and checks. deploy/compose/nats.conf is written from
`qlcb_common.events.permissions` (as the devstack's own nats.conf is): one user per service with
its permissions, each password read by nats-server from an environment variable the compose file
requires; `python -m qlcb_devstack compose-nats-config` rewrites it, and a test fails when it
differs from what the permissions say now. `current_compose()` builds the Docker Compose of today,
pinned, for the compose test.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
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


COMPOSE_MODULE = "github.com/docker/compose/v5"
COMPOSE_VERSION = "v5.6.0"
"""Docker Compose as Docker ships it today (the line numbered v2 until 2025, then v5). Its go.mod
excludes modules, so `go install module@version` refuses it: it is built from its own module's
source, as its own main module."""


def current_compose() -> Path:
    """Docker Compose `COMPOSE_VERSION` built from its Go module with the machine's Go, once per
    version and Go, and kept with Go's module and build caches in the machine's cache, which every
    clone shares (a fresh clone, CI's, skips the build; the first takes about a minute)."""
    go = shutil.which("go")
    if go is None:
        raise RuntimeError(f"building Docker Compose {COMPOSE_VERSION} needs Go: install a Go toolchain")
    go_version = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()
    target = machine_cache_subdir("docker-compose", f"{COMPOSE_VERSION}-{go_version}") / "docker-compose"
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
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        downloaded = _go(go, env, work, "mod", "download", "-json", f"{COMPOSE_MODULE}@{COMPOSE_VERSION}")
        source = Path(work) / "src"
        shutil.copytree(json.loads(downloaded)["Dir"], source)
        for path in (source, *source.rglob("*")):
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
        partial = target.with_suffix(f".partial-{os.getpid()}")
        version = f"-X {COMPOSE_MODULE}/internal.Version={COMPOSE_VERSION}"
        _go(go, env, str(source), "build", "-trimpath", "-ldflags", f"-s -w {version}", "-o", str(partial), "./cmd")
    partial.replace(target)
    return target


def _go(go: str, env: dict[str, str], cwd: str, *args: str) -> str:
    result = subprocess.run([go, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"go {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout
