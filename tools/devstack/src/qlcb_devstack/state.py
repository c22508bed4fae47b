"""Where devstack keeps downloads, caches and server data."""

import os
from pathlib import Path


def repo_root() -> Path:
    """The monorepo root: the nearest ancestor of this file that holds the Makefile."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "Makefile").is_file():
            return parent
    raise RuntimeError("cannot locate the QLCB repository root (no Makefile above this package); set QLCB_STATE_DIR")


def state_dir() -> Path:
    """`$QLCB_STATE_DIR`, or `<repo root>/.state`; created on first use."""
    configured = os.environ.get("QLCB_STATE_DIR")
    path = Path(configured) if configured else repo_root() / ".state"
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_subdir(*parts: str) -> Path:
    """A directory under `state_dir()`, created on first use."""
    path = state_dir().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine_cache_subdir(*parts: str) -> Path:
    """A directory under `$QLCB_CACHE_DIR`, or `$XDG_CACHE_HOME/qlcb` (`~/.cache/qlcb`), created on
    first use and shared by every clone on the machine, as Go's and Maven's caches are: it holds only
    what is fetched pinned by version and checked by digest, or built from inputs its name holds, so a
    fresh clone (CI's) reuses it instead of fetching and building again."""
    configured = os.environ.get("QLCB_CACHE_DIR")
    if configured:
        root = Path(configured)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qlcb"
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
