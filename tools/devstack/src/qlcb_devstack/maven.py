"""Artifacts from Maven Central, fetched once with `mvn dependency:copy` and checked by SHA-256; Maven's
local repository is the machine's cache (`machine_cache_subdir`), so each clone copies from it."""

import hashlib
import shutil
import subprocess
from pathlib import Path

from qlcb_devstack.state import machine_cache_subdir, state_subdir


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def fetch_artifact(coordinates: str, file_name: str, sha256: str) -> Path:
    """`coordinates` (group:artifact:version[:type]) as `downloads/<file_name>`, verified.

    A file whose digest differs is deleted, so the next call fetches it again.
    """
    downloads = state_subdir("downloads")
    target = downloads / file_name
    if not target.is_file():
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError(f"Maven (mvn) is needed to fetch {coordinates}: apt-get install maven")
        result = subprocess.run(
            [
                mvn,
                "-B",
                "-q",
                "dependency:copy",
                f"-Dartifact={coordinates}",
                f"-DoutputDirectory={downloads}",
                f"-Dmaven.repo.local={machine_cache_subdir('m2')}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not target.is_file():
            raise RuntimeError(f"mvn could not fetch {coordinates}:\n{result.stdout}\n{result.stderr}")
    actual = sha256_of(target)
    if actual != sha256:
        target.unlink()
        raise RuntimeError(f"{file_name} has SHA-256 {actual}, expected {sha256}; deleted it, run again to refetch")
    return target
